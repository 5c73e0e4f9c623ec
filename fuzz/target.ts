import type { Arbitrary } from 'fast-check';
import { BootlabError, DecodeError } from '../src/errors.js';
import type { Result } from '../src/protocol/result.js';

export interface FuzzTarget {
  name: string;
  /** What is driven, for `--list` and the README. */
  about: string;
  /**
   * Checks one input. Throws on a finding (a Violation, or whatever the code under test
   * threw); otherwise returns the outcome's signature, which steers corpus growth.
   */
  check(input: Uint8Array): string | Promise<string>;
  /** Structured inputs fast-check builds (valid packets through the encoders, say). */
  arbitrary?: Arbitrary<Uint8Array>;
  dictionary?: Uint8Array[];
  maxLen?: number;
  /** Corpus directories under fuzz/corpus/ to seed from; default the target's own name. */
  corpus?: string[];
  /** Releases what the target holds open (a server); called once after the run. */
  close?: () => Promise<void>;
}

/** A property the code under test broke; the message says which and how. */
export class Violation extends Error {
  override readonly name = 'Violation';
}

/**
 * The contract every decoder keeps: a Result whose error is a DecodeError at an absolute
 * offset inside the input (`base` when the decoder was handed a slice at that offset).
 * Throwing anything, even a typed error, breaks a Result-returning decoder's promise.
 */
export function expectResult<T>(decode: () => Result<T, DecodeError>, inputLength: number, base = 0): Result<T, DecodeError> {
  const r = decode();
  if (!r.ok) expectDecodeError(r.error, inputLength, base);
  return r;
}

export function expectDecodeError(e: unknown, inputLength: number, base = 0): DecodeError {
  if (!(e instanceof DecodeError)) throw new Violation(`expected a DecodeError, got ${describe(e)}`);
  if (!Number.isInteger(e.offset) || e.offset < base || e.offset > base + inputLength) {
    throw new Violation(`DecodeError offset ${e.offset} is outside [${base}, ${base + inputLength}] (${e.message})`);
  }
  return e;
}

/** For code that throws on bad input: only BootlabErrors may come out of it. */
export function expectTyped<T>(run: () => T): { ok: true; value: T } | { ok: false; error: BootlabError } {
  try {
    return { ok: true, value: run() };
  } catch (e) {
    if (e instanceof BootlabError) return { ok: false, error: e };
    throw new Violation(`threw ${describe(e)}`);
  }
}

/** The outcome signature of a decode: the error's code and field, or "ok" and a shape. */
export function outcome(r: Result<unknown, DecodeError>, shape = ''): string {
  return r.ok ? `ok:${shape}` : `${r.error.code}:${fieldKind(r.error.field)}`;
}

/**
 * A field name without the peer's values in it ("option blksize value", "enterprise 42623
 * data" → "option…value", "enterprise…data"): one outcome per decoder branch, not per input.
 */
export function fieldKind(field: string): string {
  const words = field.replace(/\d+/g, '#').split(' ');
  return words.length > 2 ? `${words[0]}…${words.at(-1)}` : words.join(' ');
}

/**
 * decode(encode(decode(x))) = decode(x): what the decoder accepts, the encoder can write,
 * and reading that back gives the same value. An EncodeError here is a finding too.
 */
export function expectRoundTrip<T>(value: T, encode: (v: T) => Uint8Array, decode: (b: Uint8Array) => Result<T, DecodeError>, what: string): void {
  let wire: Uint8Array;
  try {
    wire = encode(value);
  } catch (e) {
    throw new Violation(`${what}: the decoder accepted a value the encoder refuses: ${describe(e)}`);
  }
  const again = decode(wire);
  if (!again.ok) throw new Violation(`${what}: re-encoded value does not decode: ${again.error.message}`);
  const a = canonical(value);
  const b = canonical(again.value);
  if (a !== b) throw new Violation(`${what}: round trip changed the value:\n  first  ${a.slice(0, 400)}\n  second ${b.slice(0, 400)}`);
}

/** JSON with bytes as hex and bigints as decimal, so Buffer and Uint8Array compare equal. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint8Array) return `hex:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}`;
    // Buffer's toJSON runs before the replacer sees it.
    if (x && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return `hex:${Buffer.from((x as { data: number[] }).data).toString('hex')}`;
    }
    return x;
  });
}

export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `${typeof e}: ${String(e)}`;
}

export const ascii = (...tokens: string[]): Uint8Array[] => tokens.map((t) => Uint8Array.from(Buffer.from(t, 'latin1')));
