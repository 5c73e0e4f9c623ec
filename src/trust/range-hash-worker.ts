import { Worker } from 'node:worker_threads';

export interface RangeHashRequest {
  path: string;
  /** Bytes [start, end) of the file; end past the file's size hashes to its end. */
  start: number;
  end: number;
  algs: ReadonlyArray<'sha1' | 'sha256' | 'sha384'>;
  /** Also the digests of [start, checkpoint): a prefix's hash from the same pass. */
  checkpoint?: number;
}

export interface RangeHashResult {
  digests: Record<string, Buffer>;
  /** At the checkpoint, when the range reached it. */
  atCheckpoint?: Record<string, Buffer>;
  bytes: number;
}

/**
 * Hashes a range of a file on another thread with synchronous reads into one reused
 * buffer: several such workers hash one file on several cores at once, with nothing copied
 * between threads and the event loop left free. Its code is inline (eval) so that it runs
 * the same from dist/ and from sources under test.
 */
export function hashFileRange(req: RangeHashRequest): Promise<RangeHashResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: req });
    let settled = false;
    worker.once('message', (m: { ok: true; digests: Record<string, Uint8Array>; atCheckpoint?: Record<string, Uint8Array>; bytes: number } | { ok: false; message: string }) => {
      settled = true;
      if (!m.ok) return reject(new Error(`hashing ${req.path} [${req.start}, ${req.end}): ${m.message}`));
      const buffers = (r: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.from(v)]));
      resolve({ digests: buffers(m.digests), ...(m.atCheckpoint ? { atCheckpoint: buffers(m.atCheckpoint) } : {}), bytes: m.bytes });
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`hash worker for ${req.path} exited ${code} without an answer`));
    });
  });
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { path, start, end, algs, checkpoint } = workerData;
try {
  const hashes = algs.map((a) => createHash(a));
  const digestAll = (hs) => Object.fromEntries(algs.map((a, i) => [a, hs[i].digest()]));
  let atCheckpoint;
  if (checkpoint === start) atCheckpoint = digestAll(hashes.map((h) => h.copy()));
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(path, 'r');
  let at = start;
  try {
    while (at < end) {
      // Reads stop at the checkpoint, so the prefix digest is taken between two updates.
      const limit = checkpoint !== undefined && at < checkpoint ? Math.min(end, checkpoint) : end;
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, limit - at), at);
      if (n === 0) break;
      const piece = buf.subarray(0, n);
      for (const h of hashes) h.update(piece);
      at += n;
      if (at === checkpoint) atCheckpoint = digestAll(hashes.map((h) => h.copy()));
    }
  } finally {
    fs.closeSync(fd);
  }
  parentPort.postMessage({ ok: true, digests: digestAll(hashes), atCheckpoint, bytes: at - start });
} catch (e) {
  parentPort.postMessage({ ok: false, message: e.message });
}
`;
