import { readFile } from 'node:fs/promises';
import { BootlabError } from '../errors.js';

/**
 * A file the user named, or a BL_CLI_INPUT error that says which and why: prefixed by the
 * flag it came from (`--key k.pem: …`), or `cannot read PATH: ENOENT` for a positional one.
 */
export async function readInput(path: string, flag?: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BootlabError('BL_CLI_INPUT', flag ? `${flag} ${path}: ${err.message}` : `cannot read ${path}: ${err.code ?? err.message}`);
  }
}

export async function readInputText(path: string, flag?: string): Promise<string> {
  return (await readInput(path, flag)).toString('utf8');
}
