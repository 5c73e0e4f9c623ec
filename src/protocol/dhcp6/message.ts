import type { DecodeError } from '../../errors.js';
import { EncodeError } from '../../errors.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';

/** RFC 8415 §7.3 message types. */
export const Dhcp6MessageType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;
export type Dhcp6MessageType = (typeof Dhcp6MessageType)[keyof typeof Dhcp6MessageType];

/** RFC 8415 §21 and RFC 5970 option codes bootlab reads or writes. */
export const Dhcp6Option = {
  CLIENTID: 1,
  SERVERID: 2,
  IA_NA: 3,
  IAADDR: 5,
  ORO: 6,
  ELAPSED_TIME: 8,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  USER_CLASS: 15,
  VENDOR_CLASS: 16,
  VENDOR_OPTS: 17,
  DNS_SERVERS: 23,
  BOOTFILE_URL: 59,
  BOOTFILE_PARAM: 60,
  CLIENT_ARCH_TYPE: 61,
} as const;

export interface Dhcp6OptionEntry {
  code: number;
  data: Uint8Array;
}

/** A client/server message; unknown options are kept as bytes, in wire order. */
export interface Dhcp6Message {
  type: number;
  /** 24-bit transaction id. */
  transactionId: number;
  options: Dhcp6OptionEntry[];
}

export interface Dhcp6Limits {
  maxOptions?: number;
}

const PROTOCOL = 'dhcp6';
const DEFAULT_MAX_OPTIONS = 256;
/** msg-type and the 24-bit transaction id. */
const HEADER_BYTES = 4;
/** option-code and option-len. */
const OPTION_HEADER_BYTES = 4;

export function decodeDhcp6(buf: Uint8Array, limits: Dhcp6Limits = {}): Result<Dhcp6Message, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTOCOL);
    const typeAt = r.offset;
    const type = r.u8('msg-type');
    // Relay messages have another header (RFC 8415 §9); bootlab serves clients on-link.
    // What decodes must re-encode: the same set of types as encodeDhcp6 takes.
    if (!isClientServerType(type)) r.fail('unsupported', 'msg-type', `message type ${type} is not a client/server message`, typeAt);
    const transactionId = (r.u8('transaction-id') << 16) | r.u16('transaction-id');
    return ok({ type, transactionId, options: readOptions(r, limits.maxOptions ?? DEFAULT_MAX_OPTIONS) });
  });
}

/** RFC 8415 §7.3: SOLICIT (1) to INFORMATION-REQUEST (11); relay messages and unassigned types are not. */
function isClientServerType(type: number): boolean {
  return Number.isInteger(type) && type >= Dhcp6MessageType.SOLICIT && type <= Dhcp6MessageType.INFORMATION_REQUEST;
}

/**
 * Where option `code`'s data starts in the encoded message `m` was decoded from: the
 * header and the options before it fix that, so nested decoders can report absolute
 * offsets (see decodeIaNa). Undefined when `m` has no such option.
 */
export function optionDataOffset6(m: { options: readonly Dhcp6OptionEntry[] }, code: number): number | undefined {
  let at = HEADER_BYTES;
  for (const o of m.options) {
    if (o.code === code) return at + OPTION_HEADER_BYTES;
    at += OPTION_HEADER_BYTES + o.data.length;
  }
  return undefined;
}

/** Options fill the rest of `r`: code u16, length u16, data. */
export function readOptions(r: ByteReader, maxOptions: number): Dhcp6OptionEntry[] {
  const options: Dhcp6OptionEntry[] = [];
  while (r.remaining > 0) {
    if (options.length >= maxOptions) r.fail('limit', 'options', `more than ${maxOptions} options`);
    const code = r.u16('option-code');
    const len = r.u16(`option ${code} length`);
    options.push({ code, data: r.bytes(len, `option ${code}`) });
  }
  return options;
}

export function encodeDhcp6(m: Dhcp6Message): Buffer {
  if (!isClientServerType(m.type)) throw new EncodeError(PROTOCOL, 'msg-type', `${m.type} is not a client/server message type`);
  if (!Number.isInteger(m.transactionId) || m.transactionId < 0 || m.transactionId > 0xffffff) {
    throw new EncodeError(PROTOCOL, 'transaction-id', `${m.transactionId} does not fit 24 bits`);
  }
  const w = new ByteWriter(512).u8(m.type).u8(m.transactionId >>> 16).u16(m.transactionId & 0xffff);
  writeOptions(w, m.options);
  return w.finish();
}

export function writeOptions(w: ByteWriter, options: readonly Dhcp6OptionEntry[]): void {
  for (const o of options) {
    if (o.data.length > 0xffff) throw new EncodeError(PROTOCOL, `option ${o.code}`, `${o.data.length} bytes do not fit a 16-bit length`);
    w.u16(o.code).u16(o.data.length).bytes(o.data);
  }
}

export function getOption6(m: { options: readonly Dhcp6OptionEntry[] }, code: number): Uint8Array | undefined {
  return m.options.find((o) => o.code === code)?.data;
}
