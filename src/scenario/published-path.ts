import { lstat, mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Why a name an image is published under (HTTP `publish`, `publishTftp`) cannot stay inside
 * its server's root, or undefined when it can: a relative path of plain parts.
 */
export function publishedNameProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'a published name has no NUL byte';
  if (name.startsWith('/') || name.includes('\\')) return 'a published name is a relative path with "/" between its parts (it stays inside the server root)';
  const parts = name.split('/');
  if (parts.includes('..')) return 'a published name has no ".." part (it stays inside the server root)';
  if (parts.some((p) => p === '' || p === '.')) return 'a published name has no empty or "." part';
  return undefined;
}

/**
 * Makes the directories of `name` below `root` and returns where its file goes, refusing
 * if any part that already exists is a symlink or not a directory, or if the file itself
 * is a symlink: a run directory reused with `--artifacts` may hold anything, and
 * `mkdir -p` and `copyFile` would follow a link out of it.
 */
export async function publishTarget(root: string, name: string): Promise<{ ok: true; path: string } | { ok: false; reason: string }> {
  const problem = publishedNameProblem(name);
  if (problem) return { ok: false, reason: problem };
  let at = await realpath(root);
  const parts = name.split('/');
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const st = await lstat(at).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    const last = i === parts.length - 1;
    if (st?.isSymbolicLink()) return { ok: false, reason: `${at} is a symbolic link: a published file is never written through one` };
    if (last) {
      if (st && !st.isFile()) return { ok: false, reason: `${at} exists and is not a file` };
    } else if (!st) {
      await mkdir(at);
    } else if (!st.isDirectory()) {
      return { ok: false, reason: `${at} exists and is not a directory` };
    }
  }
  return { ok: true, path: at };
}
