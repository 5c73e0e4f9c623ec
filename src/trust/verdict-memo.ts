import type { DigestedImage } from './image-digester.js';
import { verifyDigestedImage, type ImageVerdict } from './image-verifier.js';
import type { TrustStore } from './trust-store.js';

/** Enough for every distinct image of a scenario; past it the memo starts over, never grows. */
const MAX_ENTRIES_PER_STORE = 256;

/**
 * A run's shared signature checks. A verdict is a pure function of the file's bytes and the
 * trust store (the store's check time is fixed when it is built), so a thousand devices that
 * download the same image with the same store need one CMS parse and one RSA/ECDSA check,
 * not a thousand. The key is the whole file's sha256 and size, which every device computes
 * itself from the bytes it received: a device that got different bytes gets its own verdict.
 * What each device measures into its TPM still comes from its own digests.
 *
 * Owned by one run (no module state): a store is a key by identity, and the run drops the
 * memo with its stores.
 */
export class VerdictMemo {
  private readonly byStore = new Map<TrustStore, Map<string, ImageVerdict>>();
  private hitCount = 0;
  private missCount = 0;

  verify(d: DigestedImage, store: TrustStore): ImageVerdict {
    let verdicts = this.byStore.get(store);
    if (!verdicts) this.byStore.set(store, (verdicts = new Map()));
    const key = `${d.fileSha256.toString('hex')}:${d.size}`;
    const known = verdicts.get(key);
    if (known) {
      this.hitCount++;
      return known;
    }
    this.missCount++;
    const verdict = verifyDigestedImage(d, store);
    if (verdicts.size >= MAX_ENTRIES_PER_STORE) verdicts.clear();
    verdicts.set(key, verdict);
    return verdict;
  }

  /** How many checks were answered from the memo and how many were computed. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.hitCount, misses: this.missCount };
  }
}
