import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { EV_NO_ACTION } from './event-types.js';
import { DIGEST_SIZE, TPM_ALG_ID, hashAlgFromId, type HashAlg } from './hash-alg.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/**
 * The TCG PC Client crypto-agile event log (tpm.md §3.1): a SHA1-style TCG_PCR_EVENT carrying
 * the Spec ID Event03 header, then TCG_PCR_EVENT2 entries. Everything is little-endian.
 */

export interface TcgEvent {
  pcrIndex: number;
  eventType: number;
  digests: Array<{ alg: HashAlg; digest: Uint8Array }>;
  data: Uint8Array;
}

export interface SpecIdEvent {
  platformClass: number;
  specVersion: { major: number; minor: number; errata: number };
  uintnSize: number;
  algorithms: HashAlg[];
  vendorInfo: Uint8Array;
}

export interface EventLog {
  specId: SpecIdEvent;
  /** The entries after the Spec ID header. */
  events: TcgEvent[];
}

export interface EventLogLimits {
  maxEvents?: number;
  maxEventSize?: number;
}

const PROTO = 'tcg-event-log';
const SPEC_ID_SIGNATURE = Buffer.from('Spec ID Event03\0', 'latin1');
/** PCRs a PC Client TPM implements; an index beyond them cannot be extended. */
export const PCR_COUNT = 24;
const DEFAULT_LIMITS: Required<EventLogLimits> = { maxEvents: 10_000, maxEventSize: 16 * 1024 * 1024 };

/** The header firmware writes: PC Client, spec 2.0 errata 2, UINT64 UINTN. */
export function defaultSpecId(banks: readonly HashAlg[]): SpecIdEvent {
  return {
    platformClass: 0,
    specVersion: { major: 2, minor: 0, errata: 2 },
    uintnSize: 2,
    algorithms: [...banks],
    vendorInfo: new Uint8Array(),
  };
}

export function decodeEventLog(buf: Uint8Array, limits?: EventLogLimits): Result<EventLog, DecodeError> {
  const lim = { ...DEFAULT_LIMITS, ...limits };
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const specId = readSpecIdEvent(r);
    const events: TcgEvent[] = [];
    while (r.remaining > 0) {
      if (events.length >= lim.maxEvents) r.fail('limit', `event[${events.length}]`, `more than ${lim.maxEvents} events`);
      events.push(readEvent2(r, events.length, specId.algorithms, lim.maxEventSize));
    }
    return ok({ specId, events });
  });
}

function readSpecIdEvent(r: ByteReader): SpecIdEvent {
  const pcrAt = r.offset;
  if (r.u32le('specId.pcrIndex') !== 0) r.fail('malformed', 'specId.pcrIndex', 'must be 0', pcrAt);
  const typeAt = r.offset;
  const type = r.u32le('specId.eventType');
  if (type !== EV_NO_ACTION) r.fail('malformed', 'specId.eventType', `0x${type.toString(16)} is not EV_NO_ACTION`, typeAt);
  const digestAt = r.offset;
  if (r.bytes(20, 'specId.digest').some((b) => b !== 0)) r.fail('malformed', 'specId.digest', 'must be zero', digestAt);
  const size = r.u32le('specId.eventDataSize');
  const s: ByteReader = r.sub(size, 'specId.event');

  const sigAt = s.offset;
  if (!Buffer.from(s.bytes(16, 'specId.signature')).equals(SPEC_ID_SIGNATURE)) {
    s.fail('malformed', 'specId.signature', 'not "Spec ID Event03"', sigAt);
  }
  const platformClass = s.u32le('specId.platformClass');
  const minor = s.u8('specId.specVersionMinor');
  const major = s.u8('specId.specVersionMajor');
  const errata = s.u8('specId.specErrata');
  const uintnSize = s.u8('specId.uintnSize');
  const countAt = s.offset;
  const count = s.u32le('specId.numberOfAlgorithms');
  if (count === 0) s.fail('malformed', 'specId.numberOfAlgorithms', 'no algorithms', countAt);
  if (count * 4 > s.remaining) s.fail('malformed', 'specId.numberOfAlgorithms', `${count} algorithms do not fit`, countAt);
  const algorithms: HashAlg[] = [];
  for (let i = 0; i < count; i++) {
    const idAt = s.offset;
    const id = s.u16le(`specId.algorithms[${i}].algorithmId`);
    const alg = hashAlgFromId(id);
    if (!alg) s.fail('unsupported', `specId.algorithms[${i}].algorithmId`, `TPM_ALG_ID 0x${id.toString(16).padStart(4, '0')}`, idAt);
    if (algorithms.includes(alg)) s.fail('malformed', `specId.algorithms[${i}].algorithmId`, `${alg} listed twice`, idAt);
    const sizeAt2 = s.offset;
    const digestSize = s.u16le(`specId.algorithms[${i}].digestSize`);
    if (digestSize !== DIGEST_SIZE[alg]) {
      s.fail('malformed', `specId.algorithms[${i}].digestSize`, `${alg} digests are ${DIGEST_SIZE[alg]} bytes, not ${digestSize}`, sizeAt2);
    }
    algorithms.push(alg);
  }
  const vendorInfoSize = s.u8('specId.vendorInfoSize');
  const vendorInfo = s.bytes(vendorInfoSize, 'specId.vendorInfo');
  if (s.remaining > 0) s.fail('malformed', 'specId.event', `${s.remaining} bytes after vendorInfo`);
  return { platformClass, specVersion: { major, minor, errata }, uintnSize, algorithms, vendorInfo };
}

