import fc from 'fast-check';
import { encodeUstarHeader, decodeUstarHeader, USTAR_BLOCK, ustarEnd, ustarPadding } from '../../src/protocol/tar/ustar.js';
import { listUstar, UstarReader, type UstarEvent } from '../../src/protocol/tar/ustar-reader.js';
import type { DecodeError } from '../../src/errors.js';
import { Violation, ascii, canonical, expectDecodeError, expectResult, expectTyped, outcome, type FuzzTarget } from '../target.js';

const entryArbitrary = fc.record({
  name: fc.oneof(fc.constantFrom('installer/', 'installer/install.sh', 'a'.repeat(99), `${'p'.repeat(150)}/x`), fc.string({ minLength: 1, maxLength: 20 })),
  size: fc.integer({ min: 0, max: 1100 }),
  type: fc.constantFrom('file' as const, 'dir' as const),
});

/** Archives built by the encoder, so mutation starts from headers whose checksums hold. */
const archiveArbitrary = fc.tuple(fc.array(entryArbitrary, { maxLength: 4 }), fc.boolean()).map(([entries, ended]) => {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    let h: Buffer;
    try {
      h = encodeUstarHeader({ name: e.name, size: e.type === 'dir' ? 0 : e.size, mode: 0o755, mtime: 1_700_000_000, type: e.type });
    } catch {
      continue;
    }
    parts.push(h);
    if (e.type === 'file') parts.push(new Uint8Array(e.size).fill(0x61), ustarPadding(e.size));
  }
  if (ended) parts.push(ustarEnd());
  return Uint8Array.from(Buffer.concat(parts));
});

const DICTIONARY = [...ascii('ustar\0', 'ustar  \0', '00000000000\0', '0000644\0', '77777777777\0', '        '), new Uint8Array(USTAR_BLOCK)];

export const ustar: FuzzTarget = {
  name: 'ustar',
  about: 'listUstar on a whole archive held in memory',
  maxLen: 8 * USTAR_BLOCK,
  arbitrary: archiveArbitrary,
  dictionary: DICTIONARY,
  check(input) {
    const r = expectResult(() => listUstar(input), input.length);
    return outcome(r, String(r.ok ? r.value.length : 0));
  },
};

/** A chunking of `len` bytes that depends only on the input, so a finding replays. */
function chunkSizes(input: Uint8Array): number[] {
  let h = 2166136261;
  for (let i = 0; i < input.length; i += 7) h = Math.imul(h ^ input[i]!, 16777619) >>> 0;
  const sizes: number[] = [];
  for (let left = input.length; left > 0; ) {
    h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
    const n = Math.min(left, 1 + (h % 700));
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

interface StreamOutcome {
  entries: unknown[];
  dataBytes: number;
  ended: boolean;
  error?: DecodeError;
}

function stream(input: Uint8Array, sizes: number[]): StreamOutcome {
  const reader = new UstarReader();
  const out: StreamOutcome = { entries: [], dataBytes: 0, ended: false };
  let at = 0;
  const take = (events: UstarEvent[]): void => {
    for (const e of events) {
      if (e.kind === 'entry') out.entries.push(e.entry);
      else if (e.kind === 'data') out.dataBytes += e.bytes.length;
      else if (e.kind === 'end') out.ended = true;
    }
  };
  const r = expectTyped(() => {
    for (const n of sizes) {
      take(reader.push(input.subarray(at, at + n)));
      at += n;
    }
    reader.finish();
  });
  if (!r.ok) out.error = expectDecodeError(r.error, input.length);
  return out;
}

/**
 * The streaming reader in arbitrary chunkings: the same entries, data and error (at the
 * same absolute offset) as one push of the whole archive; every offset inside the input.
 */
export const ustarStream: FuzzTarget = {
  name: 'ustar-stream',
  about: 'UstarReader fed in input-derived chunk sizes: offsets absolute and in range, and the same events and error as one push',
  maxLen: 8 * USTAR_BLOCK,
  arbitrary: archiveArbitrary,
  dictionary: DICTIONARY,
  check(input) {
    const whole = stream(input, input.length > 0 ? [input.length] : []);
    const chunked = stream(input, chunkSizes(input));
    const sig = (o: StreamOutcome): string => canonical({ ...o, error: o.error && { offset: o.error.offset, field: o.error.field, code: o.error.code } });
    if (sig(whole) !== sig(chunked)) throw new Violation(`chunking changed the outcome:\n  one push ${sig(whole).slice(0, 300)}\n  chunked  ${sig(chunked).slice(0, 300)}`);
    for (const e of whole.entries as Array<{ offset: number }>) {
      if (e.offset < USTAR_BLOCK || e.offset > input.length) throw new Violation(`entry data offset ${e.offset} outside [512, ${input.length}]`);
    }
    return whole.error ? `${whole.error.code}:${whole.error.field}` : `ok:${whole.entries.length}:${whole.ended}`;
  },
};

/** One header block at an absolute position: errors point inside that block. */
export const ustarHeader: FuzzTarget = {
  name: 'ustar-header',
  about: 'decodeUstarHeader on one 512-byte block at a non-zero absolute offset',
  maxLen: USTAR_BLOCK,
  arbitrary: archiveArbitrary.map((a) => a.subarray(0, USTAR_BLOCK)),
  dictionary: DICTIONARY,
  check(input) {
    const block = Buffer.alloc(USTAR_BLOCK);
    block.set(input.subarray(0, USTAR_BLOCK));
    const at = USTAR_BLOCK * (1 + (input.length % 5));
    const r = expectTyped(() => decodeUstarHeader(block, at));
    if (!r.ok) {
      const e = expectDecodeError(r.error, USTAR_BLOCK, at);
      return `${e.code}:${e.field}`;
    }
    if (r.value.offset !== at + USTAR_BLOCK) throw new Violation(`entry offset ${r.value.offset}, expected ${at + USTAR_BLOCK}`);
    return `ok:${r.value.type}`;
  },
};
