import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { BootlabError } from '../../../src/errors.js';
import { LeaseJournal, type JournalProblem } from '../../../src/net/dhcp4/lease-journal.js';
import { acquireLease } from '../../../src/net/dhcp4/client.js';
import { SeededRandom } from '../../../src/random.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-leases-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = 1_800_000_000_000;
const rec = (i: number, expiresAt = NOW + 3_600_000) => ({ client: `01:52:54:00:00:00:${i.toString(16).padStart(2, '0')}`, address: `192.0.2.${i}`, expiresAt });

describe('LeaseJournal', () => {
  it('writes leases that arrive together in one write and one sync (group commit)', async () => {
    const { journal } = await LeaseJournal.open(join(dir, 'group'), NOW);
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.append(rec(i + 1))));
    expect(journal.stats.records).toBe(200);
    // The first append starts a sync; everything queued behind it shares the next one.
    expect(journal.stats.syncs).toBeLessThanOrEqual(2);
    await journal.close();
  });

  it('reads back every lease after a reopen, forgets released and expired ones, and compacts', async () => {
    const path = join(dir, 'reopen');
    const { journal } = await LeaseJournal.open(path, NOW);
    for (let i = 1; i <= 5; i++) await journal.append(rec(i));
    await journal.append({ ...rec(2), expiresAt: 0 });
    await journal.append(rec(3, NOW - 1));
    await journal.close();
    const again = await LeaseJournal.open(path, NOW);
    expect(again.leases.map((l) => l.address).sort()).toEqual(['192.0.2.1', '192.0.2.4', '192.0.2.5']);
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(3);
    await again.journal.close();
  });

  it('rewrites the file in the background: leases appended while the snapshot is held are acknowledged at once, and kept', async () => {
    const path = join(dir, 'background');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let snapshotting = false;
    const { journal } = await LeaseJournal.open(path, NOW, undefined, {
      beforeSnapshotSync: async () => {
        snapshotting = true;
        await held;
      },
    });
    // Opening compacts once; count from there.
    const atOpen = journal.stats.compactions;
    // 10,001 lines over 200 clients: past the 10,000-line floor (and 4 × 200), so a rewrite starts.
    await Promise.all(Array.from({ length: 10_001 }, (_, i) => journal.append(rec((i % 200) + 1, NOW + 3_600_000 + i))));
    for (let i = 0; i < 200 && !snapshotting; i++) await new Promise((r) => setTimeout(r, 10));
    expect(snapshotting).toBe(true);
    // The snapshot is held before its sync: these still go to disk and resolve.
    await Promise.all([201, 202, 203].map((i) => journal.append(rec(i))));
    expect(journal.stats.compactions).toBe(atOpen);
    release();
    await journal.close();
    expect(journal.stats).toMatchObject({ compactions: atOpen + 1, compactionFailures: 0 });
    // The 200 live leases of the snapshot, then the 3 appended during it; no temp file left.
    expect((await readFile(path, 'utf8')).trim().split('\n')).toHaveLength(203);
    expect((await readdir(dir)).filter((n) => n.startsWith('background.compact'))).toEqual([]);
    const again = await LeaseJournal.open(path, NOW);
    expect(again.leases).toHaveLength(203);
    expect(again.leases.find((l) => l.address === '192.0.2.1')!.expiresAt).toBe(NOW + 3_600_000 + 10_000);
    expect(again.leases.filter((l) => ['192.0.2.201', '192.0.2.202', '192.0.2.203'].includes(l.address))).toHaveLength(3);
    await again.journal.close();
  });

  it('keeps serving from the old file when a background rewrite fails, and leaves no temp file', async () => {
    const path = join(dir, 'rewrite-fails');
    const { journal } = await LeaseJournal.open(path, NOW, undefined, {
      beforeSnapshotSync: () => Promise.reject(new Error('disk full')),
    });
    await Promise.all(Array.from({ length: 10_001 }, (_, i) => journal.append(rec((i % 200) + 1))));
    await journal.append(rec(201));
    await journal.close();
    expect(journal.stats.compactionFailures).toBe(1);
    expect((await readdir(dir)).filter((n) => n.startsWith('rewrite-fails.compact'))).toEqual([]);
    const again = await LeaseJournal.open(path, NOW);
    expect(again.leases).toHaveLength(201);
    await again.journal.close();
  });

  it('skips a torn or foreign line with a problem naming file and line, keeping the others', async () => {
    const path = join(dir, 'torn');
    const good = JSON.stringify({ c: 'a', a: '192.0.2.7', e: NOW + 1000 });
    await writeFile(path, `${good}\n{"c":"b","a":"192.0.2.8","e":18\nnot json at all\n`);
    const problems: JournalProblem[] = [];
    const { journal, leases } = await LeaseJournal.open(path, NOW, (p) => problems.push(p));
    expect(leases).toEqual([{ client: 'a', address: '192.0.2.7', expiresAt: NOW + 1000 }]);
    expect(problems.map((p) => p.line)).toEqual([2, 3]);
    expect(problems[0]!.file).toBe(path);
    await journal.close();
  });
});

