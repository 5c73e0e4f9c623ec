import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeEventLog,
  encodeEventLog,
  encodeSpecIdEvent,
  encodeTcgEvent2,
  type EventLog,
  type TcgEvent,
} from '../../../src/protocol/tcg/event-log.js';
import { EV_EFI_ACTION, EV_NO_ACTION, EV_S_CRTM_VERSION, EV_SEPARATOR } from '../../../src/protocol/tcg/event-types.js';
import type { HashAlg } from '../../../src/protocol/tcg/hash-alg.js';
import { DecodeError } from '../../../src/errors.js';

const banks: HashAlg[] = ['sha1', 'sha256'];
const event = (pcrIndex: number, eventType: number, data: Uint8Array, algs = banks): TcgEvent => ({
  pcrIndex,
  eventType,
  digests: algs.map((alg) => ({ alg, digest: createHash(alg).update(data).digest() })),
  data,
});
const sample = (): EventLog => ({
  specId: { platformClass: 0, specVersion: { major: 2, minor: 0, errata: 2 }, uintnSize: 2, algorithms: banks, vendorInfo: new Uint8Array() },
  events: [
    event(0, EV_S_CRTM_VERSION, Buffer.from('1.0\0', 'utf16le')),
    event(4, EV_EFI_ACTION, Buffer.from('Calling EFI Application from Boot Option')),
    event(7, EV_SEPARATOR, Buffer.alloc(4)),
  ],
});
// SpecID entry: 32-byte header + 29 + 4·2 bytes; the first TCG_PCR_EVENT2 starts right after.
const SPEC_ID_LEN = 32 + 37;

function decodeError(buf: Uint8Array, limits?: { maxEvents?: number; maxEventSize?: number }): DecodeError {
  const r = decodeEventLog(buf, limits);
  if (r.ok) throw new Error('expected a decode error');
  return r.error;
}

describe('encodeSpecIdEvent', () => {
  it('writes the Spec ID Event03 header as a SHA1-style TCG_PCR_EVENT, little-endian', () => {
    const b = encodeSpecIdEvent(['sha1', 'sha256']);
    expect(b.length).toBe(SPEC_ID_LEN);
    expect(b.subarray(0, 8).toString('hex')).toBe('0000000003000000');
    expect(b.subarray(8, 28).every((x) => x === 0)).toBe(true);
    expect(b.readUInt32LE(28)).toBe(37);
    expect(b.subarray(32, 48).toString('latin1')).toBe('Spec ID Event03\0');
    expect(b.subarray(48, 60).toString('hex')).toBe('00000000' + '00020202' + '02000000');
    expect(b.subarray(60, 68).toString('hex')).toBe('04001400' + '0b002000');
    expect(b[68]).toBe(0);
  });

  it('refuses an empty bank list', () => {
    expect(() => encodeSpecIdEvent([])).toThrow(/at least one bank/);
  });
});

describe('encodeTcgEvent2', () => {
  it('writes pcrIndex, type, digests with their alg ids and the sized event data', () => {
    const b = encodeTcgEvent2(event(7, EV_SEPARATOR, Buffer.alloc(4)), banks);
    expect(b.readUInt32LE(0)).toBe(7);
    expect(b.readUInt32LE(4)).toBe(EV_SEPARATOR);
    expect(b.readUInt32LE(8)).toBe(2);
    expect(b.readUInt16LE(12)).toBe(0x0004);
    expect(b.subarray(14, 34).toString('hex')).toBe('9069ca78e7450a285173431b3e52c5c25299e473');
    expect(b.readUInt16LE(34)).toBe(0x000b);
    expect(b.subarray(36, 68).toString('hex')).toBe('df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119');
    expect(b.readUInt32LE(68)).toBe(4);
    expect(b.length).toBe(76);
  });

  it('refuses an event without a digest for every bank', () => {
    expect(() => encodeTcgEvent2(event(0, EV_SEPARATOR, Buffer.alloc(4), ['sha256']), banks)).toThrow(/one digest per bank/);
  });

  it('refuses a digest of the wrong size and a PCR that does not exist', () => {
    const e = event(0, EV_SEPARATOR, Buffer.alloc(4));
    e.digests[1] = { alg: 'sha256', digest: new Uint8Array(20) };
    expect(() => encodeTcgEvent2(e, banks)).toThrow(/sha256 needs 32/);
    expect(() => encodeTcgEvent2(event(24, EV_SEPARATOR, Buffer.alloc(4)), banks)).toThrow(/not a PCR/);
  });
});

