import type { TftpOptions } from './packet.js';

export interface TftpLimits {
  /** Largest blksize the server accepts (RFC 2348 allows up to 65464). */
  maxBlksize: number;
  maxWindowsize: number;
  /** Retransmission wait when the client sends no timeout option. */
  defaultTimeoutMs?: number;
}

export interface TftpTransferParams {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout; RFC 2349 timeout is in seconds. */
  timeoutMs: number;
  /** The OACK to send (empty: the client asked for nothing we honour → DATA 1 directly). */
  oack: TftpOptions;
}

export type Negotiation = { ok: true; params: TftpTransferParams } | { ok: false; option: string; reason: string };

const DEFAULT_BLKSIZE = 512;
const DEFAULT_TIMEOUT_MS = 1000;

/**
 * RFC 2347/2348/2349/7440 for a read request: known options are answered in the OACK
 * (blksize and windowsize clamped to the server's limits, tsize = the file's size,
 * timeout echoed), unknown ones ignored, impossible values refused (error 8).
 */
export function negotiateRead(requested: TftpOptions, fileSize: number, limits: TftpLimits): Negotiation {
  const params: TftpTransferParams = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: limits.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, oack: [] };
  for (const { name, value } of requested) {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    switch (name) {
      case 'blksize':
        if (!(n >= 8)) return { ok: false, option: name, reason: `blksize ${value} is below 8` };
        params.blksize = Math.min(n, 65464, limits.maxBlksize);
        params.oack.push({ name, value: String(params.blksize) });
        break;
      case 'windowsize':
        if (!(n >= 1 && n <= 65535)) return { ok: false, option: name, reason: `windowsize ${value} is not 1..65535` };
        params.windowsize = Math.min(n, limits.maxWindowsize);
        params.oack.push({ name, value: String(params.windowsize) });
        break;
      case 'timeout':
        if (!(n >= 1 && n <= 255)) return { ok: false, option: name, reason: `timeout ${value} is not 1..255 seconds` };
        params.timeoutMs = n * 1000;
        params.oack.push({ name, value: String(n) });
        break;
      case 'tsize':
        params.oack.push({ name, value: String(fileSize) });
        break;
      default:
        break;
    }
  }
  return { ok: true, params };
}
