import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { acquireLease } from '../../src/net/dhcp4/client.js';
import { getOption, readIpList } from '../../src/protocol/dhcp4/options.js';
import { SeededRandom } from '../../src/random.js';

/**
 * `bootlab serve` behind `bootlab relay` on loopback, no root: the server on 127.0.0.1,
 * the relay on 127.0.0.2 (its giaddr), both answering the sender (--reply-to source),
 * since nothing on loopback hears a broadcast.
 */
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
const children: ChildProcess[] = [];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-relay-e2e-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts a bootlab command; resolves with its first stdout line (which names the bound port). */
function start(args: string[]): Promise<{ child: ChildProcess; lines: string[]; first: string }> {
  const child = spawn('node', [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${lines.join('\n')}${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) {
        clearTimeout(timer);
        resolve({ child, lines, first: line });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${stderr}`)));
  });
}

/** Runs a command that should exit at once; its code and stderr. */
function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn('node', [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

function stopped(child: ChildProcess): Promise<number | null> {
  // 'close', not 'exit': only then has every line the child wrote been read.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  child.kill('SIGTERM');
  return closed;
}

describe('bootlab relay', () => {
  it("gets a client a lease from bootlab serve in the relay's subnet, option 82 echoed up there and stripped on the way down", async () => {
    const config = join(dir, 'serve.yaml');
    await writeFile(config, [
      'dhcp:',
      '  serverId: 127.0.0.1',
      '  range: 192.0.2.50-192.0.2.60',
      '  subnets: [{ subnet: 127.0.0.0/24, range: 127.0.0.100-127.0.0.150, options: { router: [127.0.0.2] } }]',
      '',
    ].join('\n'));
    const serve = await start(['serve', '--config', config, '--bind', '127.0.0.1', '--dhcp-port', '0', '--reply-to', 'source']);
    const serverPort = Number(/DHCP on 127\.0\.0\.1:(\d+)/.exec(serve.first)?.[1]);
    expect(serverPort).toBeGreaterThan(0);
    const relay = await start([
      'relay', '--server', '127.0.0.1', '--upstream-port', String(serverPort), '--listen', '127.0.0.2', '--downstream-port', '0',
      '--circuit-id', 'rack1/leaf1/swp7', '--remote-id', 'leaf1', '--reply-to', 'source',
    ]);
    expect(relay.first).toMatch(/^bootlab relay: DHCP relay on 127\.0\.0\.2:\d+ \(giaddr 127\.0\.0\.2\) to 127\.0\.0\.1:\d+, circuit-id rack1\/leaf1\/swp7 remote-id leaf1, max hops 4/);
    const relayPort = Number(/on 127\.0\.0\.2:(\d+)/.exec(relay.first)?.[1]);

    const lease = await acquireLease({
      server: { address: '127.0.0.2', port: relayPort },
      mac: '52:54:00:12:34:56',
      options: [{ code: 55, data: Uint8Array.of(1, 3) }],
      attempts: 3,
      retryMs: 3000,
      broadcastFlag: false,
      clock: new SimulatedClock(),
      random: new SeededRandom(3),
    });
    // The giaddr's subnet, not the server's own (192.0.2.x), with that subnet's router.
    expect(lease.address).toMatch(/^127\.0\.0\.(1[0-4]\d|150)$/);
    expect(readIpList(getOption(lease.ack, 3)!)).toEqual(['127.0.0.2']);
    expect(getOption(lease.offer, 82)).toBeUndefined();
    expect(getOption(lease.ack, 82)).toBeUndefined();
    expect(lease.ack.giaddr).toBe('127.0.0.2');

    expect(await stopped(relay.child)).toBe(0);
    expect(await stopped(serve.child)).toBe(0);
    const log = relay.lines.join('\n');
    expect(log).toMatch(/relay up DISCOVER 52:54:00:12:34:56 from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(giaddr 127\.0\.0\.2, hops 1, circuit-id rack1\/leaf1\/swp7 remote-id leaf1\)/);
    // The circuit id named on the way down is the one the server echoed back.
    expect(log).toMatch(/relay down ACK 52:54:00:12:34:56 from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+ \(127\.0\.0\.1\d\d\), circuit-id rack1\/leaf1\/swp7, option 82 removed/);
    expect(log).toMatch(/bootlab relay: stopped \(2 up, 2 down, none dropped\)/);
  });

  it('refuses flags it cannot use with one line naming the flag, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--listen', '127.0.0.2'], /^bootlab: relay needs a server: give --server IP \(repeatable\)\n$/],
      [['--server', '127.0.0.1'], /^bootlab: relay needs --listen ADDR/],
      [['--server', '127.0.0.1', '--listen', '0.0.0.0'], /^bootlab: --listen 0\.0\.0\.0: needs a unicast IPv4 address of this host/],
      [['--server', 'dhcp.example', '--listen', '127.0.0.2'], /^bootlab: --server dhcp\.example: not an IPv4 address\n$/],
      [['--server', '127.0.0.1', '--listen', '127.0.0.2', '--max-hops', '17'], /^bootlab: --max-hops 17: expected an integer in 1\.\.16\n$/],
      [['--server', '127.0.0.1', '--listen', '127.0.0.2', '--upstream-port', '70000'], /^bootlab: --upstream-port 70000: expected an integer in 1\.\.65535\n$/],
      [['--server', '127.0.0.1', '--listen', '127.0.0.2', '--reply-to', 'unicast'], /^bootlab: --reply-to unicast: expected broadcast or source\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await runToExit(['relay', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('says which address is taken when its port is in use, exit 3', async () => {
    const { createSocket } = await import('node:dgram');
    const holder = createSocket('udp4');
    const taken = await new Promise<number>((resolve) => holder.bind(0, '127.0.0.2', () => resolve(holder.address().port)));
    const r = await runToExit(['relay', '--server', '127.0.0.1', '--listen', '127.0.0.2', '--downstream-port', String(taken)]);
    holder.close();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`relay: cannot bind 127\\.0\\.0\\.2:${taken}: another process is using it`));
  });
});
