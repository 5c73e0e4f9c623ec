/**
 * Bytes of file data the server holds in memory for all its read transfers. A transfer
 * always gets the block range it must send now (else it could not progress); reading
 * ahead of that is speculative and happens only while the total stays within the limit.
 */
export class ReadAheadBudget {
  private held = 0;

  constructor(readonly limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) throw new RangeError(`TFTP read-ahead budget must be a non-negative integer of bytes, got ${limitBytes}`);
  }

  get heldBytes(): number {
    return this.held;
  }

  /** Takes bytes that are needed now, over the limit if need be. */
  take(bytes: number): void {
    this.held += bytes;
  }

  /** Takes bytes for reading ahead, only if they fit. */
  tryTake(bytes: number): boolean {
    if (this.held + bytes > this.limitBytes) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
