import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { decodeEventLog } from '../../src/protocol/tcg/event-log.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario, type RunReport } from '../../src/scenario/run.js';
import { PCR, TAG_REJECTED } from '../../src/device/onie/measured-boot.js';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
let artifacts: string;

beforeAll(async () => {
  artifacts = await mkdtemp(join(tmpdir(), 'bootlab-e2e-'));
});
afterAll(async () => {
  await rm(artifacts, { recursive: true, force: true });
});

async function runShipped(name: string): Promise<{ report: RunReport; events: BusEvent[]; dir: string }> {
  const bus = new EventBus();
  const events = collect(bus);
  const dir = join(artifacts, name);
  const report = await runScenario(await loadScenario(join(repo, 'scenarios', `${name}.yaml`)), { bus, artifactsDir: dir });
  return { report, events, dir };
}

/** Every event the bus carries from now on (the bus itself keeps none). */
function collect(bus: EventBus): BusEvent[] {
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return events;
}

describe('shipped scenarios over real sockets on loopback', () => {
  it('quickstart: the switch leases, fetches via option 114, verifies, measures, installs and attests', async () => {
    const { report, events, dir } = await runShipped('quickstart');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    const device = report.devices[0]!;
    expect(device).toMatchObject({ outcome: 'installed', installedImage: 'demo-nos', attestation: { ok: true }, secret: { released: true } });
    const types = events.filter((e) => e.device === 'switch-1').map((e) => e.type);
    const order = ['dhcp.leased', 'candidate.trying', 'image.fetched', 'image.accepted', 'installer.exited', 'nos.installed', 'attestation.verdict'];
    expect(order.map((t) => types.indexOf(t))).toEqual([...order.map((t) => types.indexOf(t))].sort((a, b) => a - b));
    expect(events.find((e) => e.type === 'candidate.trying')?.data).toMatchObject({ method: 'default-url' });
    // The HTTP server saw ONIE's identity headers.
    const request = events.find((e) => e.type === 'http.request' && (e.data?.['path'] as string) === '/demo-nos.bin');
    expect(request?.data?.['onieHeaders']).toMatchObject({ 'ONIE-SERIAL-NUMBER': 'BL000000001', 'ONIE-OPERATION': 'os-install' });
    // Artifacts: the event log parses, the console shows the installer, the disk holds the NOS.
    const log = decodeEventLog(await readFile(join(dir, 'switch-1', 'eventlog.bin')));
    expect(log.ok).toBe(true);
    const consoleText = await readFile(join(dir, 'switch-1', 'console.log'), 'utf8');
    expect(consoleText).toMatch(/ONIE: Executing installer: http:\/\/127\.0\.0\.1:\d+\/demo-nos\.bin/);
    expect(consoleText).toMatch(/NOS install successful/);
    expect((await stat(join(dir, 'switch-1', 'sandbox', 'dev', 'vda'))).size).toBeGreaterThan(0);
    for (const f of ['ak.pub.pem', 'quote.msg', 'quote.sig', 'quote.pcrs', 'nonce.hex', 'policy.json']) {
      expect((await stat(join(dir, 'switch-1', f))).size).toBeGreaterThan(0);
    }
  });

  it('tampered-installer: the altered image is rejected and logged, the good one installs from a later candidate', async () => {
    const { report, events, dir } = await runShipped('tampered-installer');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    const device = report.devices[0]!;
    expect(device.rejections).toEqual([expect.objectContaining({ reason: 'payload-checksum' })]);
    expect(device.installedUrl).toMatch(/\/onie-installer-x86_64-accton_as7326_56x\.bin$/);
    expect(events.filter((e) => e.type === 'installer.exited')).toHaveLength(1);
    const log = decodeEventLog(await readFile(join(dir, 'switch-1', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    const rejected = log.value.events.filter((e) => e.pcrIndex === PCR.rejected);
    expect(rejected).toHaveLength(1);
    expect(Buffer.from(rejected[0]!.data).readUInt32LE(0)).toBe(TAG_REJECTED);
    expect(Buffer.from(rejected[0]!.data).toString()).toMatch(/"reason":"payload-checksum"/);
  });

  it('untrusted-signer: nothing runs, every pass refuses the image, attestation fails as expected', async () => {
    const { report, events } = await runShipped('untrusted-signer');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    const device = report.devices[0]!;
    expect(device.outcome).toBe('gave-up');
    expect(device.passes).toBe(2);
    expect(device.attestation?.ok).toBe(false);
    expect(device.secret).toMatchObject({ released: false, detail: expect.stringMatching(/TPM_RC_POLICY_FAIL/) });
    expect(events.some((e) => e.type === 'installer.exited')).toBe(false);
  });

  it('tftp-waterfall: HTTP finds nothing, the TFTP waterfall finds the MAC directory through a lossy server', async () => {
    const { report, events } = await runShipped('tftp-waterfall');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    const device = report.devices[0]!;
    expect(device.installedUrl).toMatch(/^tftp:\/\/127\.0\.0\.1:\d+\/52-54-00-12-34-07\/onie-installer-x86_64-accton_as7326_56x-r0$/);
    expect(events.find((e) => e.type === 'run.faults')?.message).toBe('TFTP: injecting faults: loss 10 %, duplicate 2 %');
    // The twelve inexact HTTP names came first, all missing.
    expect(events.filter((e) => e.type === 'candidate.failed' && /HTTP 404/.test(e.message))).toHaveLength(12);
  });

  it('merkle-mirror: the altered copy is stopped at its first bad chunk, long before its end; the intact copy installs', async () => {
    const { report, events, dir } = await runShipped('merkle-mirror');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    const stopped = events.find((e) => e.type === 'image.stopped');
    expect(stopped?.data).toMatchObject({ reason: 'bad-chunk', chunk: 1 });
    // Chunk 1 ends at 2 MiB; the image is 48 MiB. At most one more socket read may have arrived.
    expect(stopped?.data?.['received'] as number).toBeLessThan(3 << 20);
    const consoleText = await readFile(join(dir, 'switch-1', 'console.log'), 'utf8');
    expect(consoleText).toMatch(/\.merkle: 49 chunks of 1048576 bytes, signed by "CN=bootlab NOS vendor image signer \(TEST ONLY\)"/);
    // The refusal is in the event log like any other.
    const log = decodeEventLog(await readFile(join(dir, 'switch-1', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    expect(log.value.events.filter((e) => e.pcrIndex === PCR.rejected).map((e) => Buffer.from(e.data).subarray(8).toString())).toEqual([expect.stringMatching(/"reason":"bad-chunk"/)]);
  });

  it('dual-signer: the image without the operator countersignature is refused; PCR 7 records both authorities of the one that installs', async () => {
    const { report, events, dir } = await runShipped('dual-signer');
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    expect(events.find((e) => e.type === 'image.accepted')?.data).toMatchObject({ rule: 'dual-signer', countersigner: 'CN=bootlab operator countersigner (TEST ONLY)' });
    const log = decodeEventLog(await readFile(join(dir, 'switch-1', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    const authorities = log.value.events.filter((e) => e.pcrIndex === PCR.secureBoot && e.eventType === 0x800000e0);
    expect(authorities.map((e) => Buffer.from(e.data).includes(Buffer.from('OperatorDb', 'utf16le')))).toEqual([false, true]);
    expect(Buffer.from(authorities[1]!.data).includes(Buffer.from('bootlab operator CA (TEST ONLY)'))).toBe(true);
  });

  it('reference-list: the listed installer attests; a validly signed, unlisted one fails with the stage named', async () => {
    const { report, dir } = await runShipped('reference-list');
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
    const byId = Object.fromEntries(report.devices.map((d) => [d.id, d]));
    expect(byId['switch-1']).toMatchObject({ installedImage: 'demo-nos', attestation: { ok: true }, secret: { released: true } });
    expect(byId['switch-2']).toMatchObject({ installedImage: 'diag', attestation: { ok: false, failed: ['golden.sha256:12', 'reference.stages'] } });
    // The policy a run writes keeps the reference PCR, so the CLI finds the same failure offline.
    const policy = JSON.parse(await readFile(join(dir, 'switch-2', 'policy.json'), 'utf8')) as { referencePcr?: number; golden: Array<{ pcr: number }> };
    expect(policy.referencePcr).toBe(12);
    expect(policy.golden.map((g) => g.pcr)).toEqual([0, 1, 4, 5, 7, 8, 9, 12]);
    const dev = join(dir, 'switch-2');
    const pins = ['--ak', join(dev, 'ak.pub.pem'), '--ek', join(dev, 'ek.pub.pem'), '--trust-dir-policy'];
    const cli = await run('node', [join(repo, 'dist/cli/bin.js'), 'attest', 'verify', dev, ...pins]).catch((e: { code: number; stdout: string }) => e);
    expect(cli).toMatchObject({ code: 1, stdout: expect.stringMatching(/^FAIL reference\.stages +not in the reference list: .*diag\.bin/m) });
  });

  it('the CLI prints the quickstart verdict and exits 0 (npm start runs exactly this)', async () => {
    const { stdout } = await run('node', ['dist/cli/bin.js', 'run', 'scenarios/quickstart.yaml'], { cwd: repo });
    expect(stdout).toMatch(/switch-1 attestation PASS/);
    expect(stdout).toMatch(/quickstart: PASS \(1\/1 devices met their expectations\)/);
  });

  it('the CLI exits 1 and says why when an expectation does not hold', async () => {
    const scenario = join(artifacts, 'wrong-expectation.yaml');
    const text = (await readFile(join(repo, 'scenarios', 'quickstart.yaml'), 'utf8'))
      .replace('source: ../images/demo-nos', `source: ${join(repo, 'images', 'demo-nos')}`)
      .replace('outcome: installed', 'outcome: not-installed')
      .replace('      image: demo-nos\n', '');
    await (await import('node:fs/promises')).writeFile(scenario, text);
    const failure = await run('node', [join(repo, 'dist/cli/bin.js'), 'run', scenario], { cwd: repo }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stdout: string }).stdout).toMatch(/✗ outcome \(expected not-installed, device installed\)/);
  });

  it('the CLI reports a broken scenario with file and line, without a stack trace', async () => {
    const scenario = join(artifacts, 'broken.yaml');
    await (await import('node:fs/promises')).writeFile(scenario, 'name: x\nservers: 3\n');
    const failure = await run('node', [join(repo, 'dist/cli/bin.js'), 'run', scenario], { cwd: repo }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/broken\.yaml:2: servers: /);
    expect((failure as { stderr: string }).stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('dbx in a scenario', () => {
  it('a revoked image (dbx image:NAME) is refused as revoked-digest and ONIE goes on to a good one', async () => {
    const text = `
name: dbx
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes: [{ name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { defaultUrl: "http://{http}/old.bin" } }]
images:
  - { name: old, source: images/diag, publish: [old.bin] }
  - { name: nos, source: images/demo-nos, publish: [onie-installer] }
trust: { db: [db-ca], dbx: ["image:old"] }
devices:
  - { id: s, expect: { outcome: installed, image: nos, rejected: [revoked-digest] } }
`;
    const { parseScenario } = await import('../../src/scenario/load.js');
    const report = await runScenario({ scenario: parseScenario(text, 'dbx.yaml'), file: 'dbx.yaml', baseDir: repo });
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
    expect(report.devices[0]!.rejections[0]?.detail).toMatch(/dbx lists sha256/);
  });
});

describe('image files and trust modes in a scenario', () => {
  const run = async (text: string) => {
    const { parseScenario } = await import('../../src/scenario/load.js');
    return runScenario({ scenario: parseScenario(text, 't.yaml'), file: 't.yaml', baseDir: repo });
  };
  const dhcp = `servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes: [{ name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { defaultUrl: "http://{http}/first.bin" } }]`;

  it('a file that is no image is refused as not-sharch, and ONIE goes on', async () => {
    const report = await run(`
name: broken
${dhcp}
images:
  - { name: broken, file: images/broken/onie-installer.bin, publish: [first.bin] }
  - { name: nos, source: images/demo-nos, publish: [onie-installer] }
trust: { db: [db-ca] }
devices: [{ id: s, expect: { outcome: installed, image: nos, rejected: [not-sharch] } }]
`);
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
  });

  it('allow-list mode installs an unsigned but approved image, attests with the digest as authority; both mode wants a signature too', async () => {
    const images = `images:
  - { name: nos, source: images/demo-nos, signedBy: none, publish: [first.bin] }`;
    const allow = await run(`
name: allow
${dhcp}
${images}
trust: { db: [db-ca], mode: allow-list, approved: ["image:nos"] }
attestation: { goldenImage: nos }
devices: [{ id: s, expect: { outcome: installed, image: nos, attestation: pass } }]
`);
    expect(allow.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
    const both = await run(`
name: both
${dhcp}
${images}
trust: { db: [db-ca], mode: both, approved: ["image:nos"] }
onie: { maxPasses: 1 }
devices: [{ id: s, expect: { outcome: not-installed, rejected: [no-signature] } }]
`);
    expect(both.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
  });
});

describe('chunked Merkle manifests in a scenario', () => {
  const run = async (text: string) => {
    const { parseScenario } = await import('../../src/scenario/load.js');
    const bus = new EventBus();
    const events = collect(bus);
    return { report: await runScenario({ scenario: parseScenario(text, 'm.yaml'), file: 'm.yaml', baseDir: repo }, { bus }), events };
  };
  const dhcp = `servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes: [{ name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { defaultUrl: "http://{http}/first.bin", nextServer: 127.0.0.1 } }]`;

  it('refuses an image without a manifest before reading it, and fetches manifest and image over TFTP from the waterfall', async () => {
    const { report, events } = await run(`
name: manifests
${dhcp}
images:
  - { name: bare, source: images/demo-nos, publish: [first.bin] }
  - name: nos
    source: images/demo-nos
    manifest: { chunkSize: 4096 }
    publishTftp: [52-54-00-12-34-09/onie-installer-x86_64-accton_as7326_56x-r0]
trust: { db: [db-ca], manifest: required }
attestation: { goldenImage: nos }
onie: { maxPasses: 1 }
devices:
  - id: s
    identity: { mac: "52:54:00:12:34:09", machine: accton_as7326_56x }
    expect: { outcome: installed, image: nos, rejected: [no-manifest], attestation: pass }
`);
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
    expect(events.find((e) => e.type === 'image.stopped')?.data).toMatchObject({ reason: 'no-manifest', received: 0 });
    expect(events.find((e) => e.type === 'image.rejected')?.message).toMatch(/no-manifest \(manifest: GET http:\/\/127\.0\.0\.1:\d+\/first\.bin\.merkle: HTTP 404\)$/);
    expect(report.devices[0]!.installedUrl).toMatch(/^tftp:\/\//);
    // Both the manifest and the image came from the TFTP server.
    const served = events.filter((e) => e.type === 'tftp.done').map((e) => String(e.data?.['file']));
    expect(served).toEqual(expect.arrayContaining([expect.stringMatching(/-r0\.merkle$/), expect.stringMatching(/-r0$/)]));
  });
});

describe('a small fleet in one run', () => {
  it('boots three switches at once: distinct leases, each installs, each attests with its own AK', async () => {
    const text = `
name: fleet
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes:
      - name: onie
        match: { vendorClassPrefix: "onie_vendor:" }
        options: { onie: { installerUrl: "http://{http}/nos.bin" } }
    reservations: [{ mac: "52:54:00:00:00:0b", address: 192.0.2.5 }]
images:
  - { name: nos, source: images/demo-nos, publish: [nos.bin] }
trust: { db: [db-ca] }
attestation: { goldenImage: nos }
devices:
  - { id: a, expect: { outcome: installed, image: nos, attestation: pass } }
  - { id: b, identity: { mac: "52:54:00:00:00:0b" }, tpm: { ak: rsa-pss, ek: rsa }, expect: { outcome: installed, image: nos, attestation: pass } }
  - { id: c, identity: { machine: celestica_ds1000, switchAsic: bcm }, expect: { outcome: installed, image: nos, attestation: pass } }
  - { id: d, tpm: { ak: rsa, banks: [sha256, sha384] }, expect: { outcome: installed, image: nos, attestation: pass } }
`;
    const bus = new EventBus();
    const events = collect(bus);
    const { parseScenario } = await import('../../src/scenario/load.js');
    const dir = join(artifacts, 'fleet');
    const report = await runScenario({ scenario: parseScenario(text, 'fleet.yaml'), file: 'fleet.yaml', baseDir: repo }, { bus, artifactsDir: dir });
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok))).toEqual([]);
    const leases = events.filter((e) => e.type === 'dhcp.leased' && e.data?.['kind'] === 'discovery');
    expect(new Set(leases.map((e) => e.data?.['address'])).size).toBe(4);
    // b's MAC has a reservation outside the dynamic range.
    expect(leases.find((e) => e.device === 'b')?.data?.['address']).toBe('192.0.2.5');
    // d allocated sha256 and sha384 only: its log has those banks, and PCR 13's sha384 is the image's.
    const log = decodeEventLog(await readFile(join(dir, 'd', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    expect(log.value.specId.algorithms).toEqual(['sha256', 'sha384']);
    const installer = log.value.events.find((e) => e.pcrIndex === 13)!;
    const image = await readFile(join(dir, '.run', 'nos.bin'));
    expect(Buffer.from(installer.digests.find((x) => x.alg === 'sha384')!.digest).equals(createHash('sha384').update(image).digest())).toBe(true);
    // VIVSO sub-option 1 is ONIE's first exact method.
    expect(events.filter((e) => e.type === 'image.fetched').map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^fetched vivso /)]),
    );
  });
});

describe('a paced fleet', () => {
  it('11: powers on at most powerOn.concurrency devices at once and every one of 40 installs and attests', async () => {
    const devices = Array.from({ length: 40 }, (_, i) => {
      const n = i + 1;
      const mac = `52:54:00:aa:00:${n.toString(16).padStart(2, '0')}`;
      return `  - { id: sw-${n}, identity: { serial: BLP${String(n).padStart(6, '0')}, mac: "${mac}" }, expect: { outcome: installed, image: nos, attestation: pass, secret: released } }`;
    });
    const text = `
name: paced
powerOn: { concurrency: 6 }
servers:
  dhcp:
    pool: { start: 10.20.0.10, end: 10.20.3.250, subnetMask: 255.255.252.0 }
    classes:
      - name: onie
        match: { vendorClassPrefix: "onie_vendor:" }
        options: { defaultUrl: "http://{http}/nos.bin" }
images:
  - { name: nos, source: images/demo-nos, publish: [nos.bin] }
trust: { db: [db-ca] }
attestation: { goldenImage: nos, secret: "k" }
devices:
${devices.join('\n')}
`;
    const bus = new EventBus();
    let on = 0;
    let peak = 0;
    bus.subscribe((e) => {
      if (e.type === 'device.power-on') peak = Math.max(peak, ++on);
      if (e.type === 'device.verdict') on--;
    });
    const { parseScenario } = await import('../../src/scenario/load.js');
    const report = await runScenario({ scenario: parseScenario(text, 'paced.yaml'), file: 'paced.yaml', baseDir: repo }, { bus });
    expect(report.devices.flatMap((d) => d.checks.filter((c) => !c.ok).map((c) => `${d.id}: ${c.what}: ${c.detail}`))).toEqual([]);
    expect(report.devices).toHaveLength(40);
    expect(peak).toBe(6);
  });
});
