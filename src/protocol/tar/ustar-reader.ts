import { DecodeError } from '../../errors.js';
import { err, ok, type Result } from '../result.js';
import { decodeUstarHeader, USTAR_BLOCK, ustarPadding, type UstarEntry, type UstarLimits } from './ustar.js';

export type UstarEvent =
  | { kind: 'entry'; entry: UstarEntry }
  /** Part of the current entry's data: a view of the pushed chunk, valid until the next push. */
  | { kind: 'data'; bytes: Buffer }
  /** The current entry's data is complete. */
  | { kind: 'entry-end' }
  /** The two zero blocks that end the archive. */
  | { kind: 'end' };

export interface UstarReaderLimits {
  maxEntries?: number;
}

type State =
  | { at: 'header' }
  | { at: 'data'; left: number; padding: number; entry: UstarEntry }
  | { at: 'padding'; left: number }
  | { at: 'zero-block' }
  | { at: 'done' };

/**
 * Reads a ustar archive as it streams past, in any chunking, holding at most one header
 * block: a payload of any size is listed or extracted without being held in memory.
 * A malformed header or anything but zeros after the end marker throws DecodeError at
 * its absolute offset.
 */
export class UstarReader {
  private readonly maxEntries: number;
  private state: State = { at: 'header' };
  /** Absolute offset of the next byte pushed (bytes of a partly filled header block included). */
  private position = 0;
  private block = Buffer.alloc(USTAR_BLOCK);
  private blockFill = 0;
  private entries = 0;
  /** An error found after some events of the same push: those are delivered first, then this. */
  private failed: DecodeError | undefined;

  constructor(limits: UstarReaderLimits = {}) {
    this.maxEntries = limits.maxEntries ?? 100_000;
  }

  get ended(): boolean {
    return this.state.at === 'done';
  }

  /**
   * The events this chunk completes. A bad byte throws DecodeError; when events came
   * before it in the same chunk, they are returned and the error is thrown by the next
   * `push` or `finish`, so a consumer sees the same entries however the stream is cut.
   */
  push(chunk: Uint8Array): UstarEvent[] {
    if (this.failed) throw this.failed;
    const events: UstarEvent[] = [];
    try {
      this.consume(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), events);
    } catch (e) {
      if (!(e instanceof DecodeError) || events.length === 0) throw e;
      this.failed = e;
    }
    return events;
  }

  private consume(b: Buffer, events: UstarEvent[]): void {
    let i = 0;
    while (i < b.length) {
      const s = this.state;
      if (s.at === 'done') {
        // Bytes after the end marker: tar pads archives to a record, with zeros only.
        const rest = b.subarray(i);
        const bad = rest.findIndex((x) => x !== 0);
        if (bad >= 0) throw new DecodeError('ustar', 'malformed', this.position + bad, 'end', 'data after the end-of-archive marker');
        this.position += rest.length;
        break;
      }
      if (s.at === 'data' || s.at === 'padding') {
        const n = Math.min(s.left, b.length - i);
        if (s.at === 'data') events.push({ kind: 'data', bytes: b.subarray(i, i + n) });
        i += n;
        this.position += n;
        s.left -= n;
        if (s.left > 0) continue;
        if (s.at === 'data') {
          events.push({ kind: 'entry-end' });
          this.state = s.padding > 0 ? { at: 'padding', left: s.padding } : { at: 'header' };
        } else {
          this.state = { at: 'header' };
        }
        continue;
      }
      const n = Math.min(USTAR_BLOCK - this.blockFill, b.length - i);
      b.copy(this.block, this.blockFill, i, i + n);
      this.blockFill += n;
      i += n;
      // Counted as they arrive, like data bytes: a header cut across pushes must not shift
      // every later offset by the part that came in the earlier push.
      this.position += n;
      if (this.blockFill < USTAR_BLOCK) break;
      this.blockFill = 0;
      this.onBlock(this.position - USTAR_BLOCK, events);
    }
  }

  /** Throws unless the archive ended properly. */
  finish(): void {
    if (this.failed) throw this.failed;
    const s = this.state;
    if (s.at === 'done') return;
    if (s.at === 'data') throw new DecodeError('ustar', 'truncated', s.entry.offset, 'data', `entry ${s.entry.name} needs ${s.entry.size} bytes, ${s.left} are missing`);
    if (s.at === 'zero-block') throw new DecodeError('ustar', 'truncated', this.position - this.blockFill, 'end', 'only one zero block');
    throw new DecodeError('ustar', 'truncated', this.position - this.blockFill, 'header', 'archive ends without two zero blocks');
  }

  private onBlock(at: number, events: UstarEvent[]): void {
    const h = this.block;
    const zero = h.every((x) => x === 0);
    if (this.state.at === 'zero-block') {
      if (!zero) throw new DecodeError('ustar', 'malformed', at, 'end', 'one zero block followed by a header');
      this.state = { at: 'done' };
      events.push({ kind: 'end' });
      return;
    }
    if (zero) {
      this.state = { at: 'zero-block' };
      return;
    }
    if (this.entries >= this.maxEntries) throw new DecodeError('ustar', 'limit', at, 'header', `more than ${this.maxEntries} entries`);
    this.entries++;
    const entry = decodeUstarHeader(h, at);
    events.push({ kind: 'entry', entry });
    const padding = ustarPadding(entry.size).length;
    if (entry.size > 0) {
      this.state = { at: 'data', left: entry.size, padding, entry };
    } else {
      events.push({ kind: 'entry-end' });
      this.state = { at: 'header' };
    }
  }
}

/** Lists the entries of a ustar archive held in memory, checking each header's checksum. */
export function listUstar(buf: Uint8Array, limits: UstarLimits = {}): Result<UstarEntry[], DecodeError> {
  const reader = new UstarReader(limits);
  const entries: UstarEntry[] = [];
  try {
    for (const e of reader.push(buf)) if (e.kind === 'entry') entries.push(e.entry);
    reader.finish();
  } catch (e) {
    if (e instanceof DecodeError) return err(e);
    throw e;
  }
  return ok(entries);
}
