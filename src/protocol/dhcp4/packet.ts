import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/**
 * A DHCPv4 / BOOTP message (RFC 2131 §2) as meanings. Options keep the order in which
 * they first appeared on the wire; an option sent in several pieces (RFC 3396) is one
 * entry with the pieces concatenated. Unknown options are kept as bytes, so a decoded
 * message re-encodes byte-for-byte.
 */
export interface Dhcp4Packet {
  op: 'request' | 'reply';
  /** ARP hardware type (1 = Ethernet). */
  htype: number;
  hlen: number;
  /** Relay hops so far. */
  hops: number;
  xid: number;
  /** Seconds since the client began acquisition. */
  secs: number;
  /** The client asks for broadcast replies (it cannot receive unicast before it has an address). */
  broadcast: boolean;
  ciaddr: string;
  yiaddr: string;
  /** BOOTP next server. */
  siaddr: string;
  /** Relay agent address. */
  giaddr: string;
  /** `aa:bb:cc:dd:ee:ff` (lower-case) when hlen is 6, otherwise hlen bytes as plain hex. */
  chaddr: string;
  /** BOOTP server host name (empty when the field carries options, RFC 2131 option 52). */
  sname: string;
  /** BOOTP boot file name (empty when the field carries options). */
  file: string;
  options: Dhcp4OptionEntry[];
  /**
   * PAD bytes after END, as received. When absent, the encoder pads the message to
   * the 300 bytes BOOTP relays and old clients expect (RFC 1542 §2.1); decoding sets
   * it so that a short message (perfdhcp sends 262 bytes) re-encodes unchanged.
   */
  padding?: number;
}

export interface Dhcp4OptionEntry {
  code: number;
  data: Uint8Array;
}

export interface Dhcp4Limits {
  /** Most option entries (after RFC 3396 concatenation) a message may carry. */
  maxOptions?: number;
}

const PROTOCOL = 'dhcp4';
const OP_REQUEST = 1;
const OP_REPLY = 2;
const CHADDR_LEN = 16;
const SNAME_LEN = 64;
const FILE_LEN = 128;
const SNAME_AT = 44;
const FILE_AT = SNAME_AT + SNAME_LEN;
/** Fixed BOOTP header; options (with the magic cookie) follow. */
export const DHCP4_HEADER_LEN = FILE_AT + FILE_LEN;
const MAGIC_COOKIE = 0x63825363;
const PAD = 0;
const END = 255;
const OPTION_OVERLOAD = 52;
const BROADCAST_FLAG = 0x8000;
/** RFC 1542 §2.1: the BOOTP minimum relays and some clients insist on. */
const MIN_MESSAGE_LEN = 300;
const MAX_OPTION_PIECE = 255;
const DEFAULT_MAX_OPTIONS = 255;

/** A client's BOOTREQUEST with every header field at its "nothing assigned yet" value. */
export function dhcp4Request(p: Pick<Dhcp4Packet, 'xid' | 'chaddr' | 'options'> & Partial<Dhcp4Packet>): Dhcp4Packet {
  return {
    op: 'request',
    htype: 1,
    hlen: 6,
    hops: 0,
    secs: 0,
    broadcast: false,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    sname: '',
    file: '',
    ...p,
  };
}

/**
 * A server's BOOTREPLY skeleton for `req` (RFC 2131 table 3): xid, chaddr, flags and giaddr
 * copied, hops and every address zero; the caller fills in what it grants.
 */
export function dhcp4Reply(req: Dhcp4Packet): Dhcp4Packet {
  return {
    op: 'reply',
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    broadcast: req.broadcast,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: '',
    file: '',
    options: [],
  };
}

export function decodeDhcp4(buf: Uint8Array, limits: Dhcp4Limits = {}): Result<Dhcp4Packet, DecodeError> {
  return catchDecodeError(() => {
    return ok(readPacket(new ByteReader(plainBytes(buf), PROTOCOL), limits.maxOptions ?? DEFAULT_MAX_OPTIONS));
  });
}

