import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { encodeUstarHeader, ustarEnd, ustarPadding } from '../../../src/protocol/tar/ustar.js';
import { UstarReader, type UstarEvent } from '../../../src/protocol/tar/ustar-reader.js';

function archive(files: Array<{ name: string; data?: Buffer; type?: 'file' | 'dir' }>): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const type = f.type ?? 'file';
    const data = f.data ?? Buffer.alloc(0);
    parts.push(encodeUstarHeader({ name: f.name, size: data.length, mode: type === 'dir' ? 0o755 : 0o644, mtime: 0, type }), data, ustarPadding(data.length));
  }
  parts.push(ustarEnd());
  return Buffer.concat(parts);
}

/** The events of a whole read, with data joined per entry (data views die on the next push). */
function read(tar: Buffer, chunk: number): Array<{ name: string; data: string } | 'end'> {
  const r = new UstarReader();
  const out: Array<{ name: string; data: string } | 'end'> = [];
  let current: { name: string; parts: Buffer[] } | undefined;
  const take = (events: UstarEvent[]) => {
    for (const e of events) {
      if (e.kind === 'entry') current = { name: e.entry.name, parts: [] };
      else if (e.kind === 'data') current!.parts.push(Buffer.from(e.bytes));
      else if (e.kind === 'entry-end') out.push({ name: current!.name, data: Buffer.concat(current!.parts).toString('latin1') });
      else out.push('end');
    }
  };
  for (let at = 0; at < tar.length; at += chunk) take(r.push(tar.subarray(at, at + chunk)));
  r.finish();
  return out;
}

/** One push of the whole archive, then finish: an error after some events comes from finish. */
function readAll(r: UstarReader, tar: Buffer): void {
  r.push(tar);
  r.finish();
}

