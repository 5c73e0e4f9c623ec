import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

const repo = new URL('../../', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-https-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function scenario(name: string, tls: boolean, url: string): string {
  return `
name: ${name}
clockSpeed: 10
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
    classes: [{ name: onie, match: { vendorClassPrefix: "onie_vendor:" }, options: { defaultUrl: "${url}" } }]
  http: { tls: ${tls} }
images: [{ name: nos, source: ${join(repo, 'images/demo-nos')}, publish: [nos.bin] }]
trust: { db: [db-ca] }
onie: { maxPasses: 1, passDelay: 1s }
devices:
  - id: switch-1
    expect: { outcome: ${tls ? 'installed' : 'not-installed'}, within: 60s }
`;
}

async function run(name: string, text: string): Promise<{ ok: boolean; outcome: string; events: BusEvent[] }> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, text);
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const report = await runScenario(await loadScenario(file), { bus });
  return { ok: report.ok, outcome: report.devices[0]!.outcome, events };
}

describe('scenario servers.http.tls (issue 12)', () => {
  it('12: the run serves HTTPS with a certificate of its own CA, and a device installs over https://', async () => {
    const r = await run('https', scenario('https', true, 'https://{http}/nos.bin'));
    expect(r.events.find((e) => e.type === 'run.servers')?.message).toMatch(/HTTPS on 127\.0\.0\.1:\d+/);
    expect(r.outcome).toBe('installed');
    expect(r.ok).toBe(true);
    expect(r.events.find((e) => e.type === 'http.request' && e.data?.['path'] === '/nos.bin')?.data).toMatchObject({ status: 200 });
  });

  it('refuses https:// on a device of a run without TLS, naming the reason', async () => {
    const r = await run('plain', scenario('plain', false, 'https://{http}/nos.bin'));
    expect(r.outcome).not.toBe('installed');
    expect(JSON.stringify(r.events.filter((e) => e.device === 'switch-1'))).toContain('https:// needs trust anchors');
  });
});
