import { DecodeError } from '../../errors.js';

/**
 * The one bounds-checked reader every codec uses. Each read names its field so a
 * failure says what was wrong and where (absolute offset from the start of the buffer).
 * Returned byte slices are copies: decoded values never alias a reused socket buffer.
 */
export class ByteReader {
  offset: number;
  readonly end: number;
  /** Made on the first multi-byte read; one per reader, not one per read. */
  private dataView: DataView | undefined;

  constructor(
    readonly buf: Uint8Array,
    readonly protocol: string,
    start = 0,
    end = buf.length,
  ) {
    this.offset = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, field: string): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new DecodeError(this.protocol, 'truncated', this.offset, field, `needs ${n} bytes, ${this.remaining} left`);
    }
  }

  private view(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view().getUint16(this.offset, false);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view().getUint32(this.offset, false);
    this.offset += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view().getBigUint64(this.offset, false);
    this.offset += 8;
    return v;
  }

  u16le(field: string): number {
    this.need(2, field);
    const v = this.view().getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32le(field: string): number {
    this.need(4, field);
    const v = this.view().getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  u64le(field: string): bigint {
    this.need(8, field);
    const v = this.view().getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  /** A copy of the next n bytes. */
  bytes(n: number, field: string): Uint8Array {
    this.need(n, field);
    // A plain Uint8Array copy: Buffer#slice would be a view into a reused socket buffer.
    const out = new Uint8Array(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return out;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.offset += n;
  }

  /** A reader over the next n bytes (absolute offsets are kept); advances past them. */
  sub(n: number, field: string): ByteReader {
    this.need(n, field);
    const r = new ByteReader(this.buf, this.protocol, this.offset, this.offset + n);
    this.offset += n;
    return r;
  }

  /**
   * Throws a DecodeError at `at`. TypeScript narrows after a `never` call only when the
   * reader variable has an explicit type: write `const r: ByteReader = new ByteReader(…)`.
   */
  fail(reason: 'malformed' | 'limit' | 'unsupported', field: string, detail?: string, at = this.offset): never {
    throw new DecodeError(this.protocol, reason, at, field, detail);
  }
}
