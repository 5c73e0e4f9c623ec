import type { Prng } from './prng.js';

export interface MutateContext {
  maxLen: number;
  /** Tokens worth inserting whole (magic values, option names, markers). */
  dictionary: readonly Uint8Array[];
  /** Another corpus entry, for crossover. */
  other: () => Uint8Array;
}

/** Values that sit on the edges decoders get wrong: zero, one, sign bits, all ones. */
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x40, 0x3f];
const INTERESTING_16 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x00ff, 0x0100, 0x0200, 0x1000, 512, 511, 513];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x0000ffff, 0x00010000, 0x40000000];

type Mutator = (b: Uint8Array, r: Prng, ctx: MutateContext) => Uint8Array;

const MUTATORS: Mutator[] = [
  // flip a bit
  (b, r) => {
    if (b.length === 0) return Uint8Array.of(r.byte());
    const c = Uint8Array.from(b);
    c[r.below(c.length)]! ^= 1 << r.below(8);
    return c;
  },
  // set a byte to a random or interesting value
  (b, r) => {
    if (b.length === 0) return Uint8Array.of(r.byte());
    const c = Uint8Array.from(b);
    c[r.below(c.length)] = r.below(2) === 0 ? r.byte() : INTERESTING_8[r.below(INTERESTING_8.length)]!;
    return c;
  },
  // write an interesting 16- or 32-bit value, either byte order (length fields live here)
  (b, r) => {
    const wide = r.below(2) === 0;
    const width = wide ? 4 : 2;
    if (b.length < width) return b;
    const c = Uint8Array.from(b);
    const at = r.below(c.length - width + 1);
    const v = wide ? INTERESTING_32[r.below(INTERESTING_32.length)]! : INTERESTING_16[r.below(INTERESTING_16.length)]!;
    const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
    const le = r.below(2) === 0;
    if (wide) view.setUint32(at, v >>> 0, le);
    else view.setUint16(at, v, le);
    return c;
  },
  // add or subtract a small delta to a byte or a 16-bit big-endian value
  (b, r) => {
    if (b.length < 2) return b;
    const c = Uint8Array.from(b);
    const at = r.below(c.length - 1);
    const delta = r.below(33) - 16;
    const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
    if (r.below(2) === 0) c[at] = (c[at]! + delta) & 0xff;
    else view.setUint16(at, (view.getUint16(at) + delta) & 0xffff);
    return c;
  },
  // erase a run of bytes
  (b, r) => {
    if (b.length === 0) return b;
    const at = r.below(b.length);
    const n = 1 + r.below(Math.min(b.length - at, r.below(2) === 0 ? 4 : 64));
    return concat(b.subarray(0, at), b.subarray(at + n));
  },
  // insert random bytes or a repeated byte
  (b, r, ctx) => {
    const n = 1 + r.below(r.below(4) === 0 ? 128 : 8);
    if (b.length + n > ctx.maxLen) return b;
    const ins = new Uint8Array(n);
    if (r.below(2) === 0) ins.fill(r.byte());
    else for (let i = 0; i < n; i++) ins[i] = r.byte();
    const at = r.below(b.length + 1);
    return concat(b.subarray(0, at), ins, b.subarray(at));
  },
  // truncate
  (b, r) => (b.length === 0 ? b : b.subarray(0, r.below(b.length))),
  // duplicate a span in place (repeated TLVs, repeated headers)
  (b, r, ctx) => {
    if (b.length === 0) return b;
    const from = r.below(b.length);
    const n = 1 + r.below(Math.min(b.length - from, 600));
    if (b.length + n > ctx.maxLen) return b;
    const at = r.below(b.length + 1);
    return concat(b.subarray(0, at), b.subarray(from, from + n), b.subarray(at));
  },
  // overwrite a span with another span of the same input
  (b, r) => {
    if (b.length < 2) return b;
    const c = Uint8Array.from(b);
    const from = r.below(b.length);
    const to = r.below(b.length);
    const n = 1 + r.below(Math.min(b.length - Math.max(from, to), 32));
    c.set(b.subarray(from, from + n), to);
    return c;
  },
  // a dictionary token inserted or written over
  (b, r, ctx) => {
    if (ctx.dictionary.length === 0) return b;
    const tok = ctx.dictionary[r.below(ctx.dictionary.length)]!;
    const at = r.below(b.length + 1);
    if (r.below(2) === 0 && at + tok.length <= b.length) {
      const c = Uint8Array.from(b);
      c.set(tok, at);
      return c;
    }
    if (b.length + tok.length > ctx.maxLen) return b;
    return concat(b.subarray(0, at), tok, b.subarray(at));
  },
  // crossover: a head of this input and a tail of another
  (b, r, ctx) => {
    const o = ctx.other();
    const head = b.subarray(0, r.below(b.length + 1));
    const tail = o.subarray(r.below(o.length + 1));
    const c = concat(head, tail);
    return c.length > ctx.maxLen ? c.subarray(0, ctx.maxLen) : c;
  },
];

/** One to four stacked mutations of `base` (never modified in place). */
export function mutate(base: Uint8Array, r: Prng, ctx: MutateContext): Uint8Array {
  let b = base;
  for (let n = 1 + r.below(4); n > 0; n--) b = MUTATORS[r.below(MUTATORS.length)]!(b, r, ctx);
  return b === base ? Uint8Array.from(base) : b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
