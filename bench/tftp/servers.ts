import { execFile, type ChildProcess } from 'node:child_process';
import { access, chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitForLine, type Lab } from '../../test/interop/netns.js';

/** A TFTP server the benchmark starts in the lab's server namespace, on port 69. */
export interface TftpBenchServer {
  name: string;
  start(lab: Lab, root: string): Promise<ChildProcess>;
}

const run = promisify(execFile);

/**
 * atftpd without installing it: its package conflicts with tftpd-hpa (both are the system's
 * TFTP server), so its .deb is fetched with `apt-get download` and unpacked into `cache`,
 * once; the binary runs from there against the libraries already installed. `given` (a path
 * to an atftpd binary) skips all of that.
 */
export async function atftpdBinary(cache: string, given?: string): Promise<string> {
  if (given) {
    await access(given).catch(() => {
      throw new Error(`--atftpd ${given}: no such file`);
    });
    return given;
  }
  const bin = join(cache, 'root/usr/sbin/atftpd');
  if (await access(bin).then(() => true, () => false)) return bin;
  await mkdir(cache, { recursive: true });
  try {
    await run('apt-get', ['download', 'atftpd'], { cwd: cache, timeout: 120_000 });
    const deb = (await readdir(cache)).find((f) => /^atftpd_.*\.deb$/.test(f));
    if (!deb) throw new Error('apt-get download left no atftpd_*.deb');
    await run('dpkg-deb', ['-x', join(cache, deb), join(cache, 'root')]);
  } catch (e) {
    throw new Error(
      `cannot unpack atftpd into ${cache} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): run apt-get update first, ` +
        'or pass --atftpd PATH to an atftpd binary, or leave it out with --servers',
    );
  }
  return bin;
}

const repo = new URL('../../', import.meta.url).pathname;

/** Waits until something answers on the server's port 69, bounded in tries. */
async function waitForPort(lab: Lab, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it listened`);
    const { stdout } = await lab.exec(lab.server.ns, ['ss', '-Hlun', 'sport', '= :69']);
    if (stdout.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nothing listens on port 69 after 5 s');
}

/** tftpd-hpa and dnsmasq drop root for an unprivileged user, which must be able to read the file. */
async function worldReadable(root: string): Promise<void> {
  await chmod(join(root, '..'), 0o755);
  await chmod(root, 0o755);
  await chmod(join(root, 'bench.bin'), 0o644);
}

export const tftpServers = (atftpd: () => Promise<string>): TftpBenchServer[] => [
  {
    name: 'bootlab',
    async start(lab, root) {
      const child = lab.spawn(lab.server.ns, ['node', join(repo, 'dist/cli/bin.js'), 'serve', '--bind', lab.server.address, '--tftp-root', root, '--tftp-port', '69', '--quiet']);
      await waitForLine(child, /TFTP on/, 10_000);
      return child;
    },
  },
  {
    // The same server without busy polling: each ACK wakes a sleeping thread.
    name: 'bootlab-sleep',
    async start(lab, root) {
      const child = lab.spawn(lab.server.ns, ['node', join(repo, 'dist/cli/bin.js'), 'serve', '--bind', lab.server.address, '--tftp-root', root, '--tftp-port', '69', '--tftp-busy-poll', '0', '--quiet']);
      await waitForLine(child, /TFTP on/, 10_000);
      return child;
    },
  },
  {
    name: 'tftpd-hpa',
    async start(lab, root) {
      await worldReadable(root);
      // -L: foreground; -s: the root is the client's "/".
      const child = lab.spawn(lab.server.ns, ['in.tftpd', '-L', '-a', `${lab.server.address}:69`, '-s', root]);
      await waitForPort(lab, child);
      return child;
    },
  },
  {
    name: 'dnsmasq',
    async start(lab, root) {
      await worldReadable(root);
      const child = lab.spawn(lab.server.ns, [
        'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', `--listen-address=${lab.server.address}`, '--bind-interfaces',
        '--enable-tftp', `--tftp-root=${root}`, '--log-facility=-',
      ]);
      await waitForLine(child, /TFTP root is/, 10_000);
      return child;
    },
  },
  {
    // atftpd 0.8 serves RFC 7440 windowsize: the windowed server the windowed target is about.
    name: 'atftpd',
    async start(lab, root) {
      await worldReadable(root);
      const bin = await atftpd();
      const child = lab.spawn(lab.server.ns, [
        bin, '--daemon', '--no-fork', '--bind-address', lab.server.address, '--port', '69',
        '--user', 'nobody', '--group', 'nogroup', '--logfile', '/dev/null', '--maxthread', '16', root,
      ]);
      await waitForPort(lab, child);
      return child;
    },
  },
];