function readEvent2(r: ByteReader, i: number, banks: readonly HashAlg[], maxEventSize: number): TcgEvent {
  const f = `event[${i}]`;
  const pcrAt = r.offset;
  const pcrIndex = r.u32le(`${f}.pcrIndex`);
  if (pcrIndex >= PCR_COUNT) r.fail('malformed', `${f}.pcrIndex`, `PCR ${pcrIndex} does not exist`, pcrAt);
  const eventType = r.u32le(`${f}.eventType`);
  const countAt = r.offset;
  const count = r.u32le(`${f}.digestCount`);
  if (count !== banks.length) {
    r.fail('malformed', `${f}.digestCount`, `${count} digests, the Spec ID header declares ${banks.length}`, countAt);
  }
  const digests: TcgEvent['digests'] = [];
  for (let d = 0; d < count; d++) {
    const algAt = r.offset;
    const id = r.u16le(`${f}.digests[${d}].hashAlg`);
    const alg = hashAlgFromId(id);
    if (!alg || !banks.includes(alg)) {
      r.fail('malformed', `${f}.digests[${d}].hashAlg`, `0x${id.toString(16).padStart(4, '0')} is not a bank of this log`, algAt);
    }
    if (digests.some((x) => x.alg === alg)) r.fail('malformed', `${f}.digests[${d}].hashAlg`, `${alg} given twice`, algAt);
    digests.push({ alg, digest: r.bytes(DIGEST_SIZE[alg], `${f}.digests[${d}].digest`) });
  }
  const sizeAt = r.offset;
  const size = r.u32le(`${f}.eventSize`);
  if (size > maxEventSize) r.fail('limit', `${f}.eventSize`, `${size} bytes, limit ${maxEventSize}`, sizeAt);
  if (size > r.remaining) {
    throw new DecodeError(PROTO, 'truncated', r.offset, `${f}.event`, `eventSize ${size} runs past the end (${r.remaining} left)`);
  }
  return { pcrIndex, eventType, digests, data: r.bytes(size, `${f}.event`) };
}

/** The complete first entry (TCG_PCR_EVENT with the Spec ID Event03 structure). */
export function encodeSpecIdEvent(specOrBanks: readonly HashAlg[] | SpecIdEvent): Buffer {
  const spec = isBankList(specOrBanks) ? defaultSpecId(specOrBanks) : specOrBanks;
  if (spec.algorithms.length === 0) throw new EncodeError(PROTO, 'specId.algorithms', 'at least one bank is needed');
  if (new Set(spec.algorithms).size !== spec.algorithms.length) {
    throw new EncodeError(PROTO, 'specId.algorithms', 'a bank is listed twice');
  }
  if (spec.vendorInfo.length > 0xff) throw new EncodeError(PROTO, 'specId.vendorInfo', 'longer than 255 bytes');
  const body = new ByteWriter()
    .bytes(SPEC_ID_SIGNATURE)
    .u32le(spec.platformClass)
    .u8(spec.specVersion.minor)
    .u8(spec.specVersion.major)
    .u8(spec.specVersion.errata)
    .u8(spec.uintnSize)
    .u32le(spec.algorithms.length);
  for (const alg of spec.algorithms) body.u16le(TPM_ALG_ID[alg]).u16le(DIGEST_SIZE[alg]);
  const event = body.u8(spec.vendorInfo.length).bytes(spec.vendorInfo).finish();
  return new ByteWriter(64 + event.length).u32le(0).u32le(EV_NO_ACTION).bytes(new Uint8Array(20)).u32le(event.length).bytes(event).finish();
}

/** One TCG_PCR_EVENT2. Digests keep their given order and must cover exactly `banks`. */
export function encodeTcgEvent2(e: TcgEvent, banks: readonly HashAlg[]): Buffer {
  if (!Number.isInteger(e.pcrIndex) || e.pcrIndex < 0 || e.pcrIndex >= PCR_COUNT) {
    throw new EncodeError(PROTO, 'pcrIndex', `${e.pcrIndex} is not a PCR (0–${PCR_COUNT - 1})`);
  }
  if (e.digests.length !== banks.length || banks.some((b) => !e.digests.some((d) => d.alg === b))) {
    throw new EncodeError(PROTO, 'digests', `need one digest per bank (${banks.join(',')}), got ${e.digests.map((d) => d.alg).join(',')}`);
  }
  const w = new ByteWriter(64 + e.data.length).u32le(e.pcrIndex).u32le(e.eventType >>> 0).u32le(e.digests.length);
  for (const d of e.digests) {
    if (d.digest.length !== DIGEST_SIZE[d.alg]) {
      throw new EncodeError(PROTO, `digests.${d.alg}`, `${d.digest.length} bytes, ${d.alg} needs ${DIGEST_SIZE[d.alg]}`);
    }
    w.u16le(TPM_ALG_ID[d.alg]).bytes(d.digest);
  }
  return w.u32le(e.data.length).bytes(e.data).finish();
}

export function encodeEventLog(log: EventLog): Buffer {
  return Buffer.concat([encodeSpecIdEvent(log.specId), ...log.events.map((e) => encodeTcgEvent2(e, log.specId.algorithms))]);
}

function isBankList(v: readonly HashAlg[] | SpecIdEvent): v is readonly HashAlg[] {
  return Array.isArray(v);
}