describe('decodeEventLog', () => {
  it('round-trips a log byte-for-byte', () => {
    const bytes = encodeEventLog(sample());
    const r = decodeEventLog(bytes);
    if (!r.ok) throw r.error;
    expect(r.value.specId.algorithms).toEqual(banks);
    expect(r.value.specId.specVersion).toEqual({ major: 2, minor: 0, errata: 2 });
    expect(r.value.events).toHaveLength(3);
    expect(Buffer.from(r.value.events[1]!.data).toString()).toBe('Calling EFI Application from Boot Option');
    expect(encodeEventLog(r.value).equals(bytes)).toBe(true);
  });

  it('keeps vendorInfo, platform class and the digest order of each event', () => {
    const log = sample();
    log.specId = { ...log.specId, platformClass: 1, vendorInfo: Buffer.from('bootlab') };
    log.events[0]!.digests.reverse();
    const bytes = encodeEventLog(log);
    const r = decodeEventLog(bytes);
    if (!r.ok) throw r.error;
    expect(r.value.specId.platformClass).toBe(1);
    expect(Buffer.from(r.value.specId.vendorInfo).toString()).toBe('bootlab');
    expect(r.value.events[0]!.digests.map((d) => d.alg)).toEqual(['sha256', 'sha1']);
    expect(encodeEventLog(r.value).equals(bytes)).toBe(true);
  });

  it('decodes a log with only the Spec ID header as zero events', () => {
    const r = decodeEventLog(encodeSpecIdEvent(['sha256']));
    expect(r.ok && r.value.events).toEqual([]);
  });

  it('reports a truncated Spec ID header with the field and offset', () => {
    const bytes = encodeEventLog(sample());
    let e = decodeError(bytes.subarray(0, 20));
    expect([e.reason, e.field, e.offset]).toEqual(['truncated', 'specId.digest', 8]);
    e = decodeError(bytes.subarray(0, 50));
    expect([e.reason, e.field, e.offset]).toEqual(['truncated', 'specId.event', 32]);
    expect(e.code).toBe('BL_DECODE_TRUNCATED');
  });

  it('reports an unknown algorithm id in the Spec ID as unsupported at its offset', () => {
    const bytes = encodeEventLog(sample());
    bytes.writeUInt16LE(0x0012, 64); // SM3_256, the second algorithm
    const e = decodeError(bytes);
    expect([e.reason, e.field, e.offset]).toEqual(['unsupported', 'specId.algorithms[1].algorithmId', 64]);
  });

  it('rejects a Spec ID digest size that does not fit its algorithm', () => {
    const bytes = encodeEventLog(sample());
    bytes.writeUInt16LE(0x0020, 62);
    const e = decodeError(bytes);
    expect([e.reason, e.field, e.offset]).toEqual(['malformed', 'specId.algorithms[0].digestSize', 62]);
  });

  it('rejects a first entry that is not the Spec ID event', () => {
    const bytes = encodeEventLog(sample());
    bytes.write('Spec ID Event02', 32, 'latin1');
    expect(decodeError(bytes)).toMatchObject({ reason: 'malformed', field: 'specId.signature', offset: 32 });
    const b2 = encodeEventLog(sample());
    b2.writeUInt32LE(EV_SEPARATOR, 4);
    expect(decodeError(b2)).toMatchObject({ reason: 'malformed', field: 'specId.eventType', offset: 4 });
  });

  it('rejects an event whose digest count differs from the Spec ID', () => {
    const bytes = encodeEventLog(sample());
    bytes.writeUInt32LE(1, SPEC_ID_LEN + 8);
    const e = decodeError(bytes);
    expect([e.reason, e.field, e.offset]).toEqual(['malformed', 'event[0].digestCount', SPEC_ID_LEN + 8]);
  });

  it('rejects a digest in a bank the log does not declare', () => {
    const bytes = encodeEventLog(sample());
    bytes.writeUInt16LE(0x000c, SPEC_ID_LEN + 12);
    expect(decodeError(bytes)).toMatchObject({ reason: 'malformed', field: 'event[0].digests[0].hashAlg', offset: SPEC_ID_LEN + 12 });
  });

  it('reports an event size that runs past the end as truncated at the event data', () => {
    const bytes = encodeEventLog(sample());
    const e = decodeError(bytes.subarray(0, bytes.length - 1));
    expect([e.reason, e.field, e.offset]).toEqual(['truncated', 'event[2].event', bytes.length - 4]);
  });

  it('rejects a PCR index beyond the 24 PCRs', () => {
    const bytes = encodeEventLog(sample());
    bytes.writeUInt32LE(24, SPEC_ID_LEN);
    expect(decodeError(bytes)).toMatchObject({ reason: 'malformed', field: 'event[0].pcrIndex', offset: SPEC_ID_LEN });
  });

  it('stops at the maxEvents limit with the offset of the first event over it', () => {
    const log = sample();
    const bytes = encodeEventLog(log);
    const third = bytes.length - encodeTcgEvent2(log.events[2]!, banks).length;
    const e = decodeError(bytes, { maxEvents: 2 });
    expect([e.reason, e.field, e.offset]).toEqual(['limit', 'event[2]', third]);
    expect(decodeEventLog(bytes, { maxEvents: 3 }).ok).toBe(true);
  });

  it('stops at the maxEventSize limit at the eventSize field', () => {
    const bytes = encodeEventLog(sample());
    const sizeAt = SPEC_ID_LEN + 12 + 2 + 20 + 2 + 32;
    const e = decodeError(bytes, { maxEventSize: 4 });
    expect([e.reason, e.field, e.offset]).toEqual(['limit', 'event[0].eventSize', sizeAt]);
  });

  it('reads EV_NO_ACTION events after the header as ordinary entries', () => {
    const log = sample();
    log.events.unshift({ pcrIndex: 0, eventType: EV_NO_ACTION, digests: banks.map((alg) => ({ alg, digest: new Uint8Array(alg === 'sha1' ? 20 : 32) })), data: Buffer.from('StartupLocality\0\x03', 'latin1') });
    const r = decodeEventLog(encodeEventLog(log));
    expect(r.ok && r.value.events[0]!.eventType).toBe(EV_NO_ACTION);
  });
});
