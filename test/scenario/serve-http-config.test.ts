import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { downloadImage } from '../../src/net/http-image-client.js';
import { planServe } from '../../src/scenario/serve-config.js';
import { startServe } from '../../src/scenario/serve.js';
import { publish } from '../../src/scenario/server-events.js';
import { issueCertificate, type KeyPair } from '../../src/trust/test-pki.js';

let dir: string;
let ca: KeyPair;
let server: KeyPair;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-serve-http-'));
  ca = issueCertificate({ subject: 'serve test CA (TEST ONLY)', ca: true });
  server = issueCertificate({ subject: 'serve test server (TEST ONLY)', issuer: ca, serverHosts: ['127.0.0.1'] });
  await writeFile(join(dir, 'server.cert.pem'), server.certPem);
  await writeFile(join(dir, 'server.key.pem'), server.keyPem);
  await writeFile(join(dir, 'other.key.pem'), issueCertificate({ subject: 'x' }).keyPem);
  await writeFile(join(dir, 'not-pem'), 'hello');
  await writeFile(join(dir, 'onie-installer'), Buffer.alloc(4096, 7));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bootlab serve HTTP budgets and TLS (issue 12)', () => {
  it('12: takes the connection budgets from flags', async () => {
    const plan = await planServe({ httpRoot: dir, httpPort: '8080', httpMaxConnections: '100', httpMaxPerClient: '4', httpIdleTimeout: '45s' });
    expect(plan.http).toEqual({ root: dir, bind: { address: '0.0.0.0', port: 8080 }, limits: { maxConnections: 100, maxPerClient: 4, idleTimeoutMs: 45_000 } });
    expect((await planServe({ httpRoot: dir, httpIdleTimeout: '20' })).http?.limits).toEqual({ idleTimeoutMs: 20_000 });
  });

  it('12: takes budgets and TLS files from the config file, paths relative to it', async () => {
    const file = join(dir, 'serve.yaml');
    await writeFile(file, 'http: { root: ., maxPerClient: 3, idleTimeout: 10s, tlsCert: server.cert.pem, tlsKey: server.key.pem }\n');
    const plan = await planServe({ config: file });
    expect(plan.http).toMatchObject({ root: dir, bind: { port: 443 }, limits: { maxPerClient: 3, idleTimeoutMs: 10_000 }, tls: { cert: server.certPem, key: server.keyPem } });
  });

  it('12: rejects a budget that is not a positive integer, naming the flag', async () => {
    await expect(planServe({ httpRoot: dir, httpMaxPerClient: '0' })).rejects.toThrow(/^--http-max-per-client 0: /);
    await expect(planServe({ httpRoot: dir, httpMaxConnections: 'many' })).rejects.toThrow(/^--http-max-connections many: /);
    await expect(planServe({ httpRoot: dir, httpIdleTimeout: 'soon' })).rejects.toThrow(/^--http-idle-timeout soon: expected seconds/);
    // A timer's wait, not a lease: under a second is fine, past 2^31-1 ms is not.
    expect((await planServe({ httpRoot: dir, httpIdleTimeout: '500ms' })).http?.limits).toEqual({ idleTimeoutMs: 500 });
    await expect(planServe({ httpRoot: dir, httpIdleTimeout: '25d' })).rejects.toThrow(/^--http-idle-timeout 25d: at most 2147483647 ms/);
    await expect(planServe({ httpMaxPerClient: '3' })).rejects.toThrow(/--http-max-per-client without --http-root/);
  });

  it('12: says which TLS file is wrong: a missing half, an unreadable file, no PEM, a key of another certificate', async () => {
    const cert = join(dir, 'server.cert.pem');
    await expect(planServe({ httpRoot: dir, httpTlsCert: cert })).rejects.toThrow('--http-tls-cert needs --http-tls-key too');
    await expect(planServe({ httpRoot: dir, httpTlsCert: cert, httpTlsKey: join(dir, 'absent') })).rejects.toThrow(`--http-tls-key ${join(dir, 'absent')}: cannot read: ENOENT`);
    await expect(planServe({ httpRoot: dir, httpTlsCert: join(dir, 'not-pem'), httpTlsKey: join(dir, 'server.key.pem') })).rejects.toThrow(/--http-tls-cert .*not-pem: not a PEM file/);
    await expect(planServe({ httpRoot: dir, httpTlsCert: cert, httpTlsKey: join(dir, 'other.key.pem') })).rejects.toThrow(/--http-tls-cert .* with --http-tls-key .*other\.key\.pem: .*key values mismatch/);
  });

  it('12: serves HTTPS with --http-tls-cert and --http-tls-key, and publishes refused connections', async () => {
    const plan = await planServe({ httpRoot: dir, httpPort: '0', bind: '127.0.0.1', httpTlsCert: join(dir, 'server.cert.pem'), httpTlsKey: join(dir, 'server.key.pem') });
    const bus = new EventBus();
    const seen: BusEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    const serving = await startServe(plan, bus, { exchanges: false });
    try {
      const url = `https://127.0.0.1:${serving.http!.port}/onie-installer`;
      const r = await downloadImage(url, { headers: {}, to: join(dir, 'got'), ca: [ca.certPem] });
      expect(r).toEqual({ status: 200, bytes: 4096 });
      const e = await downloadImage(url.replace('https:', 'http:'), { headers: {}, to: join(dir, 'got2') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      await expect.poll(() => seen.find((x) => x.type === 'http.dropped')?.message).toMatch(/^HTTP dropped tls 127\.0\.0\.1:\d+: /);
    } finally {
      await serving.stop();
    }
  });

  it('12: publishes at most one line a second per kind of refusal, and counts the ones left out', () => {
    const bus = new EventBus();
    const lines: string[] = [];
    bus.subscribe((e) => lines.push(e.message));
    let t = 0;
    const onEvent = publish.httpConnection(bus, () => t);
    const refused = { type: 'http.refused', reason: 'max-per-client', remote: '10.0.0.9:4000', detail: 'connection limit reached (8 from one address)' } as const;
    for (t = 0; t < 1000; t += 10) onEvent(refused);
    onEvent({ type: 'http.dropped', reason: 'idle', remote: '10.0.0.8:4001', detail: 'no byte moved for 30000 ms' });
    t = 1000;
    onEvent(refused);
    expect(lines).toEqual([
      'HTTP refused max-per-client 10.0.0.9:4000: connection limit reached (8 from one address)',
      'HTTP dropped idle 10.0.0.8:4001: no byte moved for 30000 ms',
      'HTTP refused max-per-client 10.0.0.9:4000: connection limit reached (8 from one address) (+99 more like it)',
    ]);
  });
});
