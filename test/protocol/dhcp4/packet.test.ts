import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/errors.js';
import { optionName } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, encodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/dhcp4/${name}`, import.meta.url));
const CAPTURES = ['clients.pcap', 'fw-dhcp.pcap', 'linux-bios-dhcp.pcap', 'perfdhcp-sample.pcap'];
const GOLDEN = fixture('captures.parsed.json');

function decoded(bytes: Uint8Array): Dhcp4Packet {
  const r = decodeDhcp4(bytes);
  if (!r.ok) throw r.error;
  return r.value;
}

function decodeError(bytes: Uint8Array): DecodeError {
  const r = decodeDhcp4(bytes);
  if (r.ok) throw new Error('expected a decode error');
  return r.error;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('latin1');

/** A plain DISCOVER written by hand, so error offsets below are easy to check. */
function handMade(options: number[], padding = 0): Uint8Array {
  const header = new Uint8Array(236);
  header.set([1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef]);
  header.set([0x02, 0, 0, 0, 0xc1, 0x01], 28);
  return Uint8Array.from([...header, 0x63, 0x82, 0x53, 0x63, ...options, ...new Array<number>(padding).fill(0)]);
}

function summary(p: Dhcp4Packet): unknown {
  return {
    ...p,
    xid: `0x${p.xid.toString(16).padStart(8, '0')}`,
    options: p.options.map((o) => `${o.code} ${optionName(o.code)} ${hex(o.data)}`),
  };
}

describe('decodeDhcp4 on real captures', () => {
  const all = CAPTURES.flatMap((file) => dhcpDatagrams(fixture(file)).map((d) => ({ file, ...d })));

  it('finds every DHCP datagram in the fixture captures', () => {
    expect(all.length).toBe(27 + 20 + 8 + 6);
  });

  it('decodes every captured message as the reviewed golden file says', () => {
    const actual = Object.fromEntries(all.map((d) => [`${d.file}#${d.frame}`, summary(decoded(d.payload))]));
    // UPDATE_GOLDEN=1 rewrites the file; review its diff before committing.
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, `${JSON.stringify(actual, null, 1)}\n`);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
    expect(actual).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
  });

  it("reads ONIE's discovery DISCOVER (clients.pcap frame 6) field by field", () => {
    const onie = all.find((d) => d.file === 'clients.pcap' && d.frame === 6)!;
    const p = decoded(onie.payload);
    expect(p).toMatchObject({
      op: 'request',
      htype: 1,
      hlen: 6,
      xid: 0x43661501,
      broadcast: false,
      ciaddr: '0.0.0.0',
      chaddr: '02:00:00:00:c1:01',
      sname: '',
      file: '',
      padding: 0,
    });
    expect(p.options.map((o) => o.code)).toEqual([53, 12, 55, 60, 125, 77]);
    const byCode = new Map(p.options.map((o) => [o.code, o.data]));
    expect(text(byCode.get(12))).toBe('onie-host');
    expect(Array.from(byCode.get(55)!)).toEqual([1, 28, 3, 15, 12, 7, 43, 54, 66, 67, 72, 114, 125]);
    expect(text(byCode.get(60))).toBe('onie_vendor:x86_64-kvm_x86_64-r0');
    expect(hex(byCode.get(125)!)).toBe('0000a67f17030a6b766d5f7838365f363404067838365f3634050130');
    expect(text(byCode.get(77))).toBe('onie_dhcp_user_class');
  });

  it('reads a relayed request (perfdhcp through a relay: hops and giaddr)', () => {
    const relayed = decoded(dhcpDatagrams(fixture('perfdhcp-sample.pcap'))[0]!.payload);
    expect(relayed).toMatchObject({ hops: 1, giaddr: '10.99.0.2', padding: 0 });
  });

  it('reads the broadcast flag of firmware that asks for broadcast replies', () => {
    const fw = dhcpDatagrams(fixture('fw-dhcp.pcap'));
    expect(decoded(fw[4]!.payload).broadcast).toBe(true);
    expect(decoded(fw[0]!.payload).broadcast).toBe(false);
  });

  it('returns options that are copies, not views into the received buffer', () => {
    const wire = Buffer.from(all[0]!.payload);
    const p = decoded(wire);
    wire.fill(0xaa);
    expect(Object.getPrototypeOf(p.options[0]!.data)).toBe(Uint8Array.prototype);
    expect(Array.from(p.options[0]!.data)).toEqual([1]);
  });

  it('re-encodes every captured message byte for byte', () => {
    for (const d of all) {
      expect(hex(encodeDhcp4(decoded(d.payload))), `${d.file} frame ${d.frame}`).toBe(hex(d.payload));
    }
  });
});

