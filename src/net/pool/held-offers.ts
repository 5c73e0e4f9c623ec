/**
 * A held offer younger than this is never taken back, even from a full pool: real clients
 * REQUEST within a few seconds of the offer (PXE firmware collects offers for up to 4 s).
 */
export const MIN_OFFER_AGE_TO_TAKE_BACK_MS = 5_000;

/** One offer (a DHCPv4 OFFER, a DHCPv6 ADVERTISE) as it was made: who, which address, until when. */
export interface HeldOffer<A> {
  client: string;
  address: A;
  expiresAt: number;
}

/**
 * Offers in the order they were made, so that a full pool can take back the oldest one
 * that was never requested instead of turning every new client away while a flood of
 * DISCOVERs (or SOLICITs) that never REQUEST holds the whole range. Entries are not removed when an
 * offer is requested, renewed or expires: the caller checks each one it takes against
 * the pool's bindings (`live`) and skips the stale. A compaction whenever stale entries
 * could outnumber live bindings keeps memory linear in the pool, and the cost O(1)
 * amortised per offer.
 */
export class HeldOffers<A> {
  private items: HeldOffer<A>[] = [];
  private head = 0;

  push(offer: HeldOffer<A>, liveBindings: number, live: (o: HeldOffer<A>) => boolean): void {
    this.items.push(offer);
    if (this.items.length - this.head > 2 * liveBindings + 1024) {
      this.items = this.items.slice(this.head).filter(live);
      this.head = 0;
    }
  }

  /** Removes and returns the oldest live offer made at or before `madeBy`; undefined if none. */
  takeOldest(madeBy: (o: HeldOffer<A>) => boolean, live: (o: HeldOffer<A>) => boolean): HeldOffer<A> | undefined {
    while (this.head < this.items.length) {
      const o = this.items[this.head]!;
      if (!live(o)) {
        this.head++;
        continue;
      }
      if (!madeBy(o)) return undefined;
      this.head++;
      return o;
    }
    return undefined;
  }
}