function readPacket(r: ByteReader, maxOptions: number): Dhcp4Packet {
  const opAt = r.offset;
  const opByte = r.u8('op');
  if (opByte !== OP_REQUEST && opByte !== OP_REPLY) r.fail('malformed', 'op', `expected 1 or 2, got ${opByte}`, opAt);
  const htype = r.u8('htype');
  const hlenAt = r.offset;
  const hlen = r.u8('hlen');
  if (hlen > CHADDR_LEN) r.fail('malformed', 'hlen', `${hlen} exceeds the ${CHADDR_LEN}-byte chaddr field`, hlenAt);
  const hops = r.u8('hops');
  const xid = r.u32('xid');
  const secs = r.u16('secs');
  const flags = r.u16('flags');
  const ciaddr = readIp(r, 'ciaddr');
  const yiaddr = readIp(r, 'yiaddr');
  const siaddr = readIp(r, 'siaddr');
  const giaddr = readIp(r, 'giaddr');
  const chaddrAt = r.offset;
  r.skip(CHADDR_LEN, 'chaddr');
  // sname and file are read as text only when no option overloads them; see below.
  r.skip(SNAME_LEN, 'sname');
  r.skip(FILE_LEN, 'file');

  const collector = new OptionCollector(maxOptions);
  let padding = 0;
  // A plain BOOTP message may stop right after the header: no cookie, no options.
  if (r.remaining > 0) {
    const cookieAt = r.offset;
    const cookie = r.u32('magic cookie');
    if (cookie !== MAGIC_COOKIE) r.fail('malformed', 'magic cookie', `got 0x${cookie.toString(16).padStart(8, '0')}`, cookieAt);
    const ended = readOptionArea(r, collector, 'options');
    padding = ended ? r.remaining : 0;
    const overload = collector.overload();
    // RFC 2131 §4.1: the file field is read before sname when both carry options.
    if (overload !== undefined) {
      if (overload.value < 1 || overload.value > 3) {
        r.fail('malformed', 'option 52 (overload)', `value ${overload.value} is not 1, 2 or 3`, overload.at);
      }
      if (overload.value & 1) readOptionArea(new ByteReader(r.buf, PROTOCOL, FILE_AT, FILE_AT + FILE_LEN), collector, 'file options');
      if (overload.value & 2) readOptionArea(new ByteReader(r.buf, PROTOCOL, SNAME_AT, SNAME_AT + SNAME_LEN), collector, 'sname options');
    }
  }
  const overload = collector.overload()?.value ?? 0;

  const packet: Dhcp4Packet = {
    op: opByte === OP_REQUEST ? 'request' : 'reply',
    htype,
    hlen,
    hops,
    xid,
    secs,
    broadcast: (flags & BROADCAST_FLAG) !== 0,
    ciaddr,
    yiaddr,
    siaddr,
    giaddr,
    chaddr: formatChaddr(r.buf, chaddrAt, hlen),
    sname: overload & 2 ? '' : cString(r.buf, SNAME_AT, SNAME_LEN),
    file: overload & 1 ? '' : cString(r.buf, FILE_AT, FILE_LEN),
    options: collector.entries(),
    padding,
  };
  return packet;
}

/** Reads options until END or the end of the area; true when END was seen. */
function readOptionArea(r: ByteReader, into: OptionCollector, area: string): boolean {
  while (r.remaining > 0) {
    const at = r.offset;
    const code = r.u8(`${area} code`);
    if (code === PAD) continue;
    if (code === END) return true;
    const len = r.u8(`option ${code} length`);
    const data = r.bytes(len, `option ${code} data`);
    into.add(code, data, at);
  }
  // A missing END is common enough in the field (and harmless) to accept.
  return false;
}

