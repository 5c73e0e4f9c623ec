import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { ok, type Result } from '../result.js';
import { byteField, CHASSIS_SUBTYPES, networkAddressBytes, networkAddressOf, PORT_SUBTYPES, PROTOCOL, readId, readText, writeId, type LldpId, type NetworkAddress } from './ids.js';

/**
 * The LLDPDU (IEEE 802.1AB-2016 §8): TLVs of a 7-bit type and a 9-bit length. Chassis ID,
 * Port ID and TTL come first in that order and End last (§8.2); between them the optional
 * TLVs are kept in the order they came, unknown ones as bytes, so an agent's LLDPDU
 * re-encodes byte-exact. Bytes after End are the frame's padding and are not read.
 */
export const TLV_END = 0;
export const TLV_CHASSIS_ID = 1;
export const TLV_PORT_ID = 2;
export const TLV_TTL = 3;
export const TLV_PORT_DESCRIPTION = 4;
export const TLV_SYSTEM_NAME = 5;
export const TLV_SYSTEM_DESCRIPTION = 6;
export const TLV_SYSTEM_CAPABILITIES = 7;
export const TLV_MANAGEMENT_ADDRESS = 8;
export const TLV_ORG_SPECIFIC = 127;

/** The 9-bit length field. */
export const MAX_TLV_VALUE = 511;
/** Port/system description and system name are at most 255 octets (§8.5.5–§8.5.7). */
export const MAX_STRING = 255;
/** §8.5.9.9: the OID string is 0..128 octets. */
const MAX_OID = 128;

export type InterfaceNumbering = 'unknown' | 'if-index' | 'system-port-number';
const NUMBERING: readonly InterfaceNumbering[] = ['unknown', 'if-index', 'system-port-number'];

export interface ManagementAddress {
  address: NetworkAddress;
  /** §8.5.9.5; a reserved subtype stays its number. */
  interfaceNumbering: InterfaceNumbering | number;
  interfaceNumber: number;
  /** BER-encoded object identifier of the hardware component, often empty. */
  oid: Uint8Array;
}

export type LldpTlv =
  | { kind: 'port-description'; text: string }
  | { kind: 'system-name'; text: string }
  | { kind: 'system-description'; text: string }
  /** Bit maps of §8.5.8.1 (bit 0 = other … bit 10 = two-port MAC relay); see capabilities.ts. */
  | { kind: 'system-capabilities'; supported: number; enabled: number }
  | ({ kind: 'management-address' } & ManagementAddress)
  /** Organizationally Specific (§8.6): OUI as aa:bb:cc, the subtype, the rest opaque. */
  | { kind: 'org-specific'; oui: string; subtype: number; info: Uint8Array }
  /** A reserved type, or a known text TLV whose bytes are not UTF-8: kept as it came. */
  | { kind: 'unknown'; type: number; raw: Uint8Array };

export interface Lldpdu {
  chassisId: LldpId;
  portId: LldpId;
  /** 0 tells the neighbour to forget this system now (shutdown LLDPDU, §9.2.5.18). */
  ttlSeconds: number;
  /** The optional TLVs between TTL and End, in wire order. */
  tlvs: LldpTlv[];
}

export interface LldpLimits {
  /** TLVs in one LLDPDU (default 512: a 1500-byte frame holds at most 750 empty ones). */
  maxTlvs?: number;
}

/** The mandatory TLVs are missing, out of order or repeated, or End is missing (§8.2, §9.2.7.7.1). */
export class LldpOrderError extends DecodeError {
  constructor(offset: number, field: string, detail: string) {
    super(PROTOCOL, 'malformed', offset, field, detail);
  }
}

const NAMES: Record<number, string> = { 0: 'End', 1: 'Chassis ID', 2: 'Port ID', 3: 'TTL' };
const nameOf = (type: number): string => NAMES[type] ?? `TLV ${type}`;

export function decodeLldpdu(buf: Uint8Array, limits: LldpLimits = {}): Result<Lldpdu, DecodeError> {
  return catchDecodeError(() => ok(readLldpdu(new ByteReader(buf, PROTOCOL), limits)));
}

