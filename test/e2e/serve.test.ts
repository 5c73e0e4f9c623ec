import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { onieDhcpClientOptions } from '../../src/device/onie/dhcp-client-options.js';
import { onieDiscoVars } from '../../src/device/onie/disco-vars.js';
import { acquireLease } from '../../src/net/dhcp4/client.js';
import { SeededRandom } from '../../src/random.js';
import { kvmIdentity } from '../device/onie/fixtures.js';

const repo = new URL('../../', import.meta.url).pathname;
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Starts `bootlab serve` and resolves with its first line, which names the bound ports. */
function serve(args: string[]): Promise<{ lines: string[]; first: string }> {
  child = spawn('node', [join(repo, 'dist/cli/bin.js'), 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${lines.join('\n')}`)), 10_000);
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) {
        clearTimeout(timer);
        resolve({ lines, first: line });
      }
    });
    child!.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

describe('bootlab serve', () => {
  it('answers an ONIE client with option 114 and serves the installer directory, then stops on SIGTERM', async () => {
    const { lines, first } = await serve([
      '--bind', '127.0.0.1', '--server-id', '127.0.0.1', '--dhcp-port', '0', '--reply-to', 'source',
      '--dhcp-range', '192.0.2.50-192.0.2.60', '--default-url', 'http://127.0.0.1/onie-installer',
      '--http-root', join(repo, 'images'), '--http-port', '0',
      '--tftp-root', join(repo, 'images'), '--tftp-port', '0',
    ]);
    const dhcpPort = Number(/DHCP on 127\.0\.0\.1:(\d+)/.exec(first)?.[1]);
    const httpPort = Number(/HTTP on 127\.0\.0\.1:(\d+)/.exec(first)?.[1]);
    expect(dhcpPort).toBeGreaterThan(0);
    const lease = await acquireLease({
      server: { address: '127.0.0.1', port: dhcpPort },
      mac: kvmIdentity.mac,
      options: onieDhcpClientOptions(kvmIdentity),
      attempts: 2,
      retryMs: 2000,
      clock: new SimulatedClock(),
      random: new SeededRandom(1),
    });
    expect(lease.address).toBe('192.0.2.50');
    expect(onieDiscoVars(lease.ack)['url']).toBe('http://127.0.0.1/onie-installer');
    const tftpPort = Number(/TFTP on 127\.0\.0\.1:(\d+)/.exec(first)?.[1]);
    expect(tftpPort).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${httpPort}/README.md`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    // 'close', not 'exit': only then has every line the child wrote been read.
    const exited = new Promise<number | null>((resolve) => child!.once('close', (code) => resolve(code)));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    const log = lines.join('\n');
    expect(log).toMatch(/DHCP offer 52:54:00:13:34:01 192\.0\.2\.50/);
    expect(log).toMatch(/DHCP ack 52:54:00:13:34:01 192\.0\.2\.50/);
    expect(log).toMatch(/HTTP 127\.0\.0\.1:\d+ GET \/README\.md 200/);
    expect(log).toMatch(/bootlab serve: stopped/);
  });

  it('says which address is taken instead of crashing when its port is in use', async () => {
    const { createSocket } = await import('node:dgram');
    const holder = createSocket('udp4');
    const taken = await new Promise<number>((resolve) => holder.bind(0, '127.0.0.1', () => resolve(holder.address().port)));
    child = spawn('node', [join(repo, 'dist/cli/bin.js'), 'serve', '--bind', '127.0.0.1', '--server-id', '127.0.0.1', '--dhcp-range', '10.0.0.1-10.0.0.5', '--dhcp-port', String(taken)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('close', resolve));
    holder.close();
    // The machine's state, not the input: exit 3 (EnvironmentError), naming the service.
    expect(code).toBe(3);
    expect(stderr).toMatch(new RegExp(`DHCP: cannot bind 127\\.0\\.0\\.1:${taken}: another process is using it; stop it or pick another --dhcp-port`));
  });

  it('refuses to start with nothing to serve, saying what to give', async () => {
    child = spawn('node', [join(repo, 'dist/cli/bin.js'), 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child!.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/nothing to serve: give --dhcp-range, --proxy-dhcp, --dhcp6-range, --ra-prefix, --tftp-root and\/or --http-root/);
  });
});
