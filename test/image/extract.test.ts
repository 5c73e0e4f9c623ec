import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/image/build.js';
import { extractPayload } from '../../src/image/extract.js';
import { parseSharchHeader, renderSharchHeader, type SharchLayout } from '../../src/protocol/sharch/layout.js';
import { encodeUstarHeader, ustarEnd, ustarPadding } from '../../src/protocol/tar/ustar.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-extract-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(work, `${name}-${n++}`);

/** Every file below dir: relative path → [mode, sha256]. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out[`${relative(dir, p)}/`] = (st.mode & 0o777).toString(8);
        walk(p);
      } else out[relative(dir, p)] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** An image whose payload is exactly `payload` (a hand-made tar, maybe gzip'd). */
function imageWith(payload: Buffer): { path: string; layout: SharchLayout } {
  const header = renderSharchHeader({ payloadSha1: createHash('sha1').update(payload).digest('hex'), payloadSize: payload.length });
  const path = fresh('image');
  writeFileSync(path, Buffer.concat([header, payload, Buffer.from('-----BEGIN CMS-----\nignored\n-----END CMS-----\n')]));
  const layout = parseSharchHeader(readFileSync(path));
  if (!layout.ok) throw layout.error;
  return { path, layout: layout.value };
}

function tar(entries: Array<{ name: string; data?: string; type?: 'file' | 'dir'; typeflag?: string; mode?: number }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = encodeUstarHeader({ name: e.name, size: data.length, mode: e.mode ?? 0o644, mtime: 0, type: e.type ?? 'file' });
    if (e.typeflag) {
      h.write(e.typeflag, 156, 'latin1');
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of h) sum += x;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    }
    parts.push(h, data, ustarPadding(data.length));
  }
  return Buffer.concat([...parts, ustarEnd()]);
}

