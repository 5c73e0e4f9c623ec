import type { TftpOptions } from './packet.js';

export interface TftpLimits {
  /** Largest blksize the server accepts (RFC 2348 allows up to 65464). */
  maxBlksize: number;
  maxWindowsize: number;
  /** Retransmission wait when the client sends no timeout option. */
  defaultTimeoutMs?: number;
  /**
   * Largest `timeout` option (seconds) the server accepts. RFC 2349 has the OACK echo the
   * client's value exactly, so a larger one is not clamped but left out of the OACK: the
   * default wait applies, as for a client that asked for none.
   */
  maxTimeoutS?: number;
}

export interface TftpTransferParams {
  blksize: number;
  windowsize: number;
  /** Retransmission timeout; RFC 2349 timeout is in seconds. */
  timeoutMs: number;
  /** The OACK to send (empty: the client asked for nothing we honour → DATA 1 directly). */
  oack: TftpOptions;
}

/** A refusal carries its error code: 8 for an impossible option, 3 for a write too large to accept. */
export type Negotiation = { ok: true; params: TftpTransferParams } | { ok: false; option: string; reason: string; code: 3 | 8 };

const DEFAULT_BLKSIZE = 512;
const DEFAULT_TIMEOUT_MS = 1000;

/**
 * RFC 2347/2348/2349/7440 for a read request: known options are answered in the OACK
 * (blksize and windowsize clamped to the server's limits, tsize = the file's size,
 * timeout echoed when within the server's limit, else not acknowledged), unknown ones
 * ignored, impossible values refused (error 8).
 */
export function negotiateRead(requested: TftpOptions, fileSize: number, limits: TftpLimits): Negotiation {
  return negotiate(requested, limits, () => ({ ok: true, value: String(fileSize) }));
}

/**
 * The same for a write request, where tsize is the client's announcement of what it will
 * send (RFC 2349): echoed, or refused with error 3 when it exceeds what the server takes.
 */
export function negotiateWrite(requested: TftpOptions, limits: TftpLimits & { maxBytes: number }): Negotiation {
  return negotiate(requested, limits, (value) =>
    /^\d+$/.test(value) && Number(value) <= limits.maxBytes ? { ok: true, value } : { ok: false, reason: `tsize ${value} exceeds the ${limits.maxBytes}-byte limit for writes` },
  );
}

function negotiate(
  requested: TftpOptions,
  limits: TftpLimits,
  tsize: (value: string) => { ok: true; value: string } | { ok: false; reason: string },
): Negotiation {
  const params: TftpTransferParams = { blksize: DEFAULT_BLKSIZE, windowsize: 1, timeoutMs: limits.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS, oack: [] };
  for (const { name, value } of requested) {
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    switch (name) {
      case 'blksize':
        if (!(n >= 8)) return { ok: false, option: name, reason: `blksize ${value} is below 8`, code: 8 };
        params.blksize = Math.min(n, 65464, limits.maxBlksize);
        params.oack.push({ name, value: String(params.blksize) });
        break;
      case 'windowsize':
        if (!(n >= 1 && n <= 65535)) return { ok: false, option: name, reason: `windowsize ${value} is not 1..65535`, code: 8 };
        params.windowsize = Math.min(n, limits.maxWindowsize);
        params.oack.push({ name, value: String(params.windowsize) });
        break;
      case 'timeout':
        if (!(n >= 1 && n <= 255)) return { ok: false, option: name, reason: `timeout ${value} is not 1..255 seconds`, code: 8 };
        if (n > (limits.maxTimeoutS ?? 255)) break;
        params.timeoutMs = n * 1000;
        params.oack.push({ name, value: String(n) });
        break;
      case 'tsize': {
        const t = tsize(value);
        if (!t.ok) return { ok: false, option: name, reason: t.reason, code: 3 };
        params.oack.push({ name, value: t.value });
        break;
      }
      default:
        break;
    }
  }
  return { ok: true, params };
}
