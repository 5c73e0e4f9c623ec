import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLedgerFile, type LedgerEntry } from '../../src/trust/nonce-ledger-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (n: number): LedgerEntry => ({ nonce: n.toString(16).padStart(4, '0'), quote: n.toString(16).padStart(64, '0'), signer: 'aa', clock: String(100 * n), resetCount: 0, restartCount: 0, at: '2026-01-01T00:00:00.000Z' });

describe('withLedgerFile', () => {
  it('remembers what was added, by nonce or quote, and the last clock of each AK; leaves no temporary or lock file', async () => {
    const path = join(dir, 'ledger.json');
    await withLedgerFile(path, () => ({ result: undefined, add: entry(1) }));
    await withLedgerFile(path, () => ({ result: undefined, add: entry(2) }));
    const seen = await withLedgerFile(path, (v) => ({ result: [v.seen('0001', 'x'), v.seen('zz', entry(2).quote), v.seen('zz', 'x'), v.lastOf('aa')] }));
    expect(seen).toEqual([entry(1), entry(2), undefined, entry(2)]);
    expect(await readdir(dir)).toEqual(['ledger.json']);
  });

  it('keeps the newest entries beyond its bound', async () => {
    const path = join(dir, 'ledger.json');
    for (let i = 1; i <= 4; i++) await withLedgerFile(path, () => ({ result: undefined, add: entry(i) }), { maxEntries: 3 });
    const saved = JSON.parse(await readFile(path, 'utf8')) as { entries: LedgerEntry[] };
    expect(saved.entries.map((e) => e.nonce)).toEqual(['0002', '0003', '0004']);
  });

  it("waits a bounded time for another verifier's lock, then says it is busy; breaks a lock left by a dead one", async () => {
    const path = join(dir, 'ledger.json');
    await writeFile(`${path}.lock`, '999999\n');
    let t = 0;
    const clock = { now: () => t, sleep: async (ms: number) => void (t += ms), lockWaitMs: 100 };
    await expect(withLedgerFile(path, () => ({ result: 1 }), clock)).rejects.toMatchObject({ code: 'BL_LEDGER_BUSY' });
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, old, old);
    expect(await withLedgerFile(path, () => ({ result: 'taken' }), { staleLockMs: 30_000 })).toBe('taken');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a file that is not a ledger, naming the field', async () => {
    const path = join(dir, 'ledger.json');
    await writeFile(path, JSON.stringify({ format: 'bootlab-nonce-ledger', version: 1, entries: [{ ...entry(1), clock: '-1' }] }));
    await expect(withLedgerFile(path, () => ({ result: 1 }))).rejects.toThrow(/--ledger .*ledger\.json: entries\.0\.clock: /);
  });
});
