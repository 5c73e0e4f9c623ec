import { open } from 'node:fs/promises';

/** The first `max` bytes of a file (fewer if it is shorter): enough to parse a sharch header. */
export function readFileHead(path: string, max: number): Promise<Buffer> {
  return readFileRange(path, 0, max);
}

/** Up to `length` bytes of a file from `position` (fewer where it ends). */
export async function readFileRange(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
