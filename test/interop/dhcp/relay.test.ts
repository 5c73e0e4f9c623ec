import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRelayLab, requireInterop, waitForLine, type RelayLab } from '../netns.js';

/**
 * A real client (busybox udhcpc, ISC dhclient) gets its lease from dnsmasq through
 * `bootlab relay`, in three namespaces: client ↔ relay ↔ dnsmasq. dnsmasq serves only
 * the relay's downstream subnet, so a lease at all proves it read our giaddr; a domain
 * name it sends only to the tag our circuit id sets proves it read our option 82.
 */
const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
const CIRCUIT_ID = 'rack1/leaf1/swp7';
const RACK_DOMAIN = 'rack1.bootlab.test';
let lab: RelayLab;
let dir: string;
let dnsmasq: ChildProcess;
let dnsmasqLog = '';
let relay: ChildProcess | undefined;
let relayLog = '';

beforeAll(async () => {
  await requireInterop(['ip', 'busybox', 'dhclient', 'dnsmasq']);
  lab = await createRelayLab();
  dir = await mkdtemp(join(tmpdir(), 'bootlab-relay-interop-'));
  await writeFile(join(dir, 'env-hook.sh'), `#!/bin/sh\nenv | sort > "${dir}/env-\${1:-$reason}.txt"\n`);
  await chmod(join(dir, 'env-hook.sh'), 0o755);
  const down = `10.214.${lab.n}`;
  dnsmasq = lab.spawn(lab.server.ns, [
    'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', `--interface=${lab.server.dev}`, '--bind-interfaces',
    // Only the relay's subnet: dnsmasq's own link (10.215.N.0/24) has no range.
    `--dhcp-range=${down}.100,${down}.150,255.255.255.0,10m`,
    `--dhcp-circuitid=set:rack1,${CIRCUIT_ID}`,
    `--dhcp-option=tag:rack1,option:domain-name,${RACK_DOMAIN}`,
    `--dhcp-option=option:router,${lab.relay.down.address}`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, '--no-ping', '--log-facility=-', '--log-dhcp',
  ]);
  dnsmasq.stdout?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
  dnsmasq.stderr?.on('data', (d: Buffer) => (dnsmasqLog += d.toString()));
  await waitForLine(dnsmasq, /DHCP, IP range/, 10_000);
});

afterEach(async () => {
  const r = relay;
  relay = undefined;
  if (r && r.exitCode === null) {
    const closed = new Promise<number | null>((resolve) => r.once('close', resolve));
    r.kill('SIGTERM');
    expect(await closed).toBe(0);
  }
});

afterAll(async () => {
  dnsmasq?.kill('SIGTERM');
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startRelay(...extra: string[]): Promise<void> {
  relayLog = '';
  relay = lab.spawn(lab.relay.ns, ['node', bin, 'relay', '--server', lab.server.address, '--listen', lab.relay.down.address, '--circuit-id', CIRCUIT_ID, '--remote-id', 'leaf1', ...extra]);
  relay.stdout?.on('data', (d: Buffer) => (relayLog += d.toString()));
  relay.stderr?.on('data', (d: Buffer) => (relayLog += d.toString()));
  await waitForLine(relay, /^bootlab relay: DHCP relay on /, 15_000);
}

async function env(name: string): Promise<Record<string, string>> {
  const text = await readFile(join(dir, `env-${name}.txt`), 'utf8');
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const inDownstream = (): RegExp => new RegExp(`^10\\.214\\.${lab.n}\\.(1[0-4]\\d|150)$`);
const context = (): string => `\nrelay:\n${relayLog}\ndnsmasq:\n${dnsmasqLog}`;

describe('bootlab relay between a real client and dnsmasq', () => {
  it("busybox udhcpc gets a lease in the relay's subnet, dnsmasq matches our circuit id, and the client sees no option 82", async () => {
    await startRelay();
    // -O 82: had option 82 reached the client, udhcpc would export it as opt82.
    const argv = ['busybox', 'udhcpc', '-i', lab.client.dev, '-n', '-q', '-t', '5', '-T', '2', '-f', '-s', join(dir, 'env-hook.sh'), '-O', '15', '-O', '82'];
    try {
      await lab.exec(lab.client.ns, argv, 60_000);
    } catch (e) {
      throw new Error(`udhcpc failed: ${e instanceof Error ? e.message : String(e)}${context()}`);
    }
    const vars = await env('bound');
    expect(vars['ip'], context()).toMatch(inDownstream());
    expect(vars['router']).toBe(lab.relay.down.address);
    expect(vars['domain'], context()).toBe(RACK_DOMAIN);
    expect(vars['opt82']).toBeUndefined();
    expect(dnsmasqLog).toMatch(new RegExp(`DHCPACK\\([^)]*\\) 10\\.214\\.${lab.n}\\.\\d+ ${lab.client.mac}`));
    expect(relayLog).toMatch(new RegExp(`relay down ACK ${lab.client.mac} from ${lab.server.address.replace(/\./g, '\\.')}:67 to 255\\.255\\.255\\.255:68 .*circuit-id ${CIRCUIT_ID.replace(/\//g, '\\/')}, option 82 removed`));
  });

  it('ISC dhclient gets a lease through the relay too', async () => {
    await startRelay('-q');
    await writeFile(join(dir, 'dhclient.conf'), 'request subnet-mask, routers, domain-name;\n');
    try {
      await lab.exec(lab.client.ns, [
        'dhclient', '-1', '-v', '-sf', join(dir, 'env-hook.sh'), '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'),
        '-cf', join(dir, 'dhclient.conf'), lab.client.dev,
      ], 60_000);
    } catch (e) {
      throw new Error(`dhclient failed: ${e instanceof Error ? e.message : String(e)}${context()}`);
    }
    const vars = await env('BOUND');
    expect(vars['new_ip_address'], context()).toMatch(inDownstream());
    expect(vars['new_domain_name']).toBe(RACK_DOMAIN);
    await lab.exec(lab.client.ns, ['dhclient', '-x', '-pf', join(dir, 'dhclient.pid')]).catch(() => undefined);
  });

  it('gives nothing to a client whose request already carries option 82 (untrusted circuit), and says so', async () => {
    await startRelay();
    const argv = ['busybox', 'udhcpc', '-i', lab.client.dev, '-n', '-q', '-t', '2', '-T', '1', '-f', '-s', join(dir, 'env-hook.sh'), '-x', '82:0103616263'];
    await expect(lab.exec(lab.client.ns, argv, 30_000)).rejects.toThrow();
    expect(relayLog).toMatch(/relay dropped untrusted-option82: DISCOVER /);
  });
});
