/**
 * The image server's budgets: what one peer, or a crowd of them, may hold. The defaults
 * keep a legitimate client served while a flood of silent or stalled peers hits a host
 * whose process may open 1,024 files: 256 connections, plus one open image file for each
 * download among them, leave half of that for the run's other servers and devices.
 */
export interface HttpLimits {
  /** Connections held at once; a newcomer past it takes the longest-idle one's slot, or gets 503. */
  maxConnections: number;
  /** Connections from one address; past it a newcomer takes that address's longest-idle slot, or gets 503 (an ONIE device opens at most 2). */
  maxPerClient: number;
  /** No byte moved either way for this long (a silent peer, a client that stopped reading): destroyed. */
  idleTimeoutMs: number;
  /** The request line and headers must be complete within this long (slowloris): 408, then closed. */
  headersTimeoutMs: number;
  /** One response may take this long in all (a client reading a byte now and then): destroyed. */
  responseTimeoutMs: number;
  /** After an error reply, how long the peer has to read it and close before the socket is destroyed. */
  lingerMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxConnections: 256,
  maxPerClient: 8,
  idleTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  responseTimeoutMs: 30 * 60_000,
  lingerMs: 2_000,
});

/** The defaults with `given` on top, each checked: a budget of 0 or a fraction is a mistake, not "off". */
export function resolveHttpLimits(given: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS };
  for (const [name, value] of Object.entries(given) as Array<[keyof HttpLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_HTTP_LIMITS)) throw new TypeError(`HttpImageServer: unknown limit ${name}`);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`HttpImageServer: limits.${name} must be a positive integer, got ${value}`);
    limits[name] = value;
  }
  return limits;
}
