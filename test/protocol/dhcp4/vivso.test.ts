import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/errors.js';
import { decodeVivso, encodeVivso, ONIE_ENTERPRISE_NUMBER, vivsoText } from '../../../src/protocol/dhcp4/vivso.js';

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
/** Option 125 of ONIE's DISCOVER in the kvm capture (dhcp-discover-options.txt). */
const ONIE_KVM_125 = '0000a67f17030a6b766d5f7838365f363404067838365f3634050130';

describe('decodeVivso', () => {
  it("reads ONIE's machine, arch and revision sub-options from a real DISCOVER", () => {
    const r = decodeVivso(fromHex(ONIE_KVM_125));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toHaveLength(1);
    expect(r.value[0]!.enterprise).toBe(ONIE_ENTERPRISE_NUMBER);
    expect(r.value[0]!.subOptions.map((s) => [s.code, vivsoText(s.data)])).toEqual([
      [3, 'kvm_x86_64'],
      [4, 'x86_64'],
      [5, '0'],
    ]);
  });

  it('reads several enterprise blocks in order', () => {
    const data = encodeVivso([
      { enterprise: 9, subOptions: [{ code: 1, data: Uint8Array.of(7) }] },
      { enterprise: ONIE_ENTERPRISE_NUMBER, subOptions: [{ code: 1, data: new Uint8Array(Buffer.from('http://x/i')) }] },
    ]);
    const r = decodeVivso(data);
    expect(r.ok && r.value.map((b) => b.enterprise)).toEqual([9, ONIE_ENTERPRISE_NUMBER]);
  });

  it('re-encodes the captured option byte for byte', () => {
    const r = decodeVivso(fromHex(ONIE_KVM_125));
    expect(r.ok && Buffer.from(encodeVivso(r.value)).toString('hex')).toBe(ONIE_KVM_125);
  });

  it.each([
    ['a truncated enterprise number', '0000a6', 'enterprise number', 100],
    ['a block length past the end', '0000a67f0a0301', 'enterprise 42623 data', 105],
    ['a sub-option length past its block', '0000a67f0303056b', 'enterprise 42623 sub-option 3 data', 107],
  ])('rejects %s with the absolute offset in the message', (_what, hex, field, offset) => {
    const r = decodeVivso(fromHex(hex), 100);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect({ code: r.error.code, field: r.error.field, offset: r.error.offset }).toEqual({ code: 'BL_DECODE_TRUNCATED', field, offset });
    expect(r.error.message).toContain(`at offset ${offset}`);
  });
});

describe('encodeVivso', () => {
  it('refuses a block longer than its one-byte length can say', () => {
    const big = { code: 1, data: new Uint8Array(200) };
    expect(() => encodeVivso([{ enterprise: 1, subOptions: [big, big] }])).toThrow(EncodeError);
    expect(() => encodeVivso([{ enterprise: 1, subOptions: [{ code: 1, data: new Uint8Array(256) }] }])).toThrow(EncodeError);
    expect(() => encodeVivso([{ enterprise: -1, subOptions: [] }])).toThrow(EncodeError);
  });
});
