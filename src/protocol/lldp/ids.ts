import { EncodeError } from '../../errors.js';
import type { ByteReader } from '../bytes/reader.js';
import type { ByteWriter } from '../bytes/writer.js';
import { parseIpv4 } from '../dhcp4/packet.js';
import { formatIpv6, parseIpv6 } from '../dhcp6/options.js';

/**
 * The identifiers LLDP names a system and a port with (IEEE 802.1AB-2016 §8.5.2, §8.5.3)
 * and the IANA-numbered network addresses inside them and the Management Address TLV.
 * A value the subtype says is text stays text; anything we cannot read as its subtype
 * says (a MAC of 5 bytes, text that is not UTF-8, a reserved subtype) is kept as bytes
 * with its wire subtype, so every LLDPDU a real agent sends re-encodes byte-exact.
 */
export const PROTOCOL = 'lldp';

/** IANA Address Family Numbers the codec reads; others stay raw. */
export const AF_IPV4 = 1;
export const AF_IPV6 = 2;
/** "802" family: a MAC address (lldpd uses it for a management address of a bridge). */
export const AF_802 = 6;

export type NetworkAddress =
  | { family: 'ipv4'; address: string }
  | { family: 'ipv6'; address: string }
  | { family: 'mac'; address: string }
  /** Another family, or a length that does not fit its family: the bytes after the family number. */
  | { family: number; raw: Uint8Array };

/** Text subtypes (SnmpAdminString / alias strings); which ones are legal depends on the TLV. */
export type IdTextSubtype = 'chassis-component' | 'interface-alias' | 'port-component' | 'interface-name' | 'local';

export type LldpId =
  | { kind: 'mac'; mac: string }
  | { kind: 'network-address'; address: NetworkAddress }
  | { kind: 'text'; subtype: IdTextSubtype; text: string }
  /** Agent circuit id (port subtype 6), a reserved subtype, or bytes that do not fit their subtype. */
  | { kind: 'bytes'; subtype: number; raw: Uint8Array };

/** Wire subtype numbers: Table 8-2 (chassis) and Table 8-3 (port) differ. */
interface IdTable {
  mac: number;
  networkAddress: number;
  text: Partial<Record<IdTextSubtype, number>>;
}

export const CHASSIS_SUBTYPES: IdTable = {
  mac: 4,
  networkAddress: 5,
  text: { 'chassis-component': 1, 'interface-alias': 2, 'port-component': 3, 'interface-name': 6, local: 7 },
};

export const PORT_SUBTYPES: IdTable = {
  mac: 3,
  networkAddress: 4,
  text: { 'interface-alias': 1, 'port-component': 2, 'interface-name': 5, local: 7 },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the bytes are UTF-8 that encodes back to the same bytes, else undefined. */
export function readText(raw: Uint8Array): string | undefined {
  try {
    const s = utf8.decode(raw);
    return Buffer.from(s, 'utf8').equals(raw) ? s : undefined;
  } catch {
    return undefined;
  }
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(text)) return undefined;
  return Uint8Array.from(text.split(/[:-]/).map((h) => parseInt(h, 16)));
}

/** Reads an id's subtype and value: the whole rest of `r` (a TLV's value). */
export function readId(r: ByteReader, table: IdTable, field: string): LldpId {
  const subtype = r.u8(`${field}.subtype`);
  const raw = r.bytes(r.remaining, field);
  if (subtype === table.mac && raw.length === 6) return { kind: 'mac', mac: formatMac(raw) };
  if (subtype === table.networkAddress && raw.length >= 1) return { kind: 'network-address', address: networkAddressOf(raw[0]!, raw.subarray(1)) };
  const name = (Object.keys(table.text) as IdTextSubtype[]).find((k) => table.text[k] === subtype);
  const text = name === undefined ? undefined : readText(raw);
  if (name !== undefined && text !== undefined) return { kind: 'text', subtype: name, text };
  return { kind: 'bytes', subtype, raw };
}

/** The id's subtype byte and value; `what` names the TLV in errors. */
export function writeId(w: ByteWriter, id: LldpId, table: IdTable, field: string): void {
  switch (id.kind) {
    case 'mac': {
      const b = parseMac(id.mac);
      if (!b) throw new EncodeError(PROTOCOL, field, `'${id.mac}' is not a MAC address`);
      w.u8(table.mac).bytes(b);
      return;
    }
    case 'network-address':
      w.u8(table.networkAddress);
      writeNetworkAddress(w, id.address, field);
      return;
    case 'text': {
      const subtype = table.text[id.subtype];
      if (subtype === undefined) throw new EncodeError(PROTOCOL, field, `subtype '${id.subtype}' is not defined for this TLV`);
      w.u8(subtype).bytes(Buffer.from(id.text, 'utf8'));
      return;
    }
    case 'bytes':
      byteField(id.subtype, `${field}.subtype`);
      w.u8(id.subtype).bytes(id.raw);
  }
}

/** A family number and the address bytes after it (§8.5.2.3: family octet, then the address). */
export function networkAddressOf(family: number, b: Uint8Array): NetworkAddress {
  if (family === AF_IPV4 && b.length === 4) return { family: 'ipv4', address: Array.from(b).join('.') };
  if (family === AF_IPV6 && b.length === 16) return { family: 'ipv6', address: formatIpv6(b) };
  if (family === AF_802 && b.length === 6) return { family: 'mac', address: formatMac(b) };
  return { family, raw: new Uint8Array(b) };
}

/** The family octet and the address; returns how many bytes were written. */
export function writeNetworkAddress(w: ByteWriter, a: NetworkAddress, field: string): number {
  const [family, bytes] = networkAddressBytes(a, field);
  w.u8(family).bytes(bytes);
  return 1 + bytes.length;
}

export function networkAddressBytes(a: NetworkAddress, field: string): [number, Uint8Array] {
  if (typeof a.family === 'number') {
    byteField(a.family, `${field}.family`);
    return [a.family, (a as { raw: Uint8Array }).raw];
  }
  const text = (a as { address: string }).address;
  const bytes = a.family === 'ipv4' ? parseIpv4(text) : a.family === 'ipv6' ? parseIpv6(text) : parseMac(text);
  if (!bytes) throw new EncodeError(PROTOCOL, field, `'${text}' is not an ${a.family} address`);
  return [a.family === 'ipv4' ? AF_IPV4 : a.family === 'ipv6' ? AF_IPV6 : AF_802, bytes];
}

/** One line for an id, as a cabling plan or a log names it: the MAC, address or text; bytes as hex. */
export function idText(id: LldpId): string {
  switch (id.kind) {
    case 'mac':
      return id.mac;
    case 'network-address':
      return addressText(id.address);
    case 'text':
      return id.text;
    case 'bytes':
      return Buffer.from(id.raw).toString('hex');
  }
}

export function addressText(a: NetworkAddress): string {
  return 'address' in a ? a.address : `${a.family}:${Buffer.from(a.raw).toString('hex')}`;
}

export function byteField(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodeError(PROTOCOL, name, `${v} is not 0..255`);
}