/** Gathers option pieces, joining repeats of one code in first-seen order (RFC 3396). */
class OptionCollector {
  private readonly pieces = new Map<number, Uint8Array[]>();
  private overloadAt: { value: number; at: number } | undefined;

  constructor(private readonly max: number) {}

  add(code: number, data: Uint8Array, at: number): void {
    const list = this.pieces.get(code);
    if (list) {
      list.push(data);
    } else {
      if (this.pieces.size >= this.max) throw new DecodeError(PROTOCOL, 'limit', at, `option ${code}`, `more than ${this.max} options`);
      this.pieces.set(code, [data]);
    }
    if (code === OPTION_OVERLOAD && this.overloadAt === undefined) {
      if (data.length !== 1) throw new DecodeError(PROTOCOL, 'malformed', at, 'option 52 (overload)', `length ${data.length}, expected 1`);
      this.overloadAt = { value: data[0]!, at };
    }
  }

  overload(): { value: number; at: number } | undefined {
    return this.overloadAt;
  }

  entries(): Dhcp4OptionEntry[] {
    return [...this.pieces].map(([code, parts]) => ({ code, data: parts.length === 1 ? parts[0]! : concat(parts) }));
  }
}

export function encodeDhcp4(p: Dhcp4Packet): Buffer {
  const w = new ByteWriter(MIN_MESSAGE_LEN + 64);
  w.u8(p.op === 'request' ? OP_REQUEST : p.op === 'reply' ? OP_REPLY : fail('op', `must be 'request' or 'reply', got ${String(p.op)}`));
  w.u8(byteField('htype', p.htype));
  const chaddr = parseChaddr(p.chaddr);
  if (chaddr.length !== p.hlen) fail('chaddr', `${chaddr.length} bytes but hlen is ${p.hlen}`);
  if (p.hlen > CHADDR_LEN) fail('hlen', `${p.hlen} exceeds ${CHADDR_LEN}`);
  w.u8(p.hlen);
  w.u8(byteField('hops', p.hops));
  w.u32(intField('xid', p.xid, 0xffff_ffff));
  w.u16(intField('secs', p.secs, 0xffff));
  w.u16(p.broadcast ? BROADCAST_FLAG : 0);
  w.bytes(ipBytes(p.ciaddr, 'ciaddr')).bytes(ipBytes(p.yiaddr, 'yiaddr')).bytes(ipBytes(p.siaddr, 'siaddr')).bytes(ipBytes(p.giaddr, 'giaddr'));
  w.bytes(chaddr).zeros(CHADDR_LEN - chaddr.length);
  writeText(w, 'sname', p.sname, SNAME_LEN);
  writeText(w, 'file', p.file, FILE_LEN);
  w.u32(MAGIC_COOKIE);
  const seen = new Set<number>();
  for (const o of p.options) {
    if (!Number.isInteger(o.code) || o.code <= PAD || o.code >= END) fail('option code', `${o.code} is not 1..254`);
    if (seen.has(o.code)) fail(`option ${o.code}`, 'appears twice; join the data into one entry');
    seen.add(o.code);
    // Placement in file/sname is a wire decision we never need: our messages fit.
    if (o.code === OPTION_OVERLOAD) continue;
    writeLongOption(w, o.code, o.data);
  }
  w.u8(END);
  const padding = p.padding ?? Math.max(0, MIN_MESSAGE_LEN - w.length);
  w.zeros(intField('padding', padding, 0xffff));
  return w.take();
}

/** RFC 3396: an option longer than 255 bytes is sent as consecutive pieces of one code. */
function writeLongOption(w: ByteWriter, code: number, data: Uint8Array): void {
  if (data.length <= MAX_OPTION_PIECE) {
    w.u8(code).u8(data.length).bytes(data);
    return;
  }
  for (let at = 0; at < data.length; at += MAX_OPTION_PIECE) {
    const piece = data.subarray(at, at + MAX_OPTION_PIECE);
    w.u8(code).u8(piece.length).bytes(piece);
  }
}

