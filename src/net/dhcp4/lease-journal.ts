import { open, realpath, rename, readFile, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BootlabError } from '../../errors.js';

/** One lease as the journal keeps it. `expiresAt` 0 means released. */
export interface LeaseRecord {
  /** The lease key (lease-key.ts): `hw:<htype>:<chaddr>`, or `id:<hex of option 61>` for an id that is not the hardware address. */
  client: string;
  address: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface JournalProblem {
  file: string;
  line: number;
  detail: string;
}

/**
 * The lease file: one JSON object per line, `{"c":client,"a":address,"e":expiresAtMs}`,
 * appended as leases change and rewritten (compacted) when it opens and when it has grown
 * past several times the live leases.
 *
 * Durability is a group commit: `append` resolves only once its line is written and
 * fdatasync'd, and every line that arrived while one sync was in flight goes out in the
 * next single write + sync. So no ACK has to wait for more than about two syncs, and
 * the disk never limits the lease rate to one sync per lease.
 *
 * Compaction while serving runs beside the appends, as Kea's lease file cleanup does in
 * its own process: the live leases of one moment go to a temp file in the background while
 * appends keep going to the old file; then the lines appended since that moment are added
 * to the temp file, and it replaces the old one. Only that last short step holds the
 * appends, so a fleet-sized rewrite never stalls the ACKs behind it.
 */
export class LeaseJournal {
  private queue: Array<{ line: string; record: LeaseRecord; resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  private readonly live = new Map<string, LeaseRecord>();
  private linesSinceCompaction = 0;
  /** A compaction in the background: its temp file, written and synced once `ready`. */
  private compaction: { tmp: string; target: string; since: string[]; ready: boolean; failed: boolean; done: Promise<void> } | undefined;
  /** Counts of writes and syncs: what a test (or an operator) checks the batching by. */
  readonly stats = { records: 0, writes: 0, syncs: 0, compactions: 0, compactionFailures: 0 };

  private constructor(
    readonly path: string,
    private fh: FileHandle,
    private readonly hooks: JournalHooks = {},
  ) {}

  /**
   * Loads the leases still valid at `now`, compacts the file to exactly those, and
   * returns the journal ready to append. A line that does not parse is reported and
   * skipped; the others are kept.
   */
  static async open(
    path: string,
    now: number,
    onProblem: (p: JournalProblem) => void = () => undefined,
    hooks: JournalHooks = {},
  ): Promise<{ journal: LeaseJournal; leases: LeaseRecord[] }> {
    const leases = new Map<string, LeaseRecord>();
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(path, 'cannot read it', e);
    }
    // An editor's UTF-8 byte order mark is not part of the first record.
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const record = parseLine(line);
      if (!record) {
        // A torn last line is what a crash mid-write leaves; earlier lines are still good.
        onProblem({ file: path, line: i + 1, detail: `not a lease record: ${line.slice(0, 80)}` });
        return;
      }
      if (record.expiresAt > now) leases.set(record.client, record);
      else leases.delete(record.client);
    });
    let fh: FileHandle;
    try {
      fh = await open(path, 'a');
    } catch (e) {
      throw fileError(path, 'cannot open it for writing', e);
    }
    const journal = new LeaseJournal(path, fh, hooks);
    for (const r of leases.values()) journal.live.set(r.client, r);
    try {
      await journal.compact();
    } catch (e) {
      await journal.fh.close().catch(() => undefined);
      throw fileError(path, 'cannot rewrite it', e);
    }
    return { journal, leases: [...leases.values()] };
  }

  /** Resolves once the record is on disk. */
  append(record: LeaseRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ line: recordLine(record), record, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  async close(): Promise<void> {
    // Queued lines are written, and a background rewrite is finished (or abandoned) in the
    // append path, so no temp file stays behind and nothing races the handle switch.
    for (let i = 0; i < 3 && (this.flushing || this.compaction); i++) {
      await this.flushing;
      const c = this.compaction;
      if (c) {
        await c.done;
        await (this.flushing ??= this.flush());
      }
    }
    await this.fh.close();
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.fh.write(batch.map((b) => b.line).join(''));
          this.stats.writes++;
          await this.fh.datasync();
          this.stats.syncs++;
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          for (const b of batch) b.reject(error);
          continue;
        }
        for (const b of batch) {
          if (b.record.expiresAt > 0) this.live.set(b.record.client, b.record);
          else this.live.delete(b.record.client);
        }
        this.stats.records += batch.length;
        this.linesSinceCompaction += batch.length;
        // Lines written after a background snapshot are added to it before it replaces the file.
        if (this.compaction) for (const b of batch) this.compaction.since.push(b.line);
        for (const b of batch) b.resolve();
        if (this.compaction?.ready || this.compaction?.failed) await this.finishCompaction();
        else if (!this.compaction && this.linesSinceCompaction > Math.max(COMPACT_MIN_LINES, COMPACT_FACTOR * this.live.size)) this.startCompaction();
      }
      // The snapshot may finish while nothing is queued: replace the file now, not at the next lease.
      if (this.compaction?.ready || this.compaction?.failed) await this.finishCompaction();
    } finally {
      this.flushing = undefined;
    }
  }

  /** Writes the live leases of this moment to a temp file beside the target, in the background. */
  private startCompaction(): void {
    const snapshot = [...this.live.values()];
    const c = { tmp: '', target: '', since: [] as string[], ready: false, failed: false, done: Promise.resolve() };
    this.compaction = c;
    c.done = (async () => {
      c.target = await realpath(this.path);
      c.tmp = `${c.target}.compact-${process.pid}`;
      const out = await open(c.tmp, 'w', 0o644);
      try {
        // In slices with a write between them: serializing a fleet's leases in one go would
        // hold the event loop (and the DHCP exchanges waiting on it) for tens of milliseconds.
        for (let at = 0; at < snapshot.length; at += SNAPSHOT_SLICE) {
          await out.write(snapshot.slice(at, at + SNAPSHOT_SLICE).map(recordLine).join(''));
        }
        await this.hooks.beforeSnapshotSync?.();
        await out.datasync();
      } finally {
        await out.close();
      }
    })().then(
      () => {
        c.ready = true;
      },
      () => {
        c.failed = true;
      },
    );
    // Finishing needs the append path's turn; start it if nothing else will.
    void c.done.then(() => {
      if (this.compaction === c) this.flushing ??= this.flush();
    });
  }

  /**
   * Completes (or abandons) the background rewrite, inside the append path: the lines since
   * the snapshot go to the temp file, which is synced and renamed over the file. A failure
   * leaves the old file, which still holds every line, and tries again after as many lines.
   */
  private async finishCompaction(): Promise<void> {
    const c = this.compaction;
    if (!c) return;
    this.compaction = undefined;
    this.linesSinceCompaction = c.since.length;
    try {
      if (c.failed) throw new Error('snapshot failed');
      const out = await open(c.tmp, 'a');
      try {
        if (c.since.length > 0) await out.write(c.since.join(''));
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(c.tmp, c.target);
      await syncDirectory(dirname(c.target));
      const old = this.fh;
      this.fh = await open(this.path, 'a');
      await old.close();
      this.stats.compactions++;
    } catch {
      this.stats.compactionFailures++;
      this.linesSinceCompaction = 0;
      if (c.tmp) await rm(c.tmp, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Rewrites the file as exactly the live leases: temp file, sync, rename, sync the
   * directory. A symlinked lease file stays a symlink: the rewrite replaces its target,
   * with the temp file beside the target so the rename stays atomic (one file system).
   */
  private async compact(): Promise<void> {
    const target = await realpath(this.path);
    const tmp = `${target}.compact-${process.pid}`;
    const out = await open(tmp, 'w', 0o644);
    try {
      await out.write([...this.live.values()].map(recordLine).join(''));
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(tmp, target);
    await syncDirectory(dirname(target));
    const old = this.fh;
    this.fh = await open(this.path, 'a');
    await old.close();
    this.linesSinceCompaction = 0;
    this.stats.compactions++;
  }
}

/** Seams for tests: a compaction whose snapshot is held at a known point. */
export interface JournalHooks {
  /** Awaited after the snapshot is written, before it is synced. */
  beforeSnapshotSync?: () => Promise<void>;
}

function recordLine(r: LeaseRecord): string {
  return `${JSON.stringify({ c: r.client, a: r.address, e: r.expiresAt })}\n`;
}

/** Leases serialized per write of a background snapshot (~80 KiB). */
const SNAPSHOT_SLICE = 1000;

/** Compact once the file holds this many times more lines than there are live leases. */
const COMPACT_FACTOR = 4;
const COMPACT_MIN_LINES = 10_000;

/** The operator's to fix (a directory, a missing folder, no permission): one line naming the file. */
function fileError(path: string, what: string, e: unknown): BootlabError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'EISDIR' ? 'it is a directory, not a file' : err.code === 'ENOENT' ? 'its directory does not exist' : err.code === 'EACCES' ? 'permission denied' : (err.code ?? err.message);
  return new BootlabError('BL_LEASE_FILE', `lease file ${path}: ${what}: ${why}`, { cause: e });
}

function parseLine(line: string): LeaseRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { c, a, e } = v as Record<string, unknown>;
  if (typeof c !== 'string' || typeof a !== 'string' || typeof e !== 'number' || !/^\d+\.\d+\.\d+\.\d+$/.test(a)) return undefined;
  return { client: c, address: a, expiresAt: e };
}

async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
