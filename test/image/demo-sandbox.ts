import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The demo installer's source in the repository. */
export const DEMO_NOS_DIR = resolve(import.meta.dirname, '../../images/demo-nos');
export const PLATFORM = 'x86_64-bootlab_demo_switch-r0';

/**
 * A minimal stand-in for an ONIE root: machine.conf, the two tools the demo installer
 * calls (fakes that log their calls), and the directories it writes into.
 */
export function makeSandbox(root: string, platform = PLATFORM): string {
  for (const d of ['etc', 'bin', 'dev', 'mnt/onie-boot', 'tmp']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/machine.conf'), `onie_machine=bootlab_demo_switch\nonie_platform=${platform}\nonie_arch=x86_64\n`);
  writeFileSync(
    join(root, 'bin/onie-sysinfo'),
    '#!/bin/sh\n[ "$1" = "-p" ] || exit 2\n. "$ONIE_SYSROOT/etc/machine.conf"\necho "$onie_platform"\n',
    { mode: 0o755 },
  );
  writeFileSync(join(root, 'bin/onie-nos-mode'), '#!/bin/sh\necho "onie-nos-mode $*" >> "$ONIE_SYSROOT/tool-calls.log"\n', { mode: 0o755 });
  return root;
}

export interface ShellRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an image the way exec_installer falls back for a non-ELF file: /bin/sh IMAGE. */
export function runImage(image: string, args: string[], root: string, extraEnv: Record<string, string> = {}): ShellRun {
  const r = spawnSync('/bin/sh', [image, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: `${join(root, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: root,
      TMPDIR: join(root, 'tmp'),
      ONIE_SYSROOT: root,
      ...extraEnv,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
