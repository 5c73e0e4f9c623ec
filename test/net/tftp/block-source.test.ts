import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BytesSource, FileBlockSource, type BlockSource } from '../../../src/net/tftp/block-source.js';
import { ReadAheadBudget } from '../../../src/net/tftp/read-ahead-budget.js';
import { SharedFiles } from '../../../src/net/tftp/shared-files.js';

let dir: string;
const files = new SharedFiles();
const opener = (path: string) => () => files.acquire(path);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-blocks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every DATA packet of a source in order, loading as a transfer would. */
async function packets(source: BlockSource, last: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let n = 1; n <= last; n++) {
    let p = source.packet(n);
    if (!p) {
      await source.load(n);
      p = source.packet(n);
    }
    out.push(Buffer.from(p!));
  }
  return out;
}

function check(ps: Buffer[], body: Buffer, blksize: number): void {
  const badHeader = ps.findIndex((p, i) => p.readUInt16BE(0) !== 3 || p.readUInt16BE(2) !== ((i + 1) & 0xffff));
  expect(badHeader).toBe(-1);
  expect(Buffer.concat(ps.map((p) => p.subarray(4))).equals(body)).toBe(true);
  expect(ps.at(-1)!.length - 4).toBeLessThan(blksize);
}

describe('FileBlockSource', () => {
  for (const [label, size] of [
    ['a size that ends mid-block, across several 256 KiB chunks', 700_001],
    ['an exact multiple of blksize (ends on an empty block)', 1468 * 400],
    ['an exact multiple of the chunk size', 1468 * 179 * 3],
    ['an empty file', 0],
  ] as const) {
    it(`lays out ${label} as DATA packets`, async () => {
      const body = randomBytes(size);
      const path = join(dir, `f-${size}`);
      await writeFile(path, body);
      const source = new FileBlockSource(opener(path), size, 1468, 8, new ReadAheadBudget(1 << 30));
      const last = Math.floor(size / 1468) + 1;
      check(await packets(source, last), body, 1468);
      expect(() => source.packet(last + 1)).toThrow(RangeError);
      await source.close();
    });
  }

  it('fails a load when the file shrank under it, instead of sending zeros', async () => {
    const path = join(dir, 'shrinks');
    await writeFile(path, randomBytes(600_000));
    const source = new FileBlockSource(opener(path), 600_000, 512, 1, new ReadAheadBudget(1 << 30));
    await source.load(1);
    await truncate(path, 1000);
    await expect(source.load(1200)).rejects.toThrow(/file ended at/);
    await source.close();
  });
});

describe('FileBlockSource memory (issue 12)', () => {
  it('12: fails the first load when the file under the name changed size since it was looked up', async () => {
    const path = join(dir, 'swapped');
    await writeFile(path, randomBytes(5000));
    const source = new FileBlockSource(opener(path), 4000, 512, 1, new ReadAheadBudget(1 << 30));
    await expect(source.load(1)).rejects.toThrow(/file changed from 4000 to 5000 bytes/);
    await source.close();
    expect(files.size).toBe(0);
  });

  it('12: opens nothing before the first load and holds only the first window for it', async () => {
    const path = join(dir, 'lazy');
    await writeFile(path, randomBytes(2_000_000));
    const budget = new ReadAheadBudget(1 << 30);
    const source = new FileBlockSource(opener(path), 2_000_000, 1468, 4, budget);
    expect(files.size).toBe(0);
    await source.load(1);
    // Four blocks and their headers: a request that is never acknowledged costs no more.
    expect(budget.heldBytes).toBe(4 * 1472);
    expect(files.size).toBe(1);
    await source.close();
    expect(budget.heldBytes).toBe(0);
    expect(files.size).toBe(0);
  });

  it('12: reads ahead past the first chunk only while the shared budget allows', async () => {
    const path = join(dir, 'ahead');
    const body = randomBytes(3_000_000);
    await writeFile(path, body);
    const roomy = new ReadAheadBudget(1 << 30);
    const a = new FileBlockSource(opener(path), body.length, 1468, 4, roomy);
    const chunk = 179 * 1472; // 256 KiB of 1468-byte blocks, with headers
    await a.load(1);
    await a.load(5);
    // The first window, the chunk the sender needs now and the one after it.
    expect(roomy.heldBytes).toBe(4 * 1472 + 2 * chunk);
    const tight = new ReadAheadBudget(0);
    const b = new FileBlockSource(opener(path), body.length, 1468, 4, tight);
    await b.load(1);
    await b.load(5);
    expect(tight.heldBytes).toBe(4 * 1472 + chunk);
    expect(b.packet(5 + 179)).toBeUndefined();
    // Needed blocks are still served over the budget, and correctly.
    check(await packets(b, Math.floor(body.length / 1468) + 1), body, 1468);
    await Promise.all([a.close(), b.close()]);
    expect(roomy.heldBytes + tight.heldBytes).toBe(0);
  });
});

describe('SharedFiles', () => {
  it('12: shares one handle between transfers of a file and opens a replaced file afresh', async () => {
    const path = join(dir, 'shared');
    await writeFile(path, 'first version');
    const own = new SharedFiles();
    const [x, y] = await Promise.all([own.acquire(path), own.acquire(path)]);
    expect(x.fh).toBe(y.fh);
    expect(own.size).toBe(1);
    await writeFile(`${path}.new`, 'second version, longer');
    await rename(`${path}.new`, path);
    const z = await own.acquire(path);
    expect(z.fh).not.toBe(x.fh);
    expect(own.size).toBe(2);
    const buf = Buffer.alloc(13);
    await x.fh.read(buf, 0, 13, 0);
    expect(buf.toString()).toBe('first version');
    await Promise.all([x.release(), y.release(), z.release()]);
    expect(own.size).toBe(0);
  });
});

describe('BytesSource', () => {
  it('lays out generated bytes, with block numbers wrapping past 65535', async () => {
    const body = randomBytes(8 * 70_000 + 3);
    const ps = await packets(new BytesSource(body, 8), 70_001);
    check(ps, body, 8);
    expect(ps[65_535]!.readUInt16BE(2)).toBe(0);
  });
});
