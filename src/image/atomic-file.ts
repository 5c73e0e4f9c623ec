import { open, rename, rm } from 'node:fs/promises';

/**
 * Writes `path` through a temporary file beside it and renames it into place, so a failed
 * or interrupted write never leaves a half image (and signing in place is safe).
 * `fill` appends chunks in order; the returned byte count is what was written.
 */
export async function writeFileAtomically(
  path: string,
  mode: number,
  fill: (append: (chunk: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<number> {
  const tmp = `${path}.partial-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  let written = 0;
  try {
    await fill(async (chunk) => {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, written + off);
        off += bytesWritten;
      }
      written += chunk.length;
    });
    await fh.close();
    await rename(tmp, path);
    return written;
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
