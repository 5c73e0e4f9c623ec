import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { TftpErrorCode } from '../../protocol/tftp/packet.js';

/** A path the server may use, or the TFTP error to answer with. */
export type SafePath = { ok: true; path: string } | { ok: false; code: number; message: string };

const ACCESS = { ok: false, code: TftpErrorCode.ACCESS_VIOLATION, message: 'access violation' } as const;
const NOT_FOUND = { ok: false, code: TftpErrorCode.FILE_NOT_FOUND, message: 'file not found' } as const;

/**
 * A requested name as a path relative to a root, or undefined when it could name
 * something outside it: `..` segments, NUL, backslashes (Windows-style clients and
 * traversal tricks). A leading `/` is dropped: clients send `/pxelinux.0` for the root's file.
 */
function relativeName(name: string): string | undefined {
  const clean = name.replace(/^\/+/, '');
  if (clean === '' || name.includes('\0') || name.includes('\\') || clean.split('/').includes('..') || isAbsolute(clean)) return undefined;
  return clean;
}

function inside(rootReal: string, real: string): boolean {
  const rel = relative(rootReal, real);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/** An existing regular file under the (already real) root; symlinks are followed only while they stay inside. */
export async function resolveReadPath(rootReal: string, name: string): Promise<SafePath> {
  const clean = relativeName(name);
  if (clean === undefined) return ACCESS;
  let real: string;
  try {
    real = await realpath(join(rootReal, clean));
  } catch {
    return NOT_FOUND;
  }
  if (!inside(rootReal, real)) return ACCESS;
  if (!(await stat(real)).isFile()) return ACCESS;
  return { ok: true, path: real };
}

/**
 * Where a write may create its file: the parent directory must already exist inside the
 * write directory, and nothing may exist at the name yet (error 6): an upload never
 * replaces what is there.
 */
export async function resolveWritePath(dirReal: string, name: string): Promise<SafePath> {
  const clean = relativeName(name);
  if (clean === undefined || clean.endsWith('/')) return ACCESS;
  let parent: string;
  try {
    parent = await realpath(join(dirReal, dirname(clean)));
  } catch {
    return ACCESS;
  }
  if (!inside(dirReal, parent) || !(await stat(parent)).isDirectory()) return ACCESS;
  const path = join(parent, basename(clean));
  const exists = await lstat(path).then(
    () => true,
    () => false,
  );
  if (exists) return { ok: false, code: TftpErrorCode.FILE_EXISTS, message: 'file already exists' };
  return { ok: true, path };
}
