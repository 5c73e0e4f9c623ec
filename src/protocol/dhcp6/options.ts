import type { DecodeError } from '../../errors.js';
import { EncodeError } from '../../errors.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { Dhcp6Option, writeOptions, type Dhcp6OptionEntry } from './message.js';

/** IA_NA (RFC 8415 §21.4): an identity association for non-temporary addresses. */
export interface IaNa {
  iaid: number;
  t1: number;
  t2: number;
  addresses: Array<{ address: string; preferred: number; valid: number }>;
  /** Other options inside the IA (a status code, say). */
  options: Dhcp6OptionEntry[];
}

const PROTOCOL = 'dhcp6';
/** Options inside one IA_NA: a client sends one or two addresses and perhaps a status code. */
const MAX_IA_OPTIONS = 64;

/**
 * `baseOffset` is where `data` starts in the enclosing message (optionDataOffset6), so
 * every error, an IAADDR's included, names the absolute offset; 0 when the option
 * payload is all there is.
 */
export function decodeIaNa(data: Uint8Array, baseOffset = 0): Result<IaNa, DecodeError> {
  return catchDecodeError(() => {
    // One reader over the message's coordinates: sub-readers keep them, so nothing is rebased.
    const message = new Uint8Array(baseOffset + data.length);
    message.set(data, baseOffset);
    const r: ByteReader = new ByteReader(message, PROTOCOL, baseOffset);
    const iaid = r.u32('IA_NA.iaid');
    const t1 = r.u32('IA_NA.T1');
    const t2 = r.u32('IA_NA.T2');
    const addresses: IaNa['addresses'] = [];
    const options: Dhcp6OptionEntry[] = [];
    for (let n = 0; r.remaining > 0; n++) {
      if (n >= MAX_IA_OPTIONS) r.fail('limit', 'IA_NA.options', `more than ${MAX_IA_OPTIONS} options`);
      const code = r.u16('IA_NA option-code');
      const len = r.u16(`IA_NA option ${code} length`);
      if (code !== Dhcp6Option.IAADDR) {
        options.push({ code, data: r.bytes(len, `IA_NA option ${code}`) });
        continue;
      }
      const a: ByteReader = r.sub(len, 'IAADDR');
      addresses.push({ address: formatIpv6(a.bytes(16, 'IAADDR.address')), preferred: a.u32('IAADDR.preferred'), valid: a.u32('IAADDR.valid') });
    }
    return ok({ iaid, t1, t2, addresses, options });
  });
}

export function encodeIaNa(ia: IaNa): Uint8Array {
  const w = new ByteWriter(64).u32(ia.iaid).u32(ia.t1).u32(ia.t2);
  writeOptions(w, [
    ...ia.addresses.map((a) => ({
      code: Dhcp6Option.IAADDR,
      data: new ByteWriter(24).bytes(parseIpv6Strict(a.address)).u32(a.preferred).u32(a.valid).finish(),
    })),
    ...ia.options,
  ]);
  return w.finish();
}

/** User class (15) and the data list of vendor class (16): each item a u16 length and bytes. */
export function encodeOpaqueList(items: readonly string[]): Uint8Array {
  const w = new ByteWriter(64);
  for (const item of items) {
    const b = Buffer.from(item, 'utf8');
    w.u16(b.length).bytes(b);
  }
  return w.finish();
}

export function decodeOpaqueList(data: Uint8Array): string[] | undefined {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) return undefined;
    const len = (data[at]! << 8) | data[at + 1]!;
    if (at + 2 + len > data.length) return undefined;
    out.push(Buffer.from(data.subarray(at + 2, at + 2 + len)).toString('utf8'));
    at += 2 + len;
  }
  return out;
}

/** Vendor class (16): enterprise number, then an opaque list. */
export function encodeVendorClass(enterprise: number, items: readonly string[]): Uint8Array {
  return new ByteWriter(64).u32(enterprise).bytes(encodeOpaqueList(items)).finish();
}

export function decodeVendorClass(data: Uint8Array): { enterprise: number; items: string[] } | undefined {
  if (data.length < 4) return undefined;
  const items = decodeOpaqueList(data.subarray(4));
  return items ? { enterprise: Buffer.from(data).readUInt32BE(0), items } : undefined;
}

/** ORO (6): the codes a client asks for. */
export function encodeOro(codes: readonly number[]): Uint8Array {
  const w = new ByteWriter(codes.length * 2);
  for (const c of codes) w.u16(c);
  return w.finish();
}

export function decodeOro(data: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

/** 16 bytes from an IPv6 text address (with :: compression), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('%') || text.split('::').length > 2) return undefined;
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  return out;
}

function parseIpv6Strict(text: string): Uint8Array {
  const b = parseIpv6(text);
  if (!b) throw new EncodeError(PROTOCOL, 'IAADDR.address', `'${text}' is not an IPv6 address`);
  return b;
}

/** RFC 5952 text: lower case, the longest run of zero groups (two or more) as `::`. */
export function formatIpv6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => ((b[i * 2]! << 8) | b[i * 2 + 1]!).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}
