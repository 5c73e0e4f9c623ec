import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUstarHeader, ustarEnd, ustarPadding } from '../../../src/protocol/tar/ustar.js';
import { listUstar } from '../../../src/protocol/tar/ustar-reader.js';
import { EncodeError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'bootlab-ustar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function archive(files: Array<{ name: string; data?: string; type?: 'file' | 'dir'; mode?: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.from(f.data ?? '');
    const type = f.type ?? 'file';
    parts.push(encodeUstarHeader({ name: f.name, size: type === 'dir' ? 0 : data.length, mode: f.mode ?? 0o644, mtime: 1_700_000_000, type }));
    if (type === 'file') parts.push(data, ustarPadding(data.length));
  }
  parts.push(ustarEnd());
  return Buffer.concat(parts);
}

describe('ustar', () => {
  it('stores a checksum equal to the byte sum with the checksum field read as spaces', () => {
    const h = encodeUstarHeader({ name: 'installer/install.sh', size: 1234, mode: 0o755, mtime: 0, type: 'file' });
    expect(h.length).toBe(512);
    const stored = parseInt(h.subarray(148, 154).toString('latin1'), 8);
    const blanked = Buffer.from(h);
    blanked.fill(0x20, 148, 156);
    expect(stored).toBe(blanked.reduce((a, b) => a + b, 0));
    expect(h.subarray(154, 156).toString('latin1')).toBe('\0 ');
    expect(h.subarray(257, 265).toString('latin1')).toBe('ustar\x0000');
    expect(h.subarray(265, 269).toString('latin1')).toBe('root');
  });

  it('pads data to whole blocks and ends with two zero blocks', () => {
    expect(ustarPadding(0).length).toBe(0);
    expect(ustarPadding(1).length).toBe(511);
    expect(ustarPadding(512).length).toBe(0);
    expect(ustarEnd().equals(Buffer.alloc(1024))).toBe(true);
  });

  it('splits a long name into prefix and name that GNU tar joins back', () => {
    const longDir = `installer/${'d'.repeat(90)}/${'e'.repeat(60)}`;
    const name = `${longDir}/file.txt`;
    const tar = archive([{ name, data: 'hello\n' }]);
    const file = join(dir, 'long.tar');
    writeFileSync(file, tar);
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim()).toBe(name);
    const listed = listUstar(tar);
    expect(listed.ok && listed.value[0]?.name).toBe(name);
  });

  it('refuses a name that fits neither field', () => {
    expect(() => encodeUstarHeader({ name: 'x'.repeat(300), size: 0, mode: 0o644, mtime: 0, type: 'file' })).toThrow(EncodeError);
  });

  it('writes archives that GNU tar lists with the modes, sizes and owner given', () => {
    const tar = archive([
      { name: 'installer', type: 'dir', mode: 0o755 },
      { name: 'installer/install.sh', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
      { name: 'installer/empty', data: '' },
    ]);
    const file = join(dir, 'a.tar');
    writeFileSync(file, tar);
    const lines = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^drwxr-xr-x root\/root +0 .* installer\/$/);
    expect(lines[1]).toMatch(/^-rwxr-xr-x root\/root +18 .* installer\/install\.sh$/);
    expect(lines[2]).toMatch(/^-rw-r--r-- root\/root +0 .* installer\/empty$/);
  });

  it('lists entries with their data offsets', () => {
    const tar = archive([{ name: 'a', data: 'x'.repeat(600) }, { name: 'b/', type: 'dir' }, { name: 'c', data: 'y' }]);
    const r = listUstar(tar);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toEqual([
      { name: 'a', size: 600, type: 'file', typeflag: '0', mode: 0o644, offset: 512 },
      { name: 'b/', size: 0, type: 'dir', typeflag: '5', mode: 0o644, offset: 512 * 4 },
      { name: 'c', size: 1, type: 'file', typeflag: '0', mode: 0o644, offset: 512 * 5 },
    ]);
    expect(tar.subarray(512 * 5, 512 * 5 + 1).toString()).toBe('y');
  });

  it('reports a bad checksum at the offset of the checksum field', () => {
    const tar = archive([{ name: 'a', data: 'abc' }, { name: 'b', data: 'def' }]);
    tar[1024 + 10] = tar[1024 + 10]! ^ 0x01;
    const r = listUstar(tar);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('malformed');
    expect(r.error.field).toBe('chksum');
    expect(r.error.offset).toBe(1024 + 148);
  });

  it('reports an archive cut short as truncated', () => {
    const tar = archive([{ name: 'a', data: 'x'.repeat(1000) }]);
    const r = listUstar(tar.subarray(0, 700));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('truncated');
    expect(r.error.offset).toBe(512);
  });
});
