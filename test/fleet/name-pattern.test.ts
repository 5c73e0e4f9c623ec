import { describe, expect, it } from 'vitest';
import { formatMac, parseNamePattern } from '../../src/fleet/name-pattern.js';

describe('parseNamePattern', () => {
  it('fills {n} in decimal or hex, padded to a width, with an offset', () => {
    const cases: Array<[string, number, string]> = [
      ['leaf-{n}', 7, 'leaf-7'],
      ['leaf-{n:4}', 7, 'leaf-0007'],
      ['leaf-{n:04}', 12345, 'leaf-12345'],
      ['{n:x}', 31, '1f'],
      ['{n:06x}', 31, '00001f'],
      ['{n:04X}', 255, '00FF'],
      ['r{n+100}', 7, 'r107'],
      ['{n+0x10:02x}', 1, '11'],
      ['{{n}}-{n}', 3, '{n}-3'],
      ['fixed', 9, 'fixed'],
    ];
    for (const [text, n, want] of cases) expect(parseNamePattern(text).format(n), text).toBe(want);
  });

  it('says whether a pattern varies with n', () => {
    expect(parseNamePattern('a{n}').varies).toBe(true);
    expect(parseNamePattern('a{{n}}').varies).toBe(false);
  });

  it('names what is wrong with a bad field', () => {
    expect(() => parseNamePattern('a{i}')).toThrow('"{i}" is not a number field');
    expect(() => parseNamePattern('a{n:04')).toThrow('unclosed "{" at character 2');
    expect(() => parseNamePattern('a}')).toThrow('unmatched "}" at character 2');
    expect(() => parseNamePattern('{n-1}')).toThrow('"{n-1}" is not a number field');
  });
});

describe('formatMac', () => {
  it('accepts any of : . - as separators and writes xx:xx:xx:xx:xx:xx', () => {
    expect(formatMac(parseNamePattern('52:54:00:{n:06x}'), 0x1234)).toBe('52:54:00:00:12:34');
    expect(formatMac(parseNamePattern('5254.00{n:02x}.{n+1:04x}'), 0xab)).toBe('52:54:00:ab:00:ac');
  });

  it('refuses a result that is not 12 hex digits, naming the device number', () => {
    expect(() => formatMac(parseNamePattern('52:54:00:{n:04x}'), 5)).toThrow('device 5 gets MAC "52:54:00:0005"');
    expect(() => formatMac(parseNamePattern('52:54:00:00:{n:04x}'), 0x10000)).toThrow('not 12 hex digits');
  });
});
