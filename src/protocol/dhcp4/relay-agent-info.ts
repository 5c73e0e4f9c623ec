import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { err, ok, type Result } from '../result.js';
import { getOption } from './options.js';
import { DHCP4_HEADER_LEN, plainBytes, type Dhcp4Packet } from './packet.js';

/**
 * Option 82, Relay Agent Information (RFC 3046 §2.0): a sequence of sub-options, each
 * `[code u8][len u8][value]`. Sub-option 1 is the Agent Circuit ID (the port the request
 * came in on), 2 the Agent Remote ID (the remote end of that circuit). Every other
 * sub-option (RFC 3256, 3527, 3993, 4030, 5010, 5107 …) is carried as opaque bytes in
 * wire order, so a decoded option re-encodes byte-for-byte.
 */
export interface RelayAgentInfo {
  subOptions: RelayAgentSubOption[];
}

export interface RelayAgentSubOption {
  code: number;
  data: Uint8Array;
}

export const RelayAgentSubOptionCode = {
  CIRCUIT_ID: 1,
  REMOTE_ID: 2,
} as const;

export const RELAY_AGENT_INFO_OPTION = 82;

const PROTOCOL = 'dhcp4.relay-agent-info';
/** One option's length byte: the whole Agent Information field fits in 255 bytes. */
const MAX_FIELD = 255;

/**
 * `baseOffset` is where `data` starts in the enclosing message (the option's data, after
 * its code and length), so errors name absolute offsets; 0 when the payload is all there is.
 */
export function decodeRelayAgentInfo(data: Uint8Array, baseOffset = 0): Result<RelayAgentInfo, DecodeError> {
  // RFC 3046 §2.0 gives the option one length byte; a longer field (RFC 3396 pieces) is no relay's.
  if (data.length > MAX_FIELD) {
    return err(new DecodeError(PROTOCOL, 'limit', baseOffset, 'agent information field', `${data.length} bytes, at most ${MAX_FIELD} fit one option`));
  }
  const r = new ByteReader(plainBytes(data), PROTOCOL);
  const subOptions: RelayAgentSubOption[] = [];
  try {
    while (r.remaining > 0) {
      const code = r.u8('sub-option code');
      const len = r.u8(`sub-option ${code} (${subOptionName(code)}) length`);
      subOptions.push({ code, data: r.bytes(len, `sub-option ${code} (${subOptionName(code)}) value`) });
    }
  } catch (e) {
    if (e instanceof DecodeError) return err(rebase(e, baseOffset));
    throw e;
  }
  return ok({ subOptions });
}

/** The option's data (without its code and length). EncodeError when it cannot fit. */
export function encodeRelayAgentInfo(info: RelayAgentInfo): Uint8Array {
  let total = 0;
  for (const s of info.subOptions) {
    if (!Number.isInteger(s.code) || s.code < 0 || s.code > 255) throw new EncodeError(PROTOCOL, 'sub-option code', `${s.code} is not 0..255`);
    if (s.data.length > MAX_FIELD) throw new EncodeError(PROTOCOL, `sub-option ${s.code} (${subOptionName(s.code)})`, `${s.data.length} bytes, at most ${MAX_FIELD} fit`);
    total += 2 + s.data.length;
  }
  if (total > MAX_FIELD) throw new EncodeError(PROTOCOL, 'agent information field', `${total} bytes of sub-options, at most ${MAX_FIELD} fit one option`);
  const out = new Uint8Array(total);
  let at = 0;
  for (const s of info.subOptions) {
    out[at++] = s.code;
    out[at++] = s.data.length;
    out.set(s.data, at);
    at += s.data.length;
  }
  return out;
}

/** The two sub-options a relay adds (RFC 3046 §2.1), circuit id first; text as UTF-8. */
export function relayAgentInfo(ids: { circuitId: string | Uint8Array; remoteId: string | Uint8Array }): RelayAgentInfo {
  return {
    subOptions: [
      { code: RelayAgentSubOptionCode.CIRCUIT_ID, data: idBytes(ids.circuitId) },
      { code: RelayAgentSubOptionCode.REMOTE_ID, data: idBytes(ids.remoteId) },
    ],
  };
}

/**
 * A relayed request's circuit-id and remote-id as text (relays are configured with
 * printable ids, e.g. `leaf1:Ethernet4`), each absent when option 82 or that sub-option
 * is; an unreadable option 82 gives neither.
 */
export function relayAgentIds(p: Pick<Dhcp4Packet, 'options'>): { circuitId?: string; remoteId?: string } {
  const data = getOption(p, RELAY_AGENT_INFO_OPTION);
  if (!data) return {};
  const info = decodeRelayAgentInfo(data);
  if (!info.ok) return {};
  const text = (code: number): string | undefined => {
    const id = relayAgentSubOption(info.value, code);
    return id ? Buffer.from(id).toString('utf8') : undefined;
  };
  const circuitId = text(RelayAgentSubOptionCode.CIRCUIT_ID);
  const remoteId = text(RelayAgentSubOptionCode.REMOTE_ID);
  return { ...(circuitId !== undefined ? { circuitId } : {}), ...(remoteId !== undefined ? { remoteId } : {}) };
}

/** The first sub-option of `code`, or undefined. */
export function relayAgentSubOption(info: RelayAgentInfo, code: number): Uint8Array | undefined {
  return info.subOptions.find((s) => s.code === code)?.data;
}

/**
 * Where the data of option `code` starts in an encoded message (its first piece, in the
 * options field after the cookie), for decoders that name absolute offsets. Undefined
 * when it is not there (or only in an overloaded sname/file field).
 */
export function optionDataOffset(message: Uint8Array, code: number): number | undefined {
  let at = DHCP4_HEADER_LEN + 4;
  while (at < message.length) {
    const c = message[at]!;
    if (c === 0) {
      at++;
      continue;
    }
    if (c === 255 || at + 1 >= message.length) return undefined;
    if (c === code) return at + 2;
    at += 2 + message[at + 1]!;
  }
  return undefined;
}

function subOptionName(code: number): string {
  return code === RelayAgentSubOptionCode.CIRCUIT_ID ? 'circuit-id' : code === RelayAgentSubOptionCode.REMOTE_ID ? 'remote-id' : 'opaque';
}

function idBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'utf8')) : v;
}

function rebase(e: DecodeError, base: number): DecodeError {
  if (base === 0) return e;
  // The message is `${protocol}: ${reason} ${field} at offset ${offset}: ${detail}`.
  const marker = ` at offset ${e.offset}: `;
  const i = e.message.indexOf(marker);
  return new DecodeError(e.protocol, e.reason, e.offset + base, e.field, i < 0 ? undefined : e.message.slice(i + marker.length));
}
