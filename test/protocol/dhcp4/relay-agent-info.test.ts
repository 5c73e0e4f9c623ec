import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/errors.js';
import { dhcp4Request, encodeDhcp4 } from '../../../src/protocol/dhcp4/packet.js';
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  optionDataOffset,
  relayAgentInfo,
  relayAgentSubOption,
  RelayAgentSubOptionCode,
} from '../../../src/protocol/dhcp4/relay-agent-info.js';

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
/** Circuit id "rack1/sw1/eth7", remote id "sw1", then a RFC 3527 link-selection (5) sub-option. */
const WIRE = `010e${Buffer.from('rack1/sw1/eth7').toString('hex')}0203${Buffer.from('sw1').toString('hex')}05040a010000`;

function decodeError(data: Uint8Array, base = 0): DecodeError {
  const r = decodeRelayAgentInfo(data, base);
  if (r.ok) throw new Error('expected a decode error');
  return r.error;
}

describe('decodeRelayAgentInfo', () => {
  it('reads the circuit id, the remote id and an opaque sub-option, in wire order', () => {
    const r = decodeRelayAgentInfo(fromHex(WIRE));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.subOptions.map((s) => s.code)).toEqual([1, 2, 5]);
    expect(Buffer.from(relayAgentSubOption(r.value, RelayAgentSubOptionCode.CIRCUIT_ID)!).toString()).toBe('rack1/sw1/eth7');
    expect(Buffer.from(relayAgentSubOption(r.value, RelayAgentSubOptionCode.REMOTE_ID)!).toString()).toBe('sw1');
    expect(Array.from(relayAgentSubOption(r.value, 5)!)).toEqual([10, 1, 0, 0]);
  });

  it('re-encodes a decoded option byte for byte, unknown and repeated sub-options included', () => {
    const withRepeat = fromHex(`${WIRE}0100ff0201aa`);
    const r = decodeRelayAgentInfo(withRepeat);
    expect(r.ok && Buffer.from(encodeRelayAgentInfo(r.value)).toString('hex')).toBe(Buffer.from(withRepeat).toString('hex'));
  });

  it('round-trips the ids a relay adds, circuit id first', () => {
    const data = encodeRelayAgentInfo(relayAgentInfo({ circuitId: 'swp12', remoteId: 'leaf-03' }));
    expect(Buffer.from(data).toString('hex')).toBe(`0105${Buffer.from('swp12').toString('hex')}0207${Buffer.from('leaf-03').toString('hex')}`);
    const r = decodeRelayAgentInfo(data);
    expect(r.ok && r.value).toEqual(relayAgentInfo({ circuitId: 'swp12', remoteId: 'leaf-03' }));
  });

  it('copies the values: they do not alias the buffer they were read from', () => {
    const data = fromHex(WIRE);
    const r = decodeRelayAgentInfo(data);
    data.fill(0);
    expect(r.ok && Buffer.from(r.value.subOptions[1]!.data).toString()).toBe('sw1');
  });

  it('reads an empty field as no sub-options', () => {
    expect(decodeRelayAgentInfo(new Uint8Array(0))).toEqual({ ok: true, value: { subOptions: [] } });
  });

  it('names a missing length byte at its absolute offset', () => {
    const e = decodeError(fromHex('0103616263' + '02'), 250);
    expect(e.code).toBe('BL_DECODE_TRUNCATED');
    expect(e.offset).toBe(256);
    expect(e.field).toBe('sub-option 2 (remote-id) length');
  });

  it('names a value longer than the field at the absolute offset where it starts', () => {
    const e = decodeError(fromHex('0105616263'), 300);
    expect(e.code).toBe('BL_DECODE_TRUNCATED');
    expect(e.offset).toBe(302);
    expect(e.field).toBe('sub-option 1 (circuit-id) value');
    expect(e.message).toBe('dhcp4.relay-agent-info: truncated sub-option 1 (circuit-id) value at offset 302: needs 5 bytes, 3 left');
  });

  it('names an opaque sub-option by its code', () => {
    const e = decodeError(fromHex('0902'), 10);
    expect(e.field).toBe('sub-option 9 (opaque) value');
    expect(e.offset).toBe(12);
  });

  it('refuses a field longer than one option can carry (joined RFC 3396 pieces)', () => {
    const e = decodeError(new Uint8Array(256), 243);
    expect(e.code).toBe('BL_DECODE_LIMIT');
    expect(e.offset).toBe(243);
    expect(e.field).toBe('agent information field');
  });
});

describe('encodeRelayAgentInfo', () => {
  it('refuses a sub-option value longer than 255 bytes', () => {
    expect(() => encodeRelayAgentInfo({ subOptions: [{ code: 1, data: new Uint8Array(256) }] })).toThrow(EncodeError);
    expect(() => encodeRelayAgentInfo({ subOptions: [{ code: 1, data: new Uint8Array(256) }] })).toThrow(/sub-option 1 \(circuit-id\): 256 bytes, at most 255 fit/);
  });

  it('refuses sub-options that together exceed 255 bytes', () => {
    const ids = relayAgentInfo({ circuitId: 'c'.repeat(200), remoteId: 'r'.repeat(52) });
    expect(() => encodeRelayAgentInfo(ids)).toThrow(/agent information field: 256 bytes of sub-options, at most 255/);
    expect(encodeRelayAgentInfo(relayAgentInfo({ circuitId: 'c'.repeat(200), remoteId: 'r'.repeat(51) }))).toHaveLength(255);
  });

  it('refuses a code outside 0..255', () => {
    expect(() => encodeRelayAgentInfo({ subOptions: [{ code: 256, data: new Uint8Array(1) }] })).toThrow(/sub-option code: 256 is not 0..255/);
  });
});

describe('optionDataOffset', () => {
  it("finds option 82's data in an encoded message, past PADs and other options", () => {
    const msg = encodeDhcp4(dhcp4Request({ xid: 1, chaddr: '02:00:00:00:00:01', options: [{ code: 53, data: Uint8Array.of(1) }, { code: 82, data: fromHex(WIRE) }] }));
    const at = optionDataOffset(msg, 82)!;
    // Cookie at 236, option 53 at 240..242, option 82's code and length at 243 and 244.
    expect(at).toBe(245);
    expect(Buffer.from(msg.subarray(at, at + 2)).toString('hex')).toBe('010e');
    expect(optionDataOffset(msg, 61)).toBeUndefined();
  });

  it('points a decode error of a broken option 82 inside the message', () => {
    const msg = encodeDhcp4(dhcp4Request({ xid: 1, chaddr: '02:00:00:00:00:01', options: [{ code: 82, data: fromHex('0109616263') }] }));
    const at = optionDataOffset(msg, 82)!;
    const e = decodeError(msg.subarray(at, at + 5), at);
    expect(e.offset).toBe(at + 2);
    expect(msg[e.offset]).toBe(0x61);
  });
});