describe('encodeDhcp4', () => {
  const base: Dhcp4Packet = {
    op: 'reply',
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x01020304,
    secs: 0,
    broadcast: true,
    ciaddr: '0.0.0.0',
    yiaddr: '10.0.0.5',
    siaddr: '10.0.0.1',
    giaddr: '0.0.0.0',
    chaddr: '52:54:00:13:34:01',
    sname: 'boot-server',
    file: 'pxelinux.0',
    options: [
      { code: 53, data: Uint8Array.of(2) },
      { code: 224, data: Uint8Array.of(9, 8, 7) },
    ],
  };

  it('pads a new message to the 300-byte BOOTP minimum', () => {
    const wire = encodeDhcp4(base);
    expect(wire.length).toBe(300);
    expect(wire[240 + 3 + 5]).toBe(255);
  });

  it('round-trips a message, keeping unknown options byte for byte', () => {
    const back = decoded(encodeDhcp4(base));
    expect(back).toEqual({ ...base, padding: 300 - 240 - 3 - 5 - 1 });
    expect(hex(back.options[1]!.data)).toBe('090807');
  });

  it('splits an option longer than 255 bytes into pieces and joins them again (RFC 3396)', () => {
    const long = Uint8Array.from({ length: 600 }, (_, i) => i % 251);
    const wire = encodeDhcp4({ ...base, options: [{ code: 43, data: long }] });
    expect([wire[240], wire[241], wire[240 + 257], wire[241 + 257], wire[240 + 514], wire[241 + 514]]).toEqual([43, 255, 43, 255, 43, 90]);
    const back = decoded(wire);
    expect(back.options).toHaveLength(1);
    expect(hex(back.options[0]!.data)).toBe(hex(long));
  });

  it('writes a chaddr of another length as plain hex', () => {
    const ib = { ...base, htype: 32, hlen: 8, chaddr: '0011223344556677' };
    expect(decoded(encodeDhcp4(ib)).chaddr).toBe('0011223344556677');
  });

  it.each([
    ['yiaddr', { yiaddr: '10.0.0.256' }],
    ['chaddr', { chaddr: '52:54:00:13:34' }],
    ['sname', { sname: 'x'.repeat(65) }],
    ['file', { file: 'f'.repeat(129) }],
    ['option code', { options: [{ code: 255, data: new Uint8Array() }] }],
    ['option 53', { options: [{ code: 53, data: Uint8Array.of(1) }, { code: 53, data: Uint8Array.of(2) }] }],
    ['xid', { xid: -1 }],
  ] as const)('refuses an invalid %s with EncodeError', (field, change) => {
    expect(() => encodeDhcp4({ ...base, ...change } as Dhcp4Packet)).toThrow(EncodeError);
    try {
      encodeDhcp4({ ...base, ...change } as Dhcp4Packet);
    } catch (e) {
      expect((e as EncodeError).field).toBe(field);
      expect((e as EncodeError).code).toBe('BL_ENCODE_INVALID');
    }
  });
});

describe('decodeDhcp4 option handling', () => {
  it('skips PAD bytes between options and stops at END', () => {
    const p = decoded(handMade([0, 0, 53, 1, 1, 0, 12, 2, 0x68, 0x69, 255, 99, 99]));
    expect(p.options.map((o) => [o.code, hex(o.data)])).toEqual([
      [53, '01'],
      [12, '6869'],
    ]);
    expect(p.padding).toBe(2);
  });

  it('accepts options that run to the end without END', () => {
    expect(decoded(handMade([53, 1, 3])).options).toEqual([{ code: 53, data: Uint8Array.of(3) }]);
  });

  it('joins repeated pieces of one option in the position of the first (RFC 3396)', () => {
    const p = decoded(handMade([60, 2, 0x61, 0x62, 53, 1, 1, 60, 1, 0x63, 255]));
    expect(p.options.map((o) => [o.code, text(o.data)])).toEqual([
      [60, 'abc'],
      [53, '\x01'],
    ]);
  });

  it('reads options continued in the file and sname fields when option 52 says so', () => {
    const bytes = handMade([53, 1, 2, 52, 1, 3, 255]);
    bytes.set([67, 4, 0x62, 0x6f, 0x6f, 0x74, 255], 108); // file field
    bytes.set([66, 3, 0x74, 0x66, 0x74, 255], 44); // sname field
    const p = decoded(bytes);
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
    expect(p.options.map((o) => [o.code, text(o.data)])).toEqual([
      [53, '\x02'],
      [52, '\x03'],
      [67, 'boot'],
      [66, 'tft'],
    ]);
  });

  it('reads a plain BOOTP message that ends after the header', () => {
    const p = decoded(handMade([]).subarray(0, 236));
    expect(p.options).toEqual([]);
    expect(p.chaddr).toBe('02:00:00:00:c1:01');
  });
});