/** Reads an LLDPDU from `r` (offsets stay absolute in the frame it was handed) through End. */
export function readLldpdu(r: ByteReader, limits: LldpLimits = {}): Lldpdu {
  const maxTlvs = limits.maxTlvs ?? 512;
  const mandatory = [TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL];
  let chassisId: LldpId | undefined;
  let portId: LldpId | undefined;
  let ttlSeconds = 0;
  const tlvs: LldpTlv[] = [];
  for (let index = 0; ; index++) {
    if (index >= maxTlvs) r.fail('limit', 'tlv', `more than ${maxTlvs} TLVs`);
    const at = r.offset;
    if (r.remaining === 0) throw new LldpOrderError(at, 'End', 'the LLDPDU ends without an End TLV');
    const header = r.u16('tlv.header');
    const type = header >> 9;
    const length = header & 0x1ff;
    const expected = mandatory[index];
    if (expected !== undefined && type !== expected) {
      throw new LldpOrderError(at, 'tlv.type', `expected ${nameOf(expected)} as TLV ${index + 1}, got ${nameOf(type)}`);
    }
    if (expected === undefined && mandatory.includes(type)) throw new LldpOrderError(at, 'tlv.type', `a second ${nameOf(type)} TLV`);
    const body = r.sub(length, `${nameOf(type)} value`);
    switch (type) {
      case TLV_END:
        if (length !== 0) body.fail('malformed', 'End.length', `${length}, must be 0`, at);
        return { chassisId: chassisId!, portId: portId!, ttlSeconds, tlvs };
      case TLV_CHASSIS_ID:
        idLength(body, length, 'chassisId', at);
        chassisId = readId(body, CHASSIS_SUBTYPES, 'chassisId');
        break;
      case TLV_PORT_ID:
        idLength(body, length, 'portId', at);
        portId = readId(body, PORT_SUBTYPES, 'portId');
        break;
      case TLV_TTL:
        if (length !== 2) body.fail('malformed', 'ttl.length', `${length}, must be 2`, at);
        ttlSeconds = body.u16('ttl');
        break;
      default:
        if (tlvs.length >= maxTlvs) r.fail('limit', 'tlv', `more than ${maxTlvs} TLVs`, at);
        tlvs.push(readOptional(type, length, body, at));
    }
  }
}

function idLength(body: ByteReader, length: number, field: string, at: number): void {
  // §8.5.2.1/§8.5.3.1: a subtype and 1..255 octets.
  if (length < 2 || length > 256) body.fail('malformed', `${field}.length`, `${length}, must be 2..256`, at);
}

function readOptional(type: number, length: number, body: ByteReader, at: number): LldpTlv {
  switch (type) {
    case TLV_PORT_DESCRIPTION:
    case TLV_SYSTEM_NAME:
    case TLV_SYSTEM_DESCRIPTION: {
      const raw = body.bytes(length, nameOf(type));
      const text = length <= MAX_STRING ? readText(raw) : undefined;
      if (text === undefined) return { kind: 'unknown', type, raw };
      const kind = type === TLV_PORT_DESCRIPTION ? 'port-description' : type === TLV_SYSTEM_NAME ? 'system-name' : 'system-description';
      return { kind, text };
    }
    case TLV_SYSTEM_CAPABILITIES: {
      if (length !== 4) body.fail('malformed', 'systemCapabilities.length', `${length}, must be 4`, at);
      return { kind: 'system-capabilities', supported: body.u16('systemCapabilities.supported'), enabled: body.u16('systemCapabilities.enabled') };
    }
    case TLV_MANAGEMENT_ADDRESS:
      return { kind: 'management-address', ...readManagementAddress(body, at) };
    case TLV_ORG_SPECIFIC: {
      if (length < 4) body.fail('malformed', 'orgSpecific.length', `${length}, needs an OUI and a subtype`, at);
      const oui = Array.from(body.bytes(3, 'orgSpecific.oui'), (b) => b.toString(16).padStart(2, '0')).join(':');
      return { kind: 'org-specific', oui, subtype: body.u8('orgSpecific.subtype'), info: body.bytes(body.remaining, 'orgSpecific.info') };
    }
    default:
      return { kind: 'unknown', type, raw: body.bytes(length, `TLV ${type}`) };
  }
}

/** §8.5.9: the lengths inside must add up to the TLV's length exactly. */
function readManagementAddress(body: ByteReader, at: number): ManagementAddress {
  const lenAt = body.offset;
  const stringLength = body.u8('managementAddress.stringLength');
  if (stringLength < 2 || stringLength > 32) body.fail('malformed', 'managementAddress.stringLength', `${stringLength}, must be 2..32`, lenAt);
  const family = body.u8('managementAddress.family');
  const address = networkAddressOf(family, body.bytes(stringLength - 1, 'managementAddress.address'));
  const numbering = body.u8('managementAddress.interfaceNumbering');
  const interfaceNumber = body.u32('managementAddress.interfaceNumber');
  const oidAt = body.offset;
  const oidLength = body.u8('managementAddress.oidLength');
  if (oidLength > MAX_OID) body.fail('malformed', 'managementAddress.oidLength', `${oidLength}, must be 0..${MAX_OID}`, oidAt);
  const oid = body.bytes(oidLength, 'managementAddress.oid');
  if (body.remaining !== 0) body.fail('malformed', 'managementAddress.length', `${body.remaining} bytes after the OID`, at);
  return { address, interfaceNumbering: NUMBERING[numbering - 1] ?? numbering, interfaceNumber, oid };
}

/** Chassis ID, Port ID and TTL, the optional TLVs in order, End. */
export function encodeLldpdu(du: Lldpdu): Buffer {
  const w = new ByteWriter(256);
  writeLldpdu(w, du);
  return w.finish();
}

