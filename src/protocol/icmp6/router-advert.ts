import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { formatIpv6, parseIpv6 } from '../dhcp6/options.js';
import { ok, type Result } from '../result.js';

/**
 * Neighbor Discovery's Router Solicitation and Router Advertisement (RFC 4861 §4.1, §4.2)
 * with the options a boot lab needs: Prefix Information (§4.6.2), Source Link-Layer
 * Address (§4.6.1) and MTU (§4.6.4). Other options are kept as raw bytes, in order, so a
 * message re-encodes byte-exact. The checksum is left 0 on encode and not checked on
 * decode: a raw ICMPv6 socket has the kernel compute and verify it (RFC 3542 §3.1).
 */
const PROTOCOL = 'icmp6';

export const ICMP6_ROUTER_SOLICIT = 133;
export const ICMP6_ROUTER_ADVERT = 134;

const OPT_SOURCE_LINK_LAYER = 1;
const OPT_PREFIX_INFO = 3;
const OPT_MTU = 5;

export interface PrefixInfo {
  kind: 'prefix';
  /** e.g. 2001:db8:1:: */
  prefix: string;
  length: number;
  /** L: the prefix is on-link. */
  onLink: boolean;
  /** A: hosts may form addresses from it (SLAAC). */
  autonomous: boolean;
  validSeconds: number;
  preferredSeconds: number;
}

export type NdOption =
  | PrefixInfo
  | { kind: 'source-link-layer'; /** aa:bb:cc:dd:ee:ff */ address: string }
  | { kind: 'mtu'; mtu: number }
  | { kind: 'unknown'; type: number; raw: Uint8Array };

export interface RouterAdvert {
  curHopLimit: number;
  /** M: addresses come from DHCPv6. */
  managed: boolean;
  /** O: other configuration (DNS, boot file URL) comes from DHCPv6. */
  other: boolean;
  /** 0: this router is not a default router. */
  routerLifetimeSeconds: number;
  reachableTimeMs: number;
  retransTimerMs: number;
  options: NdOption[];
}

export interface RouterSolicit {
  options: NdOption[];
}

export function encodeRouterAdvert(ra: RouterAdvert): Buffer {
  field(ra.curHopLimit, 0xff, 'curHopLimit');
  field(ra.routerLifetimeSeconds, 0xffff, 'routerLifetime');
  field(ra.reachableTimeMs, 0xffffffff, 'reachableTime');
  field(ra.retransTimerMs, 0xffffffff, 'retransTimer');
  const w = new ByteWriter(64)
    .u8(ICMP6_ROUTER_ADVERT)
    .u8(0)
    .u16(0)
    .u8(ra.curHopLimit)
    .u8((ra.managed ? 0x80 : 0) | (ra.other ? 0x40 : 0))
    .u16(ra.routerLifetimeSeconds)
    .u32(ra.reachableTimeMs)
    .u32(ra.retransTimerMs);
  for (const o of ra.options) encodeOption(w, o);
  return w.finish();
}

export function encodeRouterSolicit(rs: RouterSolicit): Buffer {
  const w = new ByteWriter(16).u8(ICMP6_ROUTER_SOLICIT).u8(0).u16(0).u32(0);
  for (const o of rs.options) encodeOption(w, o);
  return w.finish();
}

export function decodeRouterAdvert(buf: Uint8Array): Result<RouterAdvert, DecodeError> {
  return catchDecodeError(() => {
    const r = new ByteReader(buf, PROTOCOL);
    expectType(r, ICMP6_ROUTER_ADVERT);
    const curHopLimit = r.u8('curHopLimit');
    const flags = r.u8('flags');
    const routerLifetimeSeconds = r.u16('routerLifetime');
    const reachableTimeMs = r.u32('reachableTime');
    const retransTimerMs = r.u32('retransTimer');
    return ok({ curHopLimit, managed: (flags & 0x80) !== 0, other: (flags & 0x40) !== 0, routerLifetimeSeconds, reachableTimeMs, retransTimerMs, options: decodeOptions(r) });
  });
}

export function decodeRouterSolicit(buf: Uint8Array): Result<RouterSolicit, DecodeError> {
  return catchDecodeError(() => {
    const r = new ByteReader(buf, PROTOCOL);
    expectType(r, ICMP6_ROUTER_SOLICIT);
    r.skip(4, 'reserved');
    return ok({ options: decodeOptions(r) });
  });
}

/** The Prefix Information options of an advertisement. */
export function prefixesOf(ra: RouterAdvert): PrefixInfo[] {
  return ra.options.filter((o): o is PrefixInfo => o.kind === 'prefix');
}

