import { EncodeError } from '../../errors.js';
import { parseIpv4, type Dhcp4OptionEntry, type Dhcp4Packet } from './packet.js';

/** How an option's bytes are read (RFC 2132 and the RFCs named per entry). */
export type Dhcp4ValueType =
  | 'ip'
  | 'ip-list'
  | 'string'
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u8-list'
  | 'u16-list'
  | 'bytes'
  | 'domain-list'
  | 'vivso';

export interface Dhcp4OptionInfo {
  name: string;
  type: Dhcp4ValueType;
}

/** Option code → meaning. Options missing here are still carried, as bytes. */
export const DHCP4_OPTIONS: ReadonlyMap<number, Dhcp4OptionInfo> = new Map<number, Dhcp4OptionInfo>([
  [1, { name: 'subnet-mask', type: 'ip' }],
  [2, { name: 'time-offset', type: 'u32' }],
  [3, { name: 'router', type: 'ip-list' }],
  [6, { name: 'domain-name-server', type: 'ip-list' }],
  [7, { name: 'log-server', type: 'ip-list' }],
  [12, { name: 'host-name', type: 'string' }],
  [15, { name: 'domain-name', type: 'string' }],
  [17, { name: 'root-path', type: 'string' }],
  [26, { name: 'interface-mtu', type: 'u16' }],
  [28, { name: 'broadcast-address', type: 'ip' }],
  [42, { name: 'ntp-servers', type: 'ip-list' }],
  [43, { name: 'vendor-specific', type: 'bytes' }],
  [50, { name: 'requested-address', type: 'ip' }],
  [51, { name: 'lease-time', type: 'u32' }],
  [52, { name: 'option-overload', type: 'u8' }],
  [53, { name: 'message-type', type: 'u8' }],
  [54, { name: 'server-identifier', type: 'ip' }],
  [55, { name: 'parameter-request-list', type: 'u8-list' }],
  [56, { name: 'message', type: 'string' }],
  [57, { name: 'max-message-size', type: 'u16' }],
  [58, { name: 'renewal-time', type: 'u32' }],
  [59, { name: 'rebinding-time', type: 'u32' }],
  [60, { name: 'vendor-class-identifier', type: 'string' }],
  [61, { name: 'client-identifier', type: 'bytes' }],
  [66, { name: 'tftp-server-name', type: 'string' }],
  [67, { name: 'bootfile-name', type: 'string' }],
  [72, { name: 'www-server', type: 'ip-list' }],
  // RFC 3004: one or more length-prefixed class names (iPXE sends a bare string instead).
  [77, { name: 'user-class', type: 'bytes' }],
  [82, { name: 'relay-agent-information', type: 'bytes' }],
  [93, { name: 'client-system-architecture', type: 'u16-list' }],
  [94, { name: 'client-network-interface', type: 'bytes' }],
  [97, { name: 'client-machine-identifier', type: 'bytes' }],
  [114, { name: 'default-url', type: 'string' }],
  [119, { name: 'domain-search', type: 'domain-list' }],
  [125, { name: 'vendor-identifying-vendor-specific', type: 'vivso' }],
  [150, { name: 'tftp-server-address', type: 'ip-list' }],
  [175, { name: 'ipxe-encapsulated', type: 'bytes' }],
]);

export const Dhcp4MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type Dhcp4MessageType = (typeof Dhcp4MessageType)[keyof typeof Dhcp4MessageType];

const MESSAGE_TYPE_NAMES: Record<Dhcp4MessageType, string> = {
  1: 'DISCOVER',
  2: 'OFFER',
  3: 'REQUEST',
  4: 'DECLINE',
  5: 'ACK',
  6: 'NAK',
  7: 'RELEASE',
  8: 'INFORM',
};

export function messageTypeName(t: Dhcp4MessageType): string {
  return MESSAGE_TYPE_NAMES[t];
}

export function optionName(code: number): string {
  return DHCP4_OPTIONS.get(code)?.name ?? `option-${code}`;
}

export function getOption(p: Pick<Dhcp4Packet, 'options'>, code: number): Uint8Array | undefined {
  return p.options.find((o) => o.code === code)?.data;
}

/** The DHCP message type, or undefined for plain BOOTP and for values outside 1..8. */
export function messageType(p: Pick<Dhcp4Packet, 'options'>): Dhcp4MessageType | undefined {
  const data = getOption(p, 53);
  if (data?.length !== 1) return undefined;
  const t = data[0]!;
  return t >= 1 && t <= 8 ? (t as Dhcp4MessageType) : undefined;
}

// Readers return undefined when the bytes do not fit the type: a peer's broken option is
// a missing value, not a reason to refuse the whole message.

export function readIp(data: Uint8Array): string | undefined {
  return data.length === 4 ? Array.from(data).join('.') : undefined;
}

export function readIpList(data: Uint8Array): string[] | undefined {
  if (data.length === 0 || data.length % 4 !== 0) return undefined;
  const out: string[] = [];
  for (let at = 0; at < data.length; at += 4) out.push(Array.from(data.subarray(at, at + 4)).join('.'));
  return out;
}