describe('UstarReader', () => {
  const big = Buffer.alloc(70_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const tar = archive([{ name: 'd', type: 'dir' }, { name: 'd/big', data: big }, { name: 'd/empty' }, { name: 'd/odd', data: Buffer.from('x'.repeat(513)) }]);
  const expected = [
    { name: 'd/', data: '' },
    { name: 'd/big', data: big.toString('latin1') },
    { name: 'd/empty', data: '' },
    { name: 'd/odd', data: 'x'.repeat(513) },
    'end',
  ];

  it('gives the same entries and bytes however the stream is cut', () => {
    for (const chunk of [1, 7, 511, 512, 513, 4096, 65536, tar.length]) expect(read(tar, chunk)).toEqual(expected);
  });

  it('accepts zero padding after the end marker (tar pads to a record) but nothing else', () => {
    expect(read(Buffer.concat([tar, Buffer.alloc(10240)]), 1000)).toEqual(expected);
    const r = new UstarReader();
    const junk = Buffer.concat([tar, Buffer.from('x')]);
    expect(() => readAll(r, junk)).toThrow(/data after the end-of-archive marker/);
    try {
      readAll(new UstarReader(), junk);
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).offset).toBe(tar.length);
    }
  });

  it('refuses a lone zero block followed by a header, and says what is missing at the end', () => {
    const lone = Buffer.concat([Buffer.alloc(512), tar]);
    expect(() => new UstarReader().push(lone)).toThrow(/one zero block followed by a header/);
    const r = new UstarReader();
    r.push(tar.subarray(0, 512 + 512 + 1000));
    expect(() => r.finish()).toThrow(/entry d\/big needs 70000 bytes, 69000 are missing/);
    const r2 = new UstarReader();
    r2.push(tar.subarray(0, tar.length - 512));
    expect(() => r2.finish()).toThrow(/only one zero block/);
  });

  it('reports a link by its typeflag and a corrupt header at its absolute offset', () => {
    const link = encodeUstarHeader({ name: 'l', size: 0, mode: 0o777, mtime: 0, type: 'file' });
    link.write('2', 156, 'latin1');
    link.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of link) sum += x;
    link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const events = new UstarReader().push(Buffer.concat([link, ustarEnd()]));
    expect(events[0]).toMatchObject({ kind: 'entry', entry: { name: 'l', type: 'other', typeflag: '2', mode: 0o777 } });
    const bad = Buffer.from(tar);
    const flip = 1024 + 512 * 137 + 3; // a byte of the header of d/empty (after d/ and d/big's 137 data blocks)
    bad[flip] = bad[flip]! ^ 0xff;
    try {
      readAll(new UstarReader(), bad);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).offset).toBe(1024 + 512 * 137 + 148);
    }
  });

  it('bounds the number of entries', () => {
    const many = archive(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}` })));
    expect(() => readAll(new UstarReader({ maxEntries: 4 }), many)).toThrow(/more than 4 entries/);
  });
});

describe('UstarReader offsets are absolute in the archive stream, however it is cut', () => {
  // Entries: a (100 bytes), b (600 bytes), c (0 bytes): headers at 0, 1024, 2560; end marker at 3072.
  const tar = archive([{ name: 'a', data: Buffer.alloc(100, 1) }, { name: 'b', data: Buffer.alloc(600, 2) }, { name: 'c' }]);
  const chunkings = [1, 3, 100, 511, 512, 513, 1000, 1500, tar.length];

  /** Pushes `bytes` in chunks of `size`, then finishes; returns the entries seen and the error thrown, if any. */
  function run(bytes: Buffer, size: number): { offsets: number[]; error?: DecodeError } {
    const r = new UstarReader();
    const offsets: number[] = [];
    try {
      for (let at = 0; at < bytes.length; at += size) {
        for (const e of r.push(bytes.subarray(at, at + size))) if (e.kind === 'entry') offsets.push(e.entry.offset);
      }
      r.finish();
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return { offsets, error: e };
    }
    return { offsets };
  }

  it('gives each entry the offset of its data', () => {
    for (const size of chunkings) expect(run(tar, size), `chunk ${size}`).toEqual({ offsets: [512, 1536, 3072] });
  });

  it('names the checksum field of a corrupt 2nd or 3rd header at its absolute offset', () => {
    for (const header of [1024, 2560]) {
      const bad = Buffer.from(tar);
      bad[header + 10] = bad[header + 10]! ^ 0xff;
      for (const size of chunkings) {
        const { error } = run(bad, size);
        expect(error, `header ${header}, chunk ${size}`).toMatchObject({ field: 'chksum', offset: header + 148 });
      }
    }
  });

  it('delivers the entries before a corrupt header however the stream is cut, then the error', () => {
    const bad = Buffer.from(tar);
    bad[2560 + 10] = bad[2560 + 10]! ^ 0xff;
    for (const size of chunkings) {
      expect(run(bad, size), `chunk ${size}`).toMatchObject({ offsets: [512, 1536], error: { field: 'chksum', offset: 2560 + 148 } });
    }
  });

  it('names a bad size field of the 3rd header at its absolute offset', () => {
    const bad = Buffer.concat([tar.subarray(0, 2560), encodeUstarHeader({ name: 'c', size: 0, mode: 0o644, mtime: 0, type: 'file' }), ustarEnd()]);
    bad.write('9', 2560 + 124, 'latin1');
    bad.fill(0x20, 2560 + 148, 2560 + 156);
    let sum = 0;
    for (const x of bad.subarray(2560, 3072)) sum += x;
    bad.write(`${sum.toString(8).padStart(6, '0')}\0 `, 2560 + 148, 'latin1');
    for (const size of chunkings) expect(run(bad, size).error, `chunk ${size}`).toMatchObject({ field: 'size', offset: 2560 + 124 });
  });

  it('puts junk after the end marker and a truncated header where they are', () => {
    const junk = Buffer.concat([tar, Buffer.alloc(700), Buffer.from('x')]);
    for (const size of chunkings) expect(run(junk, size).error, `chunk ${size}`).toMatchObject({ field: 'end', offset: tar.length + 700 });
    const cut = tar.subarray(0, 1024 + 300);
    for (const size of chunkings) expect(run(cut, size).error, `chunk ${size}`).toMatchObject({ reason: 'truncated', field: 'header', offset: 1024 });
    const oneZero = tar.subarray(0, tar.length - 200);
    for (const size of chunkings) expect(run(oneZero, size).error, `chunk ${size}`).toMatchObject({ reason: 'truncated', field: 'end', offset: tar.length - 512 });
  });
});
