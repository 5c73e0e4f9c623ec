import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLldpFrame, encodeLldpFrame } from '../../../src/protocol/lldp/frame.js';
import { systemNameOf, type Lldpdu } from '../../../src/protocol/lldp/lldpdu.js';
import { createLab, requireInterop, type Lab } from '../netns.js';

/**
 * Issue 16, item 4: our LLDP codec against lldpd, an agent nobody here wrote. lldpd runs in
 * the lab's server namespace; the client namespace is us, reading and writing raw frames
 * through raw-frame.py (Node has no AF_PACKET socket).
 */
const HINT = 'apt-get install -y --no-install-recommends iproute2 lldpd python3-minimal';
const RAW = new URL('./raw-frame.py', import.meta.url).pathname;
let lab: Lab;
let dir: string;
let sock: string;
let lldpd: ChildProcess;
let lldpdLog = '';
let serverMac: string;
const systemName = `bl-lldpd-${process.pid}`;

const lldpcli = (...args: string[]): Promise<{ stdout: string }> => lab.exec(lab.server.ns, ['lldpcli', '-u', sock, ...args], 10_000);

beforeAll(async () => {
  await requireInterop(['ip', 'lldpd', 'lldpcli', 'python3'], HINT);
  lab = await createLab();
  dir = await mkdtemp(join(tmpdir(), 'bootlab-lldp-interop-'));
  // lldpcli is setuid _lldpd: it has to reach the control socket in here.
  await chmod(dir, 0o755);
  sock = join(dir, 'lldpd.socket');
  serverMac = (await lab.exec(lab.server.ns, ['cat', `/sys/class/net/${lab.server.dev}/address`])).stdout.trim();
  // -d: foreground; -u: our own control socket, not the system's; -I: only the lab's veth.
  lldpd = lab.spawn(lab.server.ns, ['lldpd', '-d', '-u', sock, '-I', lab.server.dev]);
  lldpd.stdout?.on('data', (d: Buffer) => (lldpdLog += d.toString()));
  lldpd.stderr?.on('data', (d: Buffer) => (lldpdLog += d.toString()));
  await until('lldpd answering on its control socket', async () => (await lldpcli('show', 'configuration')).stdout.length > 0, 15_000);
  // The namespace shares the host's hostname; name the system, and name ports by ifname.
  await lldpcli('configure', 'system', 'hostname', systemName);
  await lldpcli('configure', 'lldp', 'portidsubtype', 'ifname');
  await lldpcli('configure', 'lldp', 'tx-interval', '1');
}, 60_000);

afterAll(async () => {
  lldpd?.kill('SIGTERM');
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Polls `check` every 200 ms until it holds, at most `ms`; the error says what never happened. */
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}\nlldpd said:\n${lldpdLog}`);
}

/** Every key and string value in lldpcli's JSON, whatever its nesting (it differs across versions). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  }
  return out;
}

describe('LLDP with lldpd', () => {
  it('decodes the LLDPDU lldpd sends: its chassis MAC, ifname port id and system name', async () => {
    const needle = Buffer.from(systemName).toString('hex');
    const { stdout } = await lab.exec(lab.client.ns, ['python3', RAW, 'capture', lab.client.dev, '20', needle], 30_000);
    const r = decodeLldpFrame(Buffer.from(stdout.trim(), 'hex'));
    if (!r.ok) throw r.error;
    expect(r.value.source).toBe(serverMac);
    expect(r.value.lldpdu.chassisId).toEqual({ kind: 'mac', mac: serverMac });
    expect(r.value.lldpdu.portId).toEqual({ kind: 'text', subtype: 'interface-name', text: lab.server.dev });
    expect(systemNameOf(r.value.lldpdu)).toBe(systemName);
    expect(r.value.lldpdu.ttlSeconds).toBeGreaterThan(0);
  });

  it('shows our encoder\'s LLDPDU as a neighbour in lldpcli', async () => {
    const du: Lldpdu = {
      chassisId: { kind: 'mac', mac: lab.client.mac },
      portId: { kind: 'text', subtype: 'interface-name', text: 'swp7' },
      ttlSeconds: 120,
      tlvs: [
        { kind: 'port-description', text: 'bootlab uplink' },
        { kind: 'system-name', text: 'bootlab-leaf1' },
        { kind: 'system-description', text: 'bootlab simulated NOS' },
        { kind: 'system-capabilities', supported: 0x14, enabled: 0x14 },
        { kind: 'management-address', address: { family: 'ipv4', address: '192.0.2.7' }, interfaceNumbering: 'if-index', interfaceNumber: 7, oid: new Uint8Array() },
      ],
    };
    const frame = encodeLldpFrame({ source: lab.client.mac, lldpdu: du }).toString('hex');
    // A few copies, a second apart: lldpd may still be bringing the port up when the first arrives.
    const sender = lab.spawn(lab.client.ns, ['python3', RAW, 'send', lab.client.dev, frame, '20', '0.5']);
    let seen: string[] = [];
    await until(
      'our LLDPDU in `lldpcli show neighbors`',
      async () => {
        seen = strings(JSON.parse((await lldpcli('show', 'neighbors', '-f', 'json')).stdout));
        return seen.includes('bootlab-leaf1');
      },
      15_000,
    ).finally(() => sender.kill());
    expect(seen).toContain(lab.client.mac);
    expect(seen).toContain('swp7');
    expect(seen).toContain('192.0.2.7');
  });
});
