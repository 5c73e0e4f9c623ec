import { describe, expect, it } from 'vitest';
import { vivsoInstallerUrl, vivsoUrlFromHex } from '../../../src/device/onie/vivso-url.js';

const block = (enterprise: number, subs: Array<[number, string]>): number[] => {
  const data = subs.flatMap(([c, t]) => [c, t.length, ...Buffer.from(t, 'latin1')]);
  return [(enterprise >>> 24) & 0xff, (enterprise >>> 16) & 0xff, (enterprise >>> 8) & 0xff, enterprise & 0xff, data.length, ...data];
};

describe('vivsoInstallerUrl', () => {
  it('handles the 101st block and ignores the ones after it, like import_vivso\'s loop guard', () => {
    const blocks = Array.from({ length: 103 }, (_, i) => block(42623, [[1, `u${i}`]]));
    expect(vivsoInstallerUrl(Uint8Array.from(blocks.flat()))).toBe('u100');
  });

  it('handles the 101st sub-option of a block and ignores the ones after it', () => {
    const subs: Array<[number, string]> = Array.from({ length: 100 }, () => [7, ''] as [number, string]);
    const bytes = block(42623, [...subs, [1, 'a'], [1, 'b']]);
    expect(vivsoInstallerUrl(Uint8Array.from(bytes))).toBe('a');
  });

  it('skips other enterprises unread, even when their data is not TLV-shaped', () => {
    const foreign = [0, 0, 0x11, 0x8b, 3, 0xff, 0xff, 0xff];
    expect(vivsoInstallerUrl(Uint8Array.from([...foreign, ...block(42623, [[1, 'http://s/ocp']])]))).toBe('http://s/ocp');
  });

  it('keeps the URL of blocks before a truncated one', () => {
    const bytes = [...block(42623, [[1, 'http://s/first']]), 0, 0, 0xa6, 0x7f, 40, 1];
    expect(vivsoInstallerUrl(Uint8Array.from(bytes))).toBe('http://s/first');
  });

  it('takes nothing from an OCP block whose sub-options do not decode', () => {
    const bytes = [...block(42623, [[1, 'http://s/first']]), 0, 0, 0xa6, 0x7f, 3, 1, 9, 0x68];
    expect(vivsoInstallerUrl(Uint8Array.from(bytes))).toBe('http://s/first');
    expect(vivsoInstallerUrl(Uint8Array.from([0, 0, 0xa6, 0x7f, 3, 1, 9, 0x68]))).toBeUndefined();
  });

  it('accepts upper- and lower-case hex and refuses anything else', () => {
    const hex = Buffer.from(block(42623, [[1, 'http://s/x']])).toString('hex');
    expect(vivsoUrlFromHex(hex)).toBe('http://s/x');
    expect(vivsoUrlFromHex(hex.toUpperCase())).toBe('http://s/x');
    expect(vivsoUrlFromHex(`${hex}0`)).toBeUndefined();
    expect(vivsoUrlFromHex(`0x${hex}`)).toBeUndefined();
    expect(vivsoUrlFromHex('')).toBeUndefined();
  });
});
