import { describe, expect, it } from 'vitest';
import { decodeLldpFrame, encodeLldpFrame, LLDP_NEAREST_BRIDGE } from '../../../src/protocol/lldp/frame.js';
import type { Lldpdu } from '../../../src/protocol/lldp/lldpdu.js';

const du: Lldpdu = {
  chassisId: { kind: 'mac', mac: '02:00:00:aa:bb:cc' },
  portId: { kind: 'text', subtype: 'interface-name', text: 'swp1' },
  ttlSeconds: 120,
  tlvs: [{ kind: 'system-name', text: 'leaf1' }],
};

describe('LLDP Ethernet frame', () => {
  it('sends to the nearest-bridge address with ethertype 0x88cc, padded to 60 bytes', () => {
    const f = encodeLldpFrame({ source: '02:00:00:aa:bb:cc', lldpdu: du });
    expect(f.subarray(0, 6).toString('hex')).toBe('0180c200000e');
    expect(f.subarray(6, 12).toString('hex')).toBe('020000aabbcc');
    expect(f.readUInt16BE(12)).toBe(0x88cc);
    expect(f.length).toBe(60);
    const r = decodeLldpFrame(f);
    expect(r.ok && r.value).toEqual({ destination: LLDP_NEAREST_BRIDGE, source: '02:00:00:aa:bb:cc', lldpdu: du });
  });

  it('reads an 802.1Q tag and keeps error offsets absolute in the frame', () => {
    const f = encodeLldpFrame({ source: '02:00:00:aa:bb:cc', vlan: { id: 100, priority: 7, dropEligible: false }, lldpdu: du });
    expect(f.subarray(12, 16).toString('hex')).toBe('8100e064');
    const r = decodeLldpFrame(f);
    expect(r.ok && r.value.vlan).toEqual({ id: 100, priority: 7, dropEligible: false });
    // Chassis ID's header starts at 18; make its type Port ID.
    const bad = Buffer.from(f);
    bad[18] = 0x04;
    expect(decodeLldpFrame(bad)).toMatchObject({ ok: false, error: { name: 'LldpOrderError', offset: 18 } });
  });

  it('accepts the other two LLDP group addresses and rejects any other destination', () => {
    const f = encodeLldpFrame({ destination: '01:80:c2:00:00:03', source: '02:00:00:aa:bb:cc', lldpdu: du });
    expect(decodeLldpFrame(f).ok).toBe(true);
    const unicast = Buffer.from(f);
    unicast[0] = 0x02;
    expect(decodeLldpFrame(unicast)).toMatchObject({ ok: false, error: { code: 'BL_DECODE_MALFORMED', offset: 0, field: 'destination' } });
  });

  it('rejects another ethertype as unsupported at its offset', () => {
    const f = encodeLldpFrame({ source: '02:00:00:aa:bb:cc', lldpdu: du });
    f.writeUInt16BE(0x0800, 12);
    expect(decodeLldpFrame(f)).toMatchObject({ ok: false, error: { code: 'BL_DECODE_UNSUPPORTED', offset: 12, field: 'ethertype' } });
    expect(decodeLldpFrame(f.subarray(0, 13))).toMatchObject({ ok: false, error: { code: 'BL_DECODE_TRUNCATED', offset: 12 } });
  });

  it('refuses a source that is not a MAC and a VLAN id past 4095', () => {
    expect(() => encodeLldpFrame({ source: 'x', lldpdu: du })).toThrow(/source/);
    expect(() => encodeLldpFrame({ source: '02:00:00:aa:bb:cc', vlan: { id: 4096, priority: 0, dropEligible: false }, lldpdu: du })).toThrow(/vlan.id/);
  });
});
