import { DecodeError, EncodeError } from '../../errors.js';

/**
 * POSIX ustar (IEEE Std 1003.1-1988) headers: enough to write the payload of an installer
 * image and to list one back. Every numeric field is octal ASCII; owner is root (uid/gid 0)
 * so an image is identical whoever builds it.
 */
export const USTAR_BLOCK = 512;

export type UstarType = 'file' | 'dir';

export interface UstarEntryHeader {
  /** Path inside the archive; directories may end with '/', one is added if missing. */
  name: string;
  size: number;
  mode: number;
  /** Seconds since the epoch; the caller chooses it so output is reproducible. */
  mtime: number;
  type: UstarType;
}

export interface UstarEntry {
  name: string;
  size: number;
  type: UstarType | 'other';
  /** The raw typeflag character ('0', '5', '2' for a symlink, …), to name an 'other' entry. */
  typeflag: string;
  /** Permission bits. */
  mode: number;
  /** Absolute offset of the entry's data (the block after its header). */
  offset: number;
}

export interface UstarLimits {
  maxEntries?: number;
}

const NAME_LEN = 100;
const PREFIX_LEN = 155;
/** 11 octal digits: the largest size and mtime a classic ustar field holds. */
const MAX_OCTAL_11 = 0o77777777777;

const F = {
  name: 0,
  mode: 100,
  uid: 108,
  gid: 116,
  size: 124,
  mtime: 136,
  chksum: 148,
  typeflag: 156,
  magic: 257,
  version: 263,
  uname: 265,
  gname: 297,
  devmajor: 329,
  devminor: 337,
  prefix: 345,
} as const;

export function encodeUstarHeader(entry: UstarEntryHeader): Buffer {
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const [prefix, base] = splitName(name);
  if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > MAX_OCTAL_11) {
    throw new EncodeError('ustar', 'size', `${entry.size} does not fit 11 octal digits`);
  }
  if (entry.type === 'dir' && entry.size !== 0) throw new EncodeError('ustar', 'size', 'a directory has no data');
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
    throw new EncodeError('ustar', 'mode', `${entry.mode} is not a permission mode`);
  }
  if (!Number.isInteger(entry.mtime) || entry.mtime < 0 || entry.mtime > MAX_OCTAL_11) {
    throw new EncodeError('ustar', 'mtime', `${entry.mtime} does not fit 11 octal digits`);
  }

  const h = Buffer.alloc(USTAR_BLOCK);
  base.copy(h, F.name);
  writeOctal(h, F.mode, 8, entry.mode);
  writeOctal(h, F.uid, 8, 0);
  writeOctal(h, F.gid, 8, 0);
  writeOctal(h, F.size, 12, entry.size);
  writeOctal(h, F.mtime, 12, entry.mtime);
  h.write(entry.type === 'dir' ? '5' : '0', F.typeflag, 'latin1');
  h.write('ustar\0', F.magic, 'latin1');
  h.write('00', F.version, 'latin1');
  h.write('root', F.uname, 'latin1');
  h.write('root', F.gname, 'latin1');
  writeOctal(h, F.devmajor, 8, 0);
  writeOctal(h, F.devminor, 8, 0);
  prefix.copy(h, F.prefix);
  // The checksum is computed with its own field read as eight spaces, then stored as
  // six octal digits, NUL, space (the form every tar writes).
  h.fill(0x20, F.chksum, F.chksum + 8);
  const sum = checksum(h);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, F.chksum, 'latin1');
  return h;
}

/** Zero bytes that round an entry's data up to a whole block. */
export function ustarPadding(size: number): Buffer {
  const rest = size % USTAR_BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : USTAR_BLOCK - rest);
}

/** The end-of-archive marker: two zero blocks. */
export function ustarEnd(): Buffer {
  return Buffer.alloc(2 * USTAR_BLOCK);
}

/** Bytes a whole entry occupies: header, data and padding. */
export function ustarEntryLength(size: number): number {
  return USTAR_BLOCK + size + ustarPadding(size).length;
}

/** One header block at absolute offset `at`; throws DecodeError naming the bad field. */
export function decodeUstarHeader(h: Buffer, at: number): UstarEntry {
  const stored = readOctal(h, F.chksum, 8);
  const copy = Buffer.from(h);
  copy.fill(0x20, F.chksum, F.chksum + 8);
  if (stored === undefined || stored !== checksum(copy)) {
    throw new DecodeError('ustar', 'malformed', at + F.chksum, 'chksum', `stored ${stored ?? 'garbage'}, computed ${checksum(copy)}`);
  }
  const size = readOctal(h, F.size, 12);
  if (size === undefined) throw new DecodeError('ustar', 'malformed', at + F.size, 'size', 'not an octal number');
  const mode = readOctal(h, F.mode, 8);
  if (mode === undefined) throw new DecodeError('ustar', 'malformed', at + F.mode, 'mode', 'not an octal number');
  const name = cString(h, F.name, NAME_LEN);
  const prefix = h.subarray(F.magic, F.magic + 5).toString('latin1') === 'ustar' ? cString(h, F.prefix, PREFIX_LEN) : '';
  const typeflag = String.fromCharCode(h[F.typeflag]!);
  const type: UstarEntry['type'] = typeflag === '0' || typeflag === '\0' ? 'file' : typeflag === '5' ? 'dir' : 'other';
  return { name: prefix ? `${prefix}/${name}` : name, size, type, typeflag, mode: mode & 0o7777, offset: at + USTAR_BLOCK };
}

function splitName(name: string): [Buffer, Buffer] {
  const full = Buffer.from(name, 'utf8');
  if (full.length === 0) throw new EncodeError('ustar', 'name', 'empty');
  if (full.length <= NAME_LEN) return [Buffer.alloc(0), full];
  // The prefix ends at a '/', which is not stored: name = prefix + '/' + base.
  // A directory's trailing '/' cannot be the split point.
  const searchEnd = full[full.length - 1] === 0x2f ? full.length - 2 : full.length - 1;
  for (let i = Math.min(PREFIX_LEN, searchEnd); i > 0; i--) {
    if (full[i] === 0x2f && full.length - i - 1 <= NAME_LEN) return [full.subarray(0, i), full.subarray(i + 1)];
  }
  throw new EncodeError('ustar', 'name', `${name} does not fit ustar's 155-byte prefix and 100-byte name`);
}

function writeOctal(h: Buffer, at: number, width: number, value: number): void {
  h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, at, 'latin1');
}

function readOctal(h: Buffer, at: number, width: number): number | undefined {
  const text = h.subarray(at, at + width).toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

function cString(h: Buffer, at: number, width: number): string {
  const field = h.subarray(at, at + width);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? width : nul).toString('utf8');
}

function checksum(h: Buffer): number {
  let sum = 0;
  for (const x of h) sum += x;
  return sum;
}