/** NVT ASCII text; stops at a NUL as the C clients that read it do. */
export function readString(data: Uint8Array): string {
  const end = data.indexOf(0);
  return Buffer.from(data.subarray(0, end < 0 ? data.length : end)).toString('latin1');
}

export function readU8List(data: Uint8Array): number[] {
  return Array.from(data);
}

export function readU16(data: Uint8Array): number | undefined {
  return data.length === 2 ? (data[0]! << 8) | data[1]! : undefined;
}

export function readU32(data: Uint8Array): number | undefined {
  return data.length === 4 ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0 : undefined;
}

/**
 * RFC 3004 user classes: `[len][name]…`. A payload that does not split exactly is the
 * bare-string form iPXE and others send, returned as one class.
 */
export function readUserClasses(data: Uint8Array): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const len = data[at]!;
    if (len === 0 || at + 1 + len > data.length) return [readString(data)];
    out.push(Buffer.from(data.subarray(at + 1, at + 1 + len)).toString('latin1'));
    at += 1 + len;
  }
  return out.length > 0 ? out : [''];
}

/** Most labels followed through compression pointers, so a pointer loop ends. */
const MAX_DOMAIN_LABELS = 512;

/**
 * RFC 3397 domain search list: DNS wire names, compression pointers relative to the
 * start of the (concatenated) option data. Undefined when the encoding is broken.
 */
export function readDomainList(data: Uint8Array): string[] | undefined {
  const names: string[] = [];
  let at = 0;
  while (at < data.length) {
    const labels: string[] = [];
    let cursor = at;
    let next: number | undefined;
    let steps = 0;
    for (;;) {
      if (cursor >= data.length || ++steps > MAX_DOMAIN_LABELS) return undefined;
      const len = data[cursor]!;
      if (len === 0) {
        next ??= cursor + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (cursor + 1 >= data.length) return undefined;
        next ??= cursor + 2;
        cursor = ((len & 0x3f) << 8) | data[cursor + 1]!;
        continue;
      }
      if (len > 63 || cursor + 1 + len > data.length) return undefined;
      labels.push(Buffer.from(data.subarray(cursor + 1, cursor + 1 + len)).toString('latin1'));
      cursor += 1 + len;
    }
    names.push(labels.join('.'));
    at = next;
  }
  return names;
}

// Builders: an option entry from a value. They throw EncodeError for values that
// cannot be put on the wire.

export function ipOption(code: number, ip: string): Dhcp4OptionEntry {
  return { code, data: ipBytes(code, ip) };
}

export function ipListOption(code: number, ips: readonly string[]): Dhcp4OptionEntry {
  if (ips.length === 0) throw new EncodeError('dhcp4', `option ${code}`, 'an address list needs at least one address');
  const data = new Uint8Array(ips.length * 4);
  ips.forEach((ip, i) => data.set(ipBytes(code, ip), i * 4));
  return { code, data };
}

export function stringOption(code: number, text: string): Dhcp4OptionEntry {
  return { code, data: new Uint8Array(Buffer.from(text, 'utf8')) };
}

export function u8Option(code: number, value: number): Dhcp4OptionEntry {
  return { code, data: Uint8Array.of(checkInt(code, value, 0xff)) };
}

export function u16Option(code: number, value: number): Dhcp4OptionEntry {
  const v = checkInt(code, value, 0xffff);
  return { code, data: Uint8Array.of(v >>> 8, v & 0xff) };
}

export function u32Option(code: number, value: number): Dhcp4OptionEntry {
  const v = checkInt(code, value, 0xffff_ffff);
  return { code, data: Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff) };
}

export function u8ListOption(code: number, values: readonly number[]): Dhcp4OptionEntry {
  return { code, data: Uint8Array.from(values.map((v) => checkInt(code, v, 0xff))) };
}

export function messageTypeOption(t: Dhcp4MessageType): Dhcp4OptionEntry {
  return u8Option(53, t);
}

/** RFC 3004 user class: each name as `[len][name]`. */
export function userClassOption(names: readonly string[]): Dhcp4OptionEntry {
  const parts = names.map((n) => {
    const b = Buffer.from(n, 'latin1');
    if (b.length === 0 || b.length > 255) throw new EncodeError('dhcp4', 'option 77', `user class '${n}' must be 1..255 bytes`);
    return Buffer.concat([Uint8Array.of(b.length), b]);
  });
  return { code: 77, data: new Uint8Array(Buffer.concat(parts)) };
}

function ipBytes(code: number, ip: string): Uint8Array {
  const b = parseIpv4(ip);
  if (!b) throw new EncodeError('dhcp4', `option ${code}`, `'${ip}' is not a dotted IPv4 address`);
  return b;
}

function checkInt(code: number, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new EncodeError('dhcp4', `option ${code}`, `${v} is not an integer in 0..${max}`);
  return v;
}