export function writeLldpdu(w: ByteWriter, du: Lldpdu): void {
  tlv(w, TLV_CHASSIS_ID, 'chassisId', (v) => writeId(v, du.chassisId, CHASSIS_SUBTYPES, 'chassisId'), 2, 256);
  tlv(w, TLV_PORT_ID, 'portId', (v) => writeId(v, du.portId, PORT_SUBTYPES, 'portId'), 2, 256);
  if (!Number.isInteger(du.ttlSeconds) || du.ttlSeconds < 0 || du.ttlSeconds > 0xffff) throw new EncodeError(PROTOCOL, 'ttl', `${du.ttlSeconds} is not 0..65535`);
  tlv(w, TLV_TTL, 'ttl', (v) => v.u16(du.ttlSeconds));
  for (const t of du.tlvs) writeOptional(w, t);
  w.u16(0);
}

function writeOptional(w: ByteWriter, t: LldpTlv): void {
  switch (t.kind) {
    case 'port-description':
      return text(w, TLV_PORT_DESCRIPTION, 'portDescription', t.text);
    case 'system-name':
      return text(w, TLV_SYSTEM_NAME, 'systemName', t.text);
    case 'system-description':
      return text(w, TLV_SYSTEM_DESCRIPTION, 'systemDescription', t.text);
    case 'system-capabilities':
      for (const [v, name] of [[t.supported, 'supported'], [t.enabled, 'enabled']] as const) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError(PROTOCOL, `systemCapabilities.${name}`, `${v} is not a 16-bit map`);
      }
      return tlv(w, TLV_SYSTEM_CAPABILITIES, 'systemCapabilities', (v) => v.u16(t.supported).u16(t.enabled));
    case 'management-address':
      return tlv(w, TLV_MANAGEMENT_ADDRESS, 'managementAddress', (v) => writeManagementAddress(v, t));
    case 'org-specific': {
      const oui = /^[0-9a-f]{2}(:[0-9a-f]{2}){2}$/i.test(t.oui) ? t.oui.split(':').map((h) => parseInt(h, 16)) : undefined;
      if (!oui) throw new EncodeError(PROTOCOL, 'orgSpecific.oui', `'${t.oui}' is not an OUI (aa:bb:cc)`);
      byteField(t.subtype, 'orgSpecific.subtype');
      return tlv(w, TLV_ORG_SPECIFIC, 'orgSpecific', (v) => v.bytes(Uint8Array.from(oui)).u8(t.subtype).bytes(t.info));
    }
    case 'unknown':
      // Types 0..3 would be read back as End or a second mandatory TLV.
      if (!Number.isInteger(t.type) || t.type < 4 || t.type > 127) throw new EncodeError(PROTOCOL, 'tlv.type', `${t.type} is not an optional TLV type (4..127)`);
      return tlv(w, t.type, `TLV ${t.type}`, (v) => v.bytes(t.raw));
  }
}

function writeManagementAddress(w: ByteWriter, m: ManagementAddress): void {
  const [family, bytes] = networkAddressBytes(m.address, 'managementAddress.address');
  if (bytes.length < 1 || bytes.length > 31) throw new EncodeError(PROTOCOL, 'managementAddress.address', `${bytes.length} bytes, must be 1..31`);
  const numbering = typeof m.interfaceNumbering === 'number' ? m.interfaceNumbering : NUMBERING.indexOf(m.interfaceNumbering) + 1;
  byteField(numbering, 'managementAddress.interfaceNumbering');
  if (!Number.isInteger(m.interfaceNumber) || m.interfaceNumber < 0 || m.interfaceNumber > 0xffffffff) {
    throw new EncodeError(PROTOCOL, 'managementAddress.interfaceNumber', `${m.interfaceNumber} is not 0..4294967295`);
  }
  if (m.oid.length > MAX_OID) throw new EncodeError(PROTOCOL, 'managementAddress.oid', `${m.oid.length} bytes, at most ${MAX_OID}`);
  w.u8(bytes.length + 1).u8(family).bytes(bytes).u8(numbering).u32(m.interfaceNumber).u8(m.oid.length).bytes(m.oid);
}

function text(w: ByteWriter, type: number, field: string, s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > MAX_STRING) throw new EncodeError(PROTOCOL, field, `${b.length} bytes, 802.1AB allows at most ${MAX_STRING}`);
  tlv(w, type, field, (v) => v.bytes(b));
}

/** Writes the value first, then its header; checks the value fits min..max (default 0..511). */
function tlv(w: ByteWriter, type: number, field: string, value: (v: ByteWriter) => void, min = 0, max = MAX_TLV_VALUE): void {
  const v = new ByteWriter(64);
  value(v);
  if (v.length < min || v.length > max) throw new EncodeError(PROTOCOL, field, `value of ${v.length} bytes, must be ${min}..${max}`);
  w.u16((type << 9) | v.length).bytes(v.finish());
}

/** The first TLV of a kind (system name, say), or undefined. */
export function findTlv<K extends LldpTlv['kind']>(du: Lldpdu, kind: K): Extract<LldpTlv, { kind: K }> | undefined {
  return du.tlvs.find((t): t is Extract<LldpTlv, { kind: K }> => t.kind === kind);
}

export const systemNameOf = (du: Lldpdu): string | undefined => findTlv(du, 'system-name')?.text;
export const portDescriptionOf = (du: Lldpdu): string | undefined => findTlv(du, 'port-description')?.text;
