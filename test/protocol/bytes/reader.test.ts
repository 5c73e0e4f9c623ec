import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { ByteReader } from '../../../src/protocol/bytes/reader.js';
import { catchDecodeError } from '../../../src/protocol/bytes/catch-decode.js';
import { ok } from '../../../src/protocol/result.js';

describe('ByteReader', () => {
  it('returns plain copies, never views into the (possibly reused) input Buffer', () => {
    const socketBuffer = Buffer.from([1, 2, 3, 4]);
    const r = new ByteReader(socketBuffer, 'test');
    r.skip(1, 'first');
    const got = r.bytes(2, 'middle');
    socketBuffer.fill(0);
    expect(got).toEqual(Uint8Array.of(2, 3));
    expect(Buffer.isBuffer(got)).toBe(false);
  });

  it('names the field and the absolute offset when the input runs out', () => {
    const r = new ByteReader(Uint8Array.of(0, 0, 0, 0, 0, 0), 'test');
    const sub = (r.skip(2, 'head'), r.sub(3, 'body'));
    sub.u16('a');
    expect(() => sub.u16('b')).toThrow(expect.objectContaining({ code: 'BL_DECODE_TRUNCATED', offset: 4, field: 'b' }));
  });

  it('reads big- and little-endian integers, 64-bit ones as bigint', () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 9), 'test');
    expect([r.u16('be'), r.u16le('le'), r.u64('u64')]).toEqual([0x0102, 0x0201, 9n]);
  });
});

describe('catchDecodeError', () => {
  it('turns a DecodeError into an error result and lets other errors through', () => {
    const bad = catchDecodeError(() => ok(new ByteReader(new Uint8Array(1), 'test').u32('x')));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toBeInstanceOf(DecodeError);
    expect(() => catchDecodeError(() => {
      throw new TypeError('bug');
    })).toThrow(TypeError);
  });
});
