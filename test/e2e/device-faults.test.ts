import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario, type RunReport } from '../../src/scenario/run.js';

const repo = new URL('../../', import.meta.url).pathname;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bootlab-faults-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(file: string, dir: string): Promise<{ report: RunReport; events: BusEvent[] }> {
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const report = await runScenario(await loadScenario(file), { bus, artifactsDir: dir });
  return { report, events };
}

describe('device faults as scenario data', () => {
  it('power-loss: the install is cut at part 2 of 4; the next boot is an install-mode boot that installs again', async () => {
    const dir = join(work, 'power-loss');
    const { report, events } = await run(join(repo, 'scenarios', 'power-loss.yaml'), dir);
    expect(report.ok).toBe(true);
    expect(report.devices.map((d) => [d.id, d.outcome, d.powerLosses])).toEqual([
      ['leaf-01', 'installed', 1],
      ['leaf-02', 'installed', 1],
    ]);
    const mine = events.filter((e) => e.device === 'leaf-01').map((e) => e.type);
    expect(mine.filter((t) => t === 'device.power-on')).toHaveLength(2);
    expect(mine.indexOf('fault.power-loss')).toBeGreaterThan(mine.indexOf('installer.started'));
    expect(mine.lastIndexOf('installer.started')).toBeGreaterThan(mine.indexOf('fault.power-loss'));
    // Cut after part 2 was printed: part 3 never was, in the first boot.
    const output = events.filter((e) => e.device === 'leaf-01' && e.type === 'installer.output').map((e) => e.message);
    expect(output.filter((l) => /part 3 of 4/.test(l))).toHaveLength(1);
    const console = await readFile(join(dir, 'leaf-01', 'console.log'), 'utf8');
    const notices = console.split('\n').filter((l) => l.startsWith('NOTICE: ONIE started in NOS install mode'));
    expect(notices).toHaveLength(2);
    expect(console.indexOf('bootlab: power lost')).toBeLessThan(console.lastIndexOf('NOTICE: ONIE started in NOS install mode'));
    // The second install wrote the whole disk and declared the NOS.
    const disk = await readFile(join(dir, 'leaf-01', 'sandbox', 'dev', 'vda'), 'utf8');
    expect(disk.trim().split('\n')).toHaveLength(4);
    expect(await readFile(join(dir, 'leaf-01', 'sandbox', 'mnt', 'onie-boot', 'grubenv'), 'latin1')).toMatch(/onie_nos_mode=yes/);
    // timing.nosBoot: the NOS's first boot (drawn in 10-30 s) comes before the device counts as installed.
    const up = /bootlab: NOS up after (\d+) ms/.exec(console);
    expect(Number(up![1])).toBeGreaterThanOrEqual(10_000);
    expect(Number(up![1])).toBeLessThanOrEqual(30_000);
    expect(console.indexOf('Rebooting...')).toBeLessThan(console.indexOf('bootlab: NOS up after'));
  });

  it('power lost after the installer set onie-nos-mode: the switch boots its NOS, with no second install', async () => {
    const src = join(work, 'commit-nos');
    await cp(join(repo, 'images', 'slow-disk-nos'), src, { recursive: true });
    const script = join(src, 'install.sh');
    // The same installer, lingering after it has declared the NOS: the power goes then.
    const text = (await readFile(script, 'utf8')).replace('exit 0', 'echo "NOS committed"\nsleep 5\nexit 0');
    await writeFile(script, text);
    await chmod(script, 0o755);
    const scenario = (await readFile(join(repo, 'scenarios', 'power-loss.yaml'), 'utf8'))
      .replace('../images/slow-disk-nos', src)
      .replace('atLine: "part 2 of 4"', 'atLine: "NOS committed"')
      .replace('count: 2', 'count: 1')
      .replace('attestation: pass, ', '');
    const file = join(work, 'commit-nos.yaml');
    await writeFile(file, scenario);
    const { report, events } = await run(file, join(work, 'commit-out'));
    expect(report.devices[0]).toMatchObject({ outcome: 'installed', installedImage: 'slow-disk-nos', powerLosses: 1 });
    expect(report.ok).toBe(true);
    expect(events.filter((e) => e.type === 'installer.started')).toHaveLength(1);
    expect(events.some((e) => e.type === 'device.power-on' && /booting the NOS/.test(e.message))).toBe(true);
  });

  it('server-outage: DHCP silent for 10 s and HTTP refusing for 40 s; the switches keep trying and install once both are back', async () => {
    const { report, events } = await run(join(repo, 'scenarios', 'server-outage.yaml'), join(work, 'server-outage'));
    expect(report.ok).toBe(true);
    const at = (type: string): number => events.find((e) => e.type === type)!.at;
    const firstLease = events.find((e) => e.type === 'dhcp.ack')!.at;
    const firstFetch = events.find((e) => e.type === 'http.request' && (e.data as { status?: number }).status === 200)!.at;
    expect(firstLease).toBeGreaterThan(at('fault.dhcp-up'));
    expect(firstFetch).toBeGreaterThan(at('fault.http-up'));
    // While HTTP was down each switch's fetch was refused, and a pass later it installed.
    const refusedFetches = events.filter((e) => e.type === 'candidate.failed' && /ECONNREFUSED/.test(e.message));
    expect(refusedFetches.length).toBeGreaterThanOrEqual(2);
    expect(report.devices.every((d) => d.outcome === 'installed' && d.passes >= 2)).toBe(true);
  });

  it('installer-hang: the first installer hangs, is killed at onie.installerTimeout, and the next URL in ONIE\'s order installs', async () => {
    const dir = join(work, 'installer-hang');
    const { report, events } = await run(join(repo, 'scenarios', 'installer-hang.yaml'), dir);
    expect(report.ok).toBe(true);
    for (const d of report.devices) {
      expect(d.installerRuns!.map((r) => [r.url.replace(/^http:\/\/[^/]+/, ''), r.verdict])).toEqual([
        ['/hung-installer.bin', 'timed-out'],
        ['/demo-nos.bin', 'exit 0'],
      ]);
    }
    const hung = events.filter((e) => e.type === 'installer.exited' && e.device === 'leaf-01')[0]!;
    expect(hung.message).toMatch(/installer hung: killed by onie\.installerTimeout/);
    const console = await readFile(join(dir, 'leaf-01', 'console.log'), 'utf8');
    expect(console).toMatch(/installer still running after 3000 ms \(onie\.installerTimeout\): killed\nFailure: Unable to install image: http:\/\/[^/]+\/hung-installer\.bin/);
  });
});
