import { describe, expect, it } from 'vitest';
import { decodeRouterAdvert, decodeRouterSolicit, encodeRouterAdvert, encodeRouterSolicit, type RouterAdvert } from '../../../src/protocol/icmp6/router-advert.js';

const ra: RouterAdvert = {
  curHopLimit: 64,
  managed: true,
  other: true,
  routerLifetimeSeconds: 0,
  reachableTimeMs: 0,
  retransTimerMs: 0,
  options: [
    { kind: 'source-link-layer', address: '02:00:00:aa:bb:cc' },
    { kind: 'mtu', mtu: 1500 },
    { kind: 'prefix', prefix: '2001:db8:1::', length: 64, onLink: true, autonomous: true, validSeconds: 86400, preferredSeconds: 14400 },
  ],
};

/** RFC 4861 §4.2, §4.6.1, §4.6.4, §4.6.2 written out byte by byte. */
const wire = Buffer.from(
  [
    '86 00 0000', // type 134, code 0, checksum (the kernel's)
    '40 c0 0000', // cur hop limit 64, M and O, router lifetime 0
    '00000000 00000000', // reachable time, retrans timer
    '01 01 020000aabbcc', // source link-layer address
    '05 01 0000 000005dc', // MTU 1500
    '03 04 40 c0 00015180 00003840 00000000', // prefix /64, L and A, valid 86400, preferred 14400
    '20010db8000100000000000000000000',
  ]
    .join('')
    .replace(/ /g, ''),
  'hex',
);

describe('router advertisement codec', () => {
  it('encodes the RFC 4861 layout: M/O in the flags byte, L/A in the prefix option', () => {
    expect(encodeRouterAdvert(ra).toString('hex')).toBe(wire.toString('hex'));
  });

  it('decodes what it encodes, options in order', () => {
    const d = decodeRouterAdvert(wire);
    expect(d.ok && d.value).toEqual(ra);
  });

  it('keeps unknown options byte-for-byte through a round trip', () => {
    const withRdnss = Buffer.concat([wire, Buffer.from('1903000000000e10' + '20010db8000000000000000000000053', 'hex')]);
    const d = decodeRouterAdvert(withRdnss);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.options.at(-1)).toMatchObject({ kind: 'unknown', type: 25 });
    expect(encodeRouterAdvert(d.value).equals(withRdnss)).toBe(true);
  });

  it('clears M and O when they are off', () => {
    const b = encodeRouterAdvert({ ...ra, managed: false, other: false, options: [] });
    expect(b[5]).toBe(0);
    expect(b.length).toBe(16);
  });

  it('refuses an option of length 0 with its offset', () => {
    const bad = Buffer.concat([wire.subarray(0, 16), Buffer.from('0300', 'hex')]);
    const d = decodeRouterAdvert(bad);
    expect(!d.ok && [d.error.code, d.error.offset]).toEqual(['BL_DECODE_MALFORMED', 17]);
  });

  it('refuses a truncated prefix option where it ends', () => {
    const d = decodeRouterAdvert(wire.subarray(0, wire.length - 4));
    expect(!d.ok && d.error.code).toBe('BL_DECODE_TRUNCATED');
    expect(!d.ok && d.error.offset).toBe(34);
  });

  it('refuses another ICMPv6 type and a non-zero code', () => {
    const rs = encodeRouterSolicit({ options: [] });
    expect(!decodeRouterAdvert(rs).ok && decodeRouterAdvert(rs)).toMatchObject({ error: { field: 'type', offset: 0 } });
    const coded = Buffer.from(wire);
    coded[1] = 1;
    expect(decodeRouterAdvert(coded)).toMatchObject({ ok: false, error: { field: 'code', offset: 1 } });
  });

  it('refuses to encode a prefix length past 128 or a lifetime past 32 bits', () => {
    const prefix = { kind: 'prefix' as const, prefix: '2001:db8::', length: 64, onLink: true, autonomous: true, validSeconds: 10, preferredSeconds: 5 };
    expect(() => encodeRouterAdvert({ ...ra, options: [{ ...prefix, length: 129 }] })).toThrow(/prefix.length/);
    expect(() => encodeRouterAdvert({ ...ra, options: [{ ...prefix, validSeconds: 2 ** 32 }] })).toThrow(/prefix.validLifetime/);
  });
});

describe('router solicitation codec', () => {
  it('decodes a solicitation with its source link-layer address', () => {
    const d = decodeRouterSolicit(Buffer.from('8500000000000000' + '0101525400123456', 'hex'));
    expect(d.ok && d.value).toEqual({ options: [{ kind: 'source-link-layer', address: '52:54:00:12:34:56' }] });
  });

  it('decodes the solicitation an unaddressed host sends (no options)', () => {
    expect(decodeRouterSolicit(encodeRouterSolicit({ options: [] }))).toEqual({ ok: true, value: { options: [] } });
  });
});