function expectType(r: ByteReader, type: number): void {
  const at = r.offset;
  const t = r.u8('type');
  if (t !== type) r.fail('malformed', 'type', `expected ${type}, got ${t}`, at);
  const code = r.u8('code');
  // §6.1.1/§6.1.2: a code other than 0 is discarded.
  if (code !== 0) r.fail('malformed', 'code', `expected 0, got ${code}`, at + 1);
  r.skip(2, 'checksum');
}

function decodeOptions(r: ByteReader): NdOption[] {
  const options: NdOption[] = [];
  while (r.remaining > 0) {
    const at = r.offset;
    const type = r.u8('option.type');
    const units = r.u8('option.length');
    // §4.6: a length of 0 would loop forever; such a packet is discarded.
    if (units === 0) r.fail('malformed', 'option.length', `option ${type} has length 0`, at + 1);
    const body = r.sub(units * 8 - 2, `option ${type}`);
    options.push(decodeOption(type, units, body, at));
  }
  return options;
}

function decodeOption(type: number, units: number, body: ByteReader, at: number): NdOption {
  if (type === OPT_PREFIX_INFO && units === 4) {
    const length = body.u8('prefix.length');
    if (length > 128) body.fail('malformed', 'prefix.length', `${length} is more than 128`, at + 2);
    const flags = body.u8('prefix.flags');
    const validSeconds = body.u32('prefix.validLifetime');
    const preferredSeconds = body.u32('prefix.preferredLifetime');
    body.skip(4, 'prefix.reserved2');
    const prefix = formatIpv6(body.bytes(16, 'prefix.prefix'));
    return { kind: 'prefix', prefix, length, onLink: (flags & 0x80) !== 0, autonomous: (flags & 0x40) !== 0, validSeconds, preferredSeconds };
  }
  if (type === OPT_SOURCE_LINK_LAYER && units === 1) {
    return { kind: 'source-link-layer', address: [...body.bytes(6, 'sourceLinkLayer')].map((b) => b.toString(16).padStart(2, '0')).join(':') };
  }
  if (type === OPT_MTU && units === 1) {
    body.skip(2, 'mtu.reserved');
    return { kind: 'mtu', mtu: body.u32('mtu') };
  }
  // Other link layers' address sizes, and options we do not read, stay raw.
  return { kind: 'unknown', type, raw: body.bytes(body.remaining, `option ${type}`) };
}

function encodeOption(w: ByteWriter, o: NdOption): void {
  switch (o.kind) {
    case 'prefix': {
      if (!Number.isInteger(o.length) || o.length < 0 || o.length > 128) throw new EncodeError(PROTOCOL, 'prefix.length', `${o.length} is not 0..128`);
      field(o.validSeconds, 0xffffffff, 'prefix.validLifetime');
      field(o.preferredSeconds, 0xffffffff, 'prefix.preferredLifetime');
      // A preferred lifetime past the valid one (hosts ignore such a prefix, RFC 4862 §5.5.3)
      // still encodes: what was decoded re-encodes byte-exact. The advertiser refuses to send it.
      const bytes = parseIpv6(o.prefix);
      if (!bytes) throw new EncodeError(PROTOCOL, 'prefix.prefix', `'${o.prefix}' is not an IPv6 address`);
      w.u8(OPT_PREFIX_INFO).u8(4).u8(o.length).u8((o.onLink ? 0x80 : 0) | (o.autonomous ? 0x40 : 0));
      w.u32(o.validSeconds).u32(o.preferredSeconds).u32(0).bytes(bytes);
      return;
    }
    case 'source-link-layer': {
      if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(o.address)) throw new EncodeError(PROTOCOL, 'sourceLinkLayer', `'${o.address}' is not a MAC address`);
      w.u8(OPT_SOURCE_LINK_LAYER).u8(1).bytes(Uint8Array.from(o.address.split(':').map((h) => parseInt(h, 16))));
      return;
    }
    case 'mtu':
      field(o.mtu, 0xffffffff, 'mtu');
      w.u8(OPT_MTU).u8(1).u16(0).u32(o.mtu);
      return;
    case 'unknown':
      // The option's length counts 8-byte units including its 2-byte header.
      if ((o.raw.length + 2) % 8 !== 0 || o.raw.length + 2 > 255 * 8) throw new EncodeError(PROTOCOL, `option ${o.type}`, `${o.raw.length} bytes do not fill whole 8-byte units`);
      field(o.type, 0xff, 'option.type');
      w.u8(o.type).u8((o.raw.length + 2) / 8).bytes(o.raw);
  }
}

function field(v: number, max: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new EncodeError(PROTOCOL, name, `${v} is not 0..${max}`);
}
