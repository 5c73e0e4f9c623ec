import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireInterop, waitForLine, type Lab } from '../netns.js';

/**
 * `bootlab serve` as a firmware lab starts it: on a bridge whose only port has no carrier
 * yet (issue 13, finding 1), and bound to the server's unicast address (finding 2), with
 * busybox udhcpc broadcasting its DISCOVERs from another namespace.
 */
const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
let lab: Lab;
let server: ChildProcess | undefined;

beforeAll(async () => {
  await requireInterop(['ip', 'busybox']);
  lab = await createLab();
});

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s && s.exitCode === null && s.signalCode === null) {
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGTERM');
    await exited;
  }
});

afterAll(async () => {
  await lab?.destroy();
});

const udhcpc = (ns: string, dev: string): string[] => ['busybox', 'udhcpc', '-i', dev, '-n', '-q', '-t', '4', '-T', '1', '-f', '-s', '/bin/true'];

/** A bridge in its own server namespace, its one port a veth whose peer sits in a client namespace; nothing up yet but the bridge. */
async function bridgeLab(): Promise<{ ns: string; client: string; br: string; port: string; peer: string; net: string; destroy(): Promise<void> }> {
  const tag = randomBytes(3).toString('hex');
  const net = `10.214.${randomInt(1, 250)}`;
  const l = { ns: `bl-bs-${tag}`, client: `bl-bc-${tag}`, br: `blbr${tag}`, port: `blp${tag}`, peer: `blq${tag}`, net };
  const destroy = async () => {
    await ip('netns', 'del', l.ns).catch(() => undefined);
    await ip('netns', 'del', l.client).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', l.ns);
    await ip('netns', 'add', l.client);
    await ip('-n', l.ns, 'link', 'add', l.br, 'type', 'bridge');
    await ip('-n', l.ns, 'link', 'set', l.br, 'up');
    await ip('-n', l.ns, 'link', 'set', 'lo', 'up');
    await ip('-n', l.ns, 'link', 'add', l.port, 'type', 'veth', 'peer', 'name', l.peer, 'netns', l.client);
    await ip('-n', l.ns, 'link', 'set', l.port, 'master', l.br);
    await ip('-n', l.client, 'link', 'set', l.peer, 'up');
  } catch (e) {
    await destroy();
    throw e;
  }
  return { ...l, destroy };
}

describe('bootlab serve in a firmware lab', () => {
  it('starts on a bridge that has no carrier yet, and answers once its port comes up', async () => {
    const b = await bridgeLab();
    try {
      await ip('-n', b.ns, 'addr', 'add', `${b.net}.1/24`, 'dev', b.br);
      await ip('-n', b.ns, 'route', 'add', '255.255.255.255/32', 'dev', b.br);
      const { stdout } = await run('ip', ['-n', b.ns, 'link', 'show', b.br]);
      expect(stdout).toMatch(/NO-CARRIER/);
      server = lab.spawn(b.ns, ['node', bin, 'serve', '--interface', b.br, '--dhcp-range', `${b.net}.100-${b.net}.150`]);
      await waitForLine(server, new RegExp(`bootlab serve: DHCP on 0\\.0\\.0\\.0:67 \\(server id ${b.net.replace(/\./g, '\\.')}\\.1,`), 15_000);
      const acked = waitForLine(server, new RegExp(`DHCP ack \\S+ ${b.net.replace(/\./g, '\\.')}\\.1\\d\\d`), 20_000);
      acked.catch(() => undefined); // awaited below; a failed exchange must not also be an unhandled rejection
      await ip('-n', b.ns, 'link', 'set', b.port, 'up');
      await lab.exec(b.client, udhcpc(b.client, b.peer), 20_000);
      await acked;
    } finally {
      await b.destroy();
    }
  });

  it('waits, with a line saying so, for the bridge to get its address', async () => {
    const b = await bridgeLab();
    try {
      server = lab.spawn(b.ns, ['node', bin, 'serve', '--interface', b.br, '--interface-wait', '30s', '--dhcp-range', `${b.net}.100-${b.net}.150`]);
      await waitForLine(server, new RegExp(`--interface ${b.br}: no IPv4 address yet, waiting up to 30s for one`), 15_000);
      await ip('-n', b.ns, 'addr', 'add', `${b.net}.1/24`, 'dev', b.br);
      await waitForLine(server, new RegExp(`bootlab serve: DHCP on .*server id ${b.net.replace(/\./g, '\\.')}\\.1,`), 15_000);
    } finally {
      await b.destroy();
    }
  });

  it('exits with one line naming the interface when its address does not come in time', async () => {
    const b = await bridgeLab();
    try {
      const r = await run('ip', ['netns', 'exec', b.ns, 'node', bin, 'serve', '--interface', b.br, '--interface-wait', '1', '--dhcp-range', `${b.net}.100-${b.net}.150`], { timeout: 20_000 }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr ?? '' }),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`--interface ${b.br}: it has no IPv4 address to serve from after waiting 1s`))]);
    } finally {
      await b.destroy();
    }
  });

  it('with --bind on the unicast address, hears broadcast DISCOVERs and answers from that address', async () => {
    // --server-id too, so that on a build without the fix the only difference is the deaf socket.
    server = lab.spawn(lab.server.ns, ['node', bin, 'serve', '--bind', lab.server.address, '--server-id', lab.server.address, '--dhcp-range', `10.213.${lab.n}.100-10.213.${lab.n}.150`]);
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const esc = lab.server.address.replace(/\./g, '\\.');
    await waitForLine(server, new RegExp(`bootlab serve: DHCP on ${esc}:67 \\(server id ${esc},`), 15_000);
    const acked = waitForLine(server, new RegExp(`DHCP ack \\S+ 10\\.213\\.${lab.n}\\.1\\d\\d`), 20_000);
    acked.catch(() => undefined); // awaited below
    const { stdout, stderr } = await lab.exec(lab.client.ns, udhcpc(lab.client.ns, lab.client.dev), 20_000);
    expect(`${stdout}${stderr}`).toMatch(new RegExp(`lease of 10\\.213\\.${lab.n}\\.1\\d\\d obtained from ${esc}`));
    await acked;
    expect(out).toMatch(new RegExp(`DHCP: ${esc}:67 takes unicasts, 255\\.255\\.255\\.255:67 takes broadcasts`));
  });
});