describe('extractPayload', () => {
  it("unpacks a built installer to the same tree as the image's own `sh IMAGE -x`", async () => {
    const src = fresh('src');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(src, 'install.sh'), '#!/bin/sh\necho installing\n', { mode: 0o755 });
    writeFileSync(join(src, 'sub', 'deeper', 'blob'), Buffer.alloc(3 << 20, 0x5a));
    writeFileSync(join(src, 'sub', 'ro'), 'read only\n', { mode: 0o444 });
    const built = await buildImage(src, fresh('built'));
    const layout = parseSharchHeader(readFileSync(built.path));
    if (!layout.ok) throw layout.error;
    const out = fresh('out');
    const r = await extractPayload(built.path, layout.value, out);
    expect(r).toEqual({ dir: out, files: 3, directories: 3, bytes: (3 << 20) + 10 + 26, gzip: false });

    const shOut = execFileSync('sh', [built.path, '-x'], { encoding: 'utf8', env: { ...process.env, TMPDIR: work } });
    const shDir = /Image extracted to: (\S+)/.exec(shOut)![1]!;
    expect(tree(out)).toEqual(tree(shDir));
    expect(tree(out)['installer/install.sh']).toMatch(/^755 /);
    expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('unpacks a gzip-compressed tar payload', async () => {
    const { path, layout } = imageWith(gzipSync(tar([{ name: 'installer/', type: 'dir', mode: 0o755 }, { name: 'installer/install.sh', data: '#!/bin/sh\n', mode: 0o755 }])));
    const out = fresh('out');
    const r = await extractPayload(path, layout, out);
    expect(r.gzip).toBe(true);
    expect(readFileSync(join(out, 'installer', 'install.sh'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('refuses paths that leave the directory, links and devices, naming the entry, and leaves nothing behind', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [tar([{ name: 'ok', data: 'fine' }, { name: '../escape', data: 'x' }]), /entry "\.\.\/escape" \(tar offset 1024, image offset \d+\): the path leaves the extraction directory/],
      [tar([{ name: '/etc/passwd', data: 'x' }]), /entry "\/etc\/passwd" .*leaves the extraction directory/],
      [tar([{ name: 'a/../../b', data: 'x' }]), /entry "a\/\.\.\/\.\.\/b"/],
      [tar([{ name: 'link', typeflag: '2' }]), /entry "link" \(tar offset 0, image offset \d+\) is a symbolic link: only files and directories are extracted/],
      [tar([{ name: 'dev', typeflag: '3' }]), /is a character device/],
      [tar([{ name: 'same', data: '1' }, { name: 'same', data: '2' }]), /entry "same" .*the archive holds this path twice/],
    ];
    for (const [payload, message] of cases) {
      const { path, layout } = imageWith(payload);
      const out = fresh('out');
      await expect(extractPayload(path, layout, out)).rejects.toThrow(message);
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
  });

  it('refuses a payload that is not a tar, a target that exists, a size bomb, and a payload changed since the header was read', async () => {
    const junk = imageWith(Buffer.alloc(2048, 0x41));
    await expect(extractPayload(junk.path, junk.layout, fresh('out'))).rejects.toThrow(/payload is not a tar: ustar: malformed chksum at offset 148: .* \(tar offset 148, image offset \d+\)/);

    const good = imageWith(tar([{ name: 'f', data: 'x'.repeat(5000) }]));
    const existing = fresh('exists');
    mkdirSync(existing);
    await expect(extractPayload(good.path, good.layout, existing)).rejects.toThrow(/exists: extract writes a new directory/);
    await expect(extractPayload(good.path, good.layout, fresh('out'), { maxBytes: 4999 })).rejects.toThrow(/add up to more than 4999 bytes/);

    const bytes = readFileSync(good.path);
    const flip = good.layout.headerLength + 600; // in f's data: still a valid tar
    bytes[flip] = bytes[flip]! ^ 0x01;
    writeFileSync(good.path, bytes);
    const out = fresh('out');
    await expect(extractPayload(good.path, good.layout, out)).rejects.toThrow(/payload sha1 is [0-9a-f]{40}, the header says .*did the file change after it was verified/);
    expect(existsSync(out)).toBe(false);
  });

  it('names entries and bad headers by their absolute tar offset and image offset, however the reads cut the headers', async () => {
    // a: header 0, 600 data bytes padded to 1536; b: header 1536, 100 bytes padded to 2560; the third header is at 2560.
    const entries = (third: string) => tar([{ name: 'a', data: 'x'.repeat(600) }, { name: 'b', data: 'y'.repeat(100) }, { name: third, data: 'z' }]);
    for (const readChunkBytes of [700, 511, 1000, 1 << 20]) {
      const escape = imageWith(entries('../c'));
      const h = escape.layout.headerLength;
      await expect(extractPayload(escape.path, escape.layout, fresh('out'), { readChunkBytes }), `chunk ${readChunkBytes}`).rejects.toThrow(
        `entry "../c" (tar offset 2560, image offset ${h + 2560}): the path leaves`,
      );
      const corrupt = entries('c');
      corrupt[2560 + 5] = corrupt[2560 + 5]! ^ 0xff;
      const bad = imageWith(corrupt);
      await expect(extractPayload(bad.path, bad.layout, fresh('out'), { readChunkBytes }), `chunk ${readChunkBytes}`).rejects.toThrow(
        `ustar: malformed chksum at offset ${2560 + 148}: stored`,
      );
      await expect(extractPayload(bad.path, bad.layout, fresh('out'), { readChunkBytes })).rejects.toThrow(`(tar offset ${2560 + 148}, image offset ${bad.layout.headerLength + 2560 + 148})`);
    }
    const gz = imageWith(gzipSync(entries('../c')));
    await expect(extractPayload(gz.path, gz.layout, fresh('out'), { readChunkBytes: 700 })).rejects.toThrow('entry "../c" (offset 2560 of the gunzipped tar): the path leaves');
    expect(readdirSync(work).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});
