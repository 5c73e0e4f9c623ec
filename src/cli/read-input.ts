import { readFile } from 'node:fs/promises';
import { BootlabError } from '../errors.js';
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
  try {
    return (await readBoundedFile(path)).toString('utf8');
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new BootlabError('BL_CLI_INPUT', `${flag ? `${flag} ` : ''}${path}: ${e.message}`);
    throw failure(path, flag, e as NodeJS.ErrnoException);
  }
}