describe('12: LeaseJournal and odd lease files', () => {
  it('refuses a directory as the lease file with one line naming it (a user error, not an internal one)', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path);
    const opened = LeaseJournal.open(path, NOW);
    await expect(opened).rejects.toBeInstanceOf(BootlabError);
    await expect(opened).rejects.toMatchObject({ code: 'BL_LEASE_FILE', message: `lease file ${path}: cannot read it: it is a directory, not a file` });
  });

  it('refuses a lease file in a folder that does not exist, naming the file', async () => {
    const path = join(dir, 'no-such-folder', 'leases');
    await expect(LeaseJournal.open(path, NOW)).rejects.toMatchObject({ code: 'BL_LEASE_FILE', message: expect.stringContaining(path) });
  });

  it('keeps the first lease of a file that starts with a UTF-8 byte order mark', async () => {
    const path = join(dir, 'bom');
    const line = (i: number) => JSON.stringify({ c: `c${i}`, a: `192.0.2.${i}`, e: NOW + 1000 });
    await writeFile(path, `\uFEFF${line(1)}\n${line(2)}\n`);
    const problems: JournalProblem[] = [];
    const { journal, leases } = await LeaseJournal.open(path, NOW, (p) => problems.push(p));
    expect(leases.map((l) => l.address)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(problems).toEqual([]);
    await journal.close();
  });

  it('keeps a symlinked lease file a symlink when it rewrites it, writing the target in place', async () => {
    const real = join(dir, 'state');
    await mkdir(real);
    const target = join(real, 'leases.jsonl');
    const link = join(dir, 'leases-link');
    await writeFile(target, `${JSON.stringify({ c: 'a', a: '192.0.2.7', e: NOW + 1000 })}\n`);
    await symlink(target, link);
    const { journal } = await LeaseJournal.open(link, NOW);
    await journal.append(rec(9));
    await journal.close();
    expect(journal.stats.compactions).toBe(1);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe(target);
    const lines = (await readFile(target, 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { a: string }).a)).toEqual(['192.0.2.7', '192.0.2.9']);
    // The temp file lived beside the target and is gone; nothing was left beside the link.
    expect(await readdir(real)).toEqual(['leases.jsonl']);
    expect((await readdir(dir)).filter((n) => n.startsWith('leases-link'))).toEqual(['leases-link']);
    const again = await LeaseJournal.open(link, NOW);
    expect(again.leases.map((l) => l.address).sort()).toEqual(['192.0.2.7', '192.0.2.9']);
    await again.journal.close();
  });
});

describe('Dhcp4Server with a lease file', () => {
  function startServer(file: string): Promise<{ child: ChildProcess; port: number }> {
    const child = spawn('node', [new URL('./fixtures/lease-server.mjs', import.meta.url).pathname, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('lease server did not start')), 10_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        resolve({ child, port: Number(line.split(' ')[1]) });
      });
    });
  }

  const lease = (port: number, i: number) =>
    acquireLease({
      server: { address: '127.0.0.1', port },
      mac: `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
      options: [],
      attempts: 2,
      retryMs: 2000,
      clock: new SimulatedClock(),
      random: new SeededRandom(i),
    });

  it('keeps every acknowledged lease across a SIGKILL: the same clients get the same addresses back', async () => {
    const file = join(dir, 'killed');
    const first = await startServer(file);
    // Interleave clients so the addresses are not simply handed out again in order.
    const order = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10];
    const before = new Map<number, string>();
    for (const i of order) before.set(i, (await lease(first.port, i)).address);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startServer(file);
    try {
      // A newcomer must not be given any address the killed server had acknowledged.
      const newcomer = await lease(second.port, 99);
      expect([...before.values()]).not.toContain(newcomer.address);
      for (const i of [...order].reverse()) expect((await lease(second.port, i)).address).toBe(before.get(i));
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
