import { readFile, stat } from 'node:fs/promises';
import { BootlabError, UsageError } from '../errors.js';
import { InputTooLargeError, readBoundedFile } from '../scenario/input-file.js';

const failure = (path: string, flag: string | undefined, err: NodeJS.ErrnoException): BootlabError =>
  new BootlabError('BL_CLI_INPUT', flag ? `${flag} ${path}: ${err.message}` : `cannot read ${path}: ${err.code ?? err.message}`);

/**
 * A file the user named, or a BL_CLI_INPUT error that says which and why: prefixed by the
 * flag it came from (`--key k.pem: …`), or `cannot read PATH: ENOENT` for a positional one.
 */
export async function readInput(path: string, flag?: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw failure(path, flag, e as NodeJS.ErrnoException);
  }
}

/**
 * A text input (PEM, policy or reference-list JSON, nonce): a few KiB, so one over
 * MAX_INPUT_FILE_BYTES is refused before it is held or parsed.
 */
export async function readInputText(path: string, flag?: string): Promise<string> {
  return (await readSmallInput(path, flag)).toString('utf8');
}

/** A small input's bytes (a DER certificate, say), bounded as readInputText is. */
export async function readSmallInput(path: string, flag?: string): Promise<Buffer> {
  try {
    return await readBoundedFile(path);
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new BootlabError('BL_CLI_INPUT', `${flag ? `${flag} ` : ''}${path}: ${e.message}`);
    throw failure(path, flag, e as NodeJS.ErrnoException);
  }
}

/**
 * The file an image command works on must exist and be a file: checked first, so a typo
 * gets one line (`image /nope: no such file`) instead of a failure deep in a reader.
 */
export async function requireInputFile(path: string, what = 'image'): Promise<void> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  });
  if (!s.isFile()) throw new UsageError(`${what} ${path}: not a file`);
}
