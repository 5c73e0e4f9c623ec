import { createHash, type Hash } from 'node:crypto';
import { DecodeError } from '../errors.js';
import { parseSharchHeader, SHARCH_MAX_HEADER_BYTES, type SharchLayout } from '../protocol/sharch/layout.js';

export interface DigestedImage {
  size: number;
  /** Of the whole file as downloaded: what a TPM measurement records. */
  fileSha256: Buffer;
  /** Unless turned off (nothing needs it: no TPM with a sha1 bank). */
  fileSha1?: Buffer;
  /** Only when asked for (a device with a sha384 PCR bank). */
  fileSha384?: Buffer;
  layout: SharchLayout | null;
  /** Why no layout: the header did not parse. */
  layoutError?: DecodeError;
  /** Of header + payload, the range a SONiC signature covers; absent when the file is shorter. */
  signedSha256?: Buffer;
  /** Of the payload, to compare with the header's payload_sha1; absent when the file is shorter. */
  payloadSha1Actual?: string;
  /** Everything after the signed range (the appended signature), when there is any. */
  signature?: Buffer;
  /** Why `signature` is absent although bytes follow the signed range. */
  signatureError?: DecodeError;
}

export interface DigesterLimits {
  maxHeaderBytes?: number;
  /** Bytes kept after the signed range; a PEM CMS with a short chain is a few KiB. */
  maxSignatureBytes?: number;
  /** Also hash the whole file with sha384, for a sha384 PCR bank. */
  sha384?: boolean;
  /** Hash the whole file with sha1 too (default), for a sha1 PCR bank; verification alone does not need it. */
  sha1?: boolean;
}

export const MAX_SIGNATURE_BYTES = 256 * 1024;

/**
 * Digests a signed installer as it streams past, in one pass and bounded memory: the head
 * is held only until the sharch header parses, the tail only up to maxSignatureBytes. The
 * signed range's sha256 is a copy of the whole-file hash taken at the range's end.
 */
export class SignedImageDigester {
  private readonly maxHeader: number;
  private readonly maxSignature: number;
  private readonly fileSha256: Hash = createHash('sha256');
  private readonly fileSha1: Hash | undefined;
  private readonly fileSha384: Hash | undefined;
  private readonly payloadSha1: Hash = createHash('sha1');
  /** Bytes seen but not yet hashed, while the header is still unknown. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Undefined while undecided; null once the header is known not to parse. */
  private layout: SharchLayout | null | undefined;
  private layoutError: DecodeError | undefined;
  /** Bytes hashed so far (absolute position in the file). */
  private position = 0;
  private signedSha256: Buffer | undefined;
  private tail: Buffer[] = [];
  private tailLength = 0;
  private tailOverflow = false;
  private finished = false;

  constructor(limits: DigesterLimits = {}) {
    this.maxHeader = limits.maxHeaderBytes ?? SHARCH_MAX_HEADER_BYTES;
    this.maxSignature = limits.maxSignatureBytes ?? MAX_SIGNATURE_BYTES;
    if (limits.sha384) this.fileSha384 = createHash('sha384');
    if (limits.sha1 !== false) this.fileSha1 = createHash('sha1');
  }

  write(chunk: Uint8Array): void {
    if (this.finished) throw new Error('SignedImageDigester: write after finish');
    if (chunk.length === 0) return;
    // A view, not a copy: hashing needs none, and what is kept (pending head, tail) is copied there.
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.layout !== undefined) {
      this.consume(b);
      return;
    }
    this.pending.push(Buffer.from(b));
    this.pendingLength += b.length;
    // Only a newline can complete the marker line, so other chunks need no new parse.
    if (b.includes(0x0a) || this.pendingLength >= this.maxHeader) this.tryLayout(false);
  }

  finish(): DigestedImage {
    if (this.finished) throw new Error('SignedImageDigester: finish called twice');
    if (this.layout === undefined) this.tryLayout(true);
    this.finished = true;
    const layout = this.layout ?? null;
    const result: DigestedImage = {
      size: this.position,
      fileSha256: this.fileSha256.digest(),
      ...(this.fileSha1 ? { fileSha1: this.fileSha1.digest() } : {}),
      ...(this.fileSha384 ? { fileSha384: this.fileSha384.digest() } : {}),
      layout,
    };
    if (this.layoutError) result.layoutError = this.layoutError;
    if (layout && this.signedSha256) {
      result.signedSha256 = this.signedSha256;
      result.payloadSha1Actual = this.payloadSha1.digest('hex');
      const end = layout.headerLength + layout.payloadSize;
      if (this.tailOverflow) {
        result.signatureError = new DecodeError('sharch', 'limit', end, 'signature', `more than ${this.maxSignature} bytes follow the payload`);
      } else if (this.tailLength > 0) {
        result.signature = Buffer.concat(this.tail, this.tailLength);
      }
    }
    return result;
  }

  private tryLayout(atEnd: boolean): void {
    const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
    const parsed = parseSharchHeader(head, { maxHeaderBytes: this.maxHeader });
    if (parsed.ok) {
      this.layout = parsed.value;
    } else if (parsed.error.reason === 'truncated' && !atEnd) {
      this.pending = [head];
      return;
    } else {
      this.layout = null;
      this.layoutError = parsed.error;
    }
    this.pending = [];
    this.pendingLength = 0;
    this.consume(head);
  }

  private consume(b: Buffer): void {
    const layout = this.layout;
    if (!layout) {
      this.hashFile(b);
      return;
    }
    const payloadStart = layout.headerLength;
    const signedEnd = payloadStart + layout.payloadSize;
    const start = this.position;
    const end = start + b.length;

    const pFrom = Math.max(start, payloadStart);
    const pTo = Math.min(end, signedEnd);
    if (pFrom < pTo) this.payloadSha1.update(b.subarray(pFrom - start, pTo - start));

    if (start < signedEnd && end >= signedEnd) {
      this.hashFile(b.subarray(0, signedEnd - start));
      this.signedSha256 = this.fileSha256.copy().digest();
      this.hashFile(b.subarray(signedEnd - start));
      this.keepTail(b.subarray(signedEnd - start));
    } else {
      this.hashFile(b);
      if (start >= signedEnd) this.keepTail(b);
    }
  }

  private hashFile(b: Buffer): void {
    if (b.length === 0) return;
    this.fileSha256.update(b);
    this.fileSha1?.update(b);
    this.fileSha384?.update(b);
    this.position += b.length;
  }

  private keepTail(b: Buffer): void {
    if (b.length === 0 || this.tailOverflow) return;
    if (this.tailLength + b.length > this.maxSignature) {
      this.tailOverflow = true;
      this.tail = [];
      return;
    }
    this.tail.push(Buffer.from(b));
    this.tailLength += b.length;
  }
}
