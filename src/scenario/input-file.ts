import { open } from 'node:fs/promises';

/**
 * Scenario files, serve configs, policies and PEM files are a few KiB (the largest bundled
 * scenario is under 2 KiB); past this a file is a mistake or an attack, and parsing it
 * would cost far more memory than its size (YAML builds a node per scalar).
 */
export const MAX_INPUT_FILE_BYTES = 4 * 2 ** 20;

export class InputTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes (${maxBytes / 2 ** 20} MiB), the most an input file may hold`);
  }
}

/**
 * Reads a whole file of at most `maxBytes`, refusing a larger one before holding it. The
 * size is taken from the bytes read, not from stat, so a FIFO or /dev/zero is bounded too.
 */
export async function readBoundedFile(path: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw new InputTooLargeError(maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw new InputTooLargeError(maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}
