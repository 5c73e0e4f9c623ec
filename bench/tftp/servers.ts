import type { ChildProcess } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForLine, type Lab } from '../../test/interop/netns.js';

/** A TFTP server the benchmark starts in the lab's server namespace, on port 69. */
export interface TftpBenchServer {
  name: string;
  /** Its CPU time cannot be read from its pid: tftpd-hpa forks per transfer and never waits for the children. */
  cpuUntracked?: boolean;
  start(lab: Lab, root: string): Promise<ChildProcess>;
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

export const tftpServers: TftpBenchServer[] = [
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
    cpuUntracked: true,
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
];