describe('decodeDhcp4 errors', () => {
  it.each([
    ['a truncated header', handMade([]).subarray(0, 40), 'BL_DECODE_TRUNCATED', 'chaddr', 28],
    ['a truncated magic cookie', handMade([]).subarray(0, 238), 'BL_DECODE_TRUNCATED', 'magic cookie', 236],
    ['an unknown op', (() => { const b = handMade([255]); b[0] = 3; return b; })(), 'BL_DECODE_MALFORMED', 'op', 0],
    ['hlen above 16', (() => { const b = handMade([255]); b[2] = 17; return b; })(), 'BL_DECODE_MALFORMED', 'hlen', 2],
    ['a bad magic cookie', (() => { const b = handMade([255]); b[239] = 0x64; return b; })(), 'BL_DECODE_MALFORMED', 'magic cookie', 236],
    ['an option length running past the end', handMade([53, 1, 1, 60, 10, 0x61, 0x62]), 'BL_DECODE_TRUNCATED', 'option 60 data', 245],
    ['an option code without its length', handMade([53, 1, 1, 60]), 'BL_DECODE_TRUNCATED', 'option 60 length', 244],
    ['an overload option of the wrong size', handMade([52, 2, 1, 1, 255]), 'BL_DECODE_MALFORMED', 'option 52 (overload)', 240],
    ['an overload value outside 1..3', handMade([52, 1, 7, 255]), 'BL_DECODE_MALFORMED', 'option 52 (overload)', 240],
  ] as const)('rejects %s with its code, field and offset', (_what, bytes, code, field, offset) => {
    const e = decodeError(bytes);
    expect(e).toBeInstanceOf(DecodeError);
    expect({ code: e.code, field: e.field, offset: e.offset, protocol: e.protocol }).toEqual({ code, field, offset, protocol: 'dhcp4' });
  });

  it('names the absolute offset of a bad option inside the file field', () => {
    const bytes = handMade([53, 1, 2, 52, 1, 1, 255]);
    bytes.set([67, 200], 108);
    const e = decodeError(bytes);
    expect({ code: e.code, field: e.field, offset: e.offset }).toEqual({ code: 'BL_DECODE_TRUNCATED', field: 'option 67 data', offset: 110 });
  });

  it('applies the maxOptions limit given by the caller', () => {
    const bytes = handMade([53, 1, 1, 12, 1, 0x61, 15, 1, 0x62, 255]);
    const r = decodeDhcp4(bytes, { maxOptions: 2 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect({ code: r.error.code, field: r.error.field, offset: r.error.offset }).toEqual({ code: 'BL_DECODE_LIMIT', field: 'option 15', offset: 246 });
    expect(decodeDhcp4(bytes).ok).toBe(true);
  });
});

describe('parseIpv4', () => {
  it('reads dotted quads and refuses everything else', async () => {
    const { parseIpv4 } = await import('../../../src/protocol/dhcp4/packet.js');
    expect(parseIpv4('10.213.7.255')).toEqual(Uint8Array.of(10, 213, 7, 255));
    expect(parseIpv4('0.0.0.0')).toEqual(Uint8Array.of(0, 0, 0, 0));
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.', '.1.2.3', '1.2.3.4 ', 'a.b.c.d', '1.2.3.1000', '-1.2.3.4']) {
      expect(parseIpv4(bad), bad).toBeUndefined();
    }
  });
});