/**
 * Buffer#slice returns a view, Uint8Array#slice a copy: reading through a plain
 * Uint8Array view keeps decoded options from aliasing a reused socket buffer.
 */
export function plainBytes(buf: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(buf) === Uint8Array.prototype ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function readIp(r: ByteReader, field: string): string {
  // Four reads and one string, no copy: every request carries four of these.
  if (r.remaining < 4) r.bytes(4, field);
  const b = r.buf;
  const at = r.offset;
  r.offset += 4;
  return `${b[at]!}.${b[at + 1]!}.${b[at + 2]!}.${b[at + 3]!}`;
}

/** Dotted quad → 4 bytes; undefined when the text is not one. */
export function parseIpv4(text: string): Uint8Array | undefined {
  // Hand-rolled (no split, no regex): every reply encodes four of these.
  const out = new Uint8Array(4);
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return undefined;
      out[part++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (part !== 3 || digits === 0) return undefined;
  out[3] = value;
  return out;
}

function ipBytes(text: string, field: string): Uint8Array {
  return parseIpv4(text) ?? fail(field, `'${text}' is not a dotted IPv4 address`);
}

const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `len` bytes at `at`: colon-separated when it is a MAC (six bytes), plain hex otherwise. */
function formatChaddr(buf: Uint8Array, at: number, len: number): string {
  const sep = len === 6 ? ':' : '';
  let out = '';
  for (let i = 0; i < len; i++) out += (i > 0 ? sep : '') + HEX_PAIRS[buf[at + i]!]!;
  return out;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function parseChaddr(text: string): Uint8Array {
  // The common shape, "aa:bb:cc:dd:ee:ff", without split, regex or Buffer: every reply has one.
  if (text.length === 17) {
    const out = new Uint8Array(6);
    let good = true;
    for (let i = 0; i < 6 && good; i++) {
      const hi = hexDigit(text.charCodeAt(i * 3));
      const lo = hexDigit(text.charCodeAt(i * 3 + 1));
      const sep = i < 5 ? text.charCodeAt(i * 3 + 2) : 0x3a;
      good = hi >= 0 && lo >= 0 && (sep === 0x3a || sep === 0x2d);
      out[i] = (hi << 4) | lo;
    }
    if (good) return out;
  }
  const hex = text.includes(':') || text.includes('-') ? text.split(/[:-]/).map((h) => h.padStart(2, '0')).join('') : text;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) fail('chaddr', `'${text}' is not a hardware address`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** A NUL-terminated field of `len` bytes at `at`; latin1 keeps every byte, so any name round-trips. */
function cString(buf: Uint8Array, at: number, len: number): string {
  // Most messages leave sname and file empty: no allocation for those.
  if (buf[at] === 0) return '';
  const field = buf.subarray(at, at + len);
  const end = field.indexOf(0);
  return Buffer.from(field.buffer, field.byteOffset, end < 0 ? len : end).toString('latin1');
}

function textBytes(field: string, text: string, max: number): Uint8Array {
  if (/[^\x01-\xff]/.test(text)) fail(field, 'contains a NUL or a character above U+00FF');
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > max) fail(field, `${bytes.length} bytes, the field holds ${max}`);
  return bytes;
}

/** A text field of exactly `len` bytes: the text, then NULs. */
function writeText(w: ByteWriter, field: string, text: string, len: number): void {
  if (text === '') {
    w.zeros(len);
    return;
  }
  const bytes = textBytes(field, text, len);
  w.bytes(bytes).zeros(len - bytes.length);
}

function byteField(field: string, v: number): number {
  return intField(field, v, 0xff);
}

function intField(field: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) fail(field, `${v} is not an integer in 0..${max}`);
  return v;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fail(field: string, detail: string): never {
  throw new EncodeError(PROTOCOL, field, detail);
}
