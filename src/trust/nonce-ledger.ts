import { randomBytes } from 'node:crypto';

export type NonceRedemption = 'fresh' | 'replayed' | 'unknown';

/** What a verifier asks of its nonce memory: was this nonce issued, and is this its first use? */
export interface NonceRedeemer {
  redeem(nonce: Uint8Array): NonceRedemption;
}

/**
 * The verifier's memory of the nonces it handed out. A quote is fresh only if its nonce
 * was issued here and comes back for the first time: a replayed quote, or one over a
 * nonce the device chose itself, fails. Memory is bounded: the oldest entries go first.
 */
export class NonceLedger implements NonceRedeemer {
  private readonly issued = new Set<string>();
  private readonly redeemed = new Set<string>();

  constructor(
    private readonly opts: { bytes?: number; maxEntries?: number; random?: (n: number) => Buffer } = {},
  ) {}

  issue(): Buffer {
    const nonce = (this.opts.random ?? randomBytes)(this.opts.bytes ?? 16);
    remember(this.issued, nonce.toString('hex'), this.opts.maxEntries);
    return nonce;
  }

  redeem(nonce: Uint8Array): NonceRedemption {
    const key = Buffer.from(nonce).toString('hex');
    if (this.redeemed.has(key)) return 'replayed';
    if (!this.issued.delete(key)) return 'unknown';
    remember(this.redeemed, key, this.opts.maxEntries);
    return 'fresh';
  }
}

function remember(set: Set<string>, key: string, max = 100_000): void {
  set.add(key);
  // A Set iterates in insertion order: the first key is the oldest.
  if (set.size > max) set.delete(set.values().next().value!);
}
