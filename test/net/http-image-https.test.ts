import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { PeerError } from '../../src/errors.js';
import { deviceHttpAgent, downloadImage } from '../../src/net/http-image-client.js';
import { HttpImageServer, type HttpConnectionEvent } from '../../src/net/http-image-server.js';
import { issueCertificate, type KeyPair } from '../../src/trust/test-pki.js';

describe('HTTPS between the image server and devices (issue 12)', () => {
  let dir: string;
  let server: HttpImageServer;
  let base: string;
  let ca: KeyPair;
  let otherCa: KeyPair;
  const connEvents: HttpConnectionEvent[] = [];
  const payload = Buffer.from(Array.from({ length: 500_001 }, (_, i) => (i * 13 + 5) & 0xff));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-https-'));
    await writeFile(join(dir, 'onie-installer'), payload);
    ca = issueCertificate({ subject: 'bootlab HTTPS test CA (TEST ONLY)', ca: true });
    otherCa = issueCertificate({ subject: 'some other CA (TEST ONLY)', ca: true });
    const cert = issueCertificate({ subject: '127.0.0.1 (TEST ONLY)', issuer: ca, serverHosts: ['127.0.0.1'] });
    server = new HttpImageServer({ root: dir, bind: { address: '127.0.0.1', port: 0 }, tls: { cert: cert.certPem, key: cert.keyPem } }, { onConnectionEvent: (e) => connEvents.push(e) });
    base = `https://127.0.0.1:${(await server.start()).port}`;
  });

  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('12: a device fetches over HTTPS when its trust anchors hold the server certificate\'s CA', async () => {
    const to = join(dir, 'got');
    const r = await downloadImage(`${base}/onie-installer`, { headers: {}, to, ca: [ca.certPem] });
    expect(r).toEqual({ status: 200, bytes: payload.length });
    expect((await readFile(to)).equals(payload)).toBe(true);
  });

  it('12: a device fetches over HTTPS on its own agent and the run clock, as in a scenario', async () => {
    const agent = deviceHttpAgent({ ca: [ca.certPem] });
    try {
      const to = join(dir, 'got-agent');
      const r = await downloadImage(`${base}/onie-installer`, { headers: {}, to, ca: [ca.certPem], dispatcher: agent, clock: new ScaledClock(1), timeoutMs: 5000 });
      expect(r.bytes).toBe(payload.length);
    } finally {
      await agent.destroy();
    }
  });

  it('12: refuses a server whose certificate comes from another CA with BL_HTTP_TLS, and leaves no file', async () => {
    const to = join(dir, 'refused');
    const e = await downloadImage(`${base}/onie-installer`, { headers: {}, to, ca: [otherCa.certPem] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerError);
    expect((e as PeerError).code).toBe('BL_HTTP_TLS');
    expect((e as PeerError).message).toMatch(new RegExp(`^GET ${base}/onie-installer: the server's certificate is not trusted, or TLS failed \\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): `));
    expect(existsSync(to)).toBe(false);
  });

  it('refuses https:// without trust anchors, as busybox wget without TLS does', async () => {
    const e = await downloadImage(`${base}/onie-installer`, { headers: {}, to: join(dir, 'x') }).catch((x: unknown) => x);
    expect((e as PeerError).code).toBe('BL_HTTP_SCHEME');
    expect((e as PeerError).message).toContain('needs trust anchors');
  });

  it('answers plain HTTP on the HTTPS port by closing it (a tls drop), and keeps serving HTTPS', async () => {
    const e = await downloadImage(base.replace('https:', 'http:') + '/onie-installer', { headers: {}, to: join(dir, 'plain'), timeoutMs: 5000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerError);
    await expect.poll(() => connEvents.some((c) => c.type === 'http.dropped' && c.reason === 'tls')).toBe(true);
    const r = await downloadImage(`${base}/onie-installer`, { headers: {}, to: join(dir, 'again'), ca: [ca.certPem] });
    expect(r.bytes).toBe(payload.length);
  });
});
