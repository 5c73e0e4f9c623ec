import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { z } from 'zod';
import { BootlabError } from '../errors.js';

/**
 * The offline verifier's memory across runs of `bootlab attest verify`: each accepted quote's
 * nonce and digest, and the TPM clock it reported. A second verification of the same
 * evidence (same nonce or same quote) is a replay; the clock of the last accepted quote of
 * the same AK is the "previous" a new quote must not go back from.
 *
 * The file is JSON, replaced whole through a temporary file and rename (a reader sees the
 * old or the new ledger, never half of one), under an exclusive lock file beside it, so two
 * verifiers running at once cannot both accept the same evidence.
 */
export interface LedgerEntry {
  nonce: string;
  /** sha256 of the TPMS_ATTEST. */
  quote: string;
  /** qualifiedSigner, hex: which AK the clock belongs to. */
  signer: string;
  clock: string;
  resetCount: number;
  restartCount: number;
  at: string;
}

export interface LedgerOptions {
  /** How long to wait for another verifier's lock. Default 5,000 ms. */
  lockWaitMs?: number;
  /** A lock older than this is from a verifier that died; it is broken. Default 30,000 ms. */
  staleLockMs?: number;
  /** Oldest entries go beyond this many. Default 100,000. */
  maxEntries?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const FORMAT = 'bootlab-nonce-ledger';
const entrySchema = z
  .object({
    nonce: z.string().regex(/^([0-9a-f]{2})*$/),
    quote: z.string().regex(/^[0-9a-f]{64}$/),
    signer: z.string().regex(/^([0-9a-f]{2})*$/),
    clock: z.string().regex(/^\d+$/),
    resetCount: z.number().int().min(0),
    restartCount: z.number().int().min(0),
    at: z.string(),
  })
  .strict();
const fileSchema = z.object({ format: z.literal(FORMAT), version: z.literal(1), entries: z.array(entrySchema) }).strict();

export interface LedgerView {
  readonly entries: readonly LedgerEntry[];
  /** The entry that already used this nonce or this quote, if any. */
  seen(nonceHex: string, quoteHex: string): LedgerEntry | undefined;
  /** The last accepted quote of this AK. */
  lastOf(signerHex: string): LedgerEntry | undefined;
}

/**
 * Runs `decide` with the ledger locked; when it returns an entry, the entry is appended and
 * the ledger written before the lock is released. A missing file is an empty ledger.
 */
export async function withLedgerFile<T>(
  path: string,
  decide: (view: LedgerView) => { result: T; add?: LedgerEntry | undefined },
  opts: LedgerOptions = {},
): Promise<T> {
  const release = await lock(path, opts);
  try {
    const entries = await readLedger(path);
    const view: LedgerView = {
      entries,
      seen: (n, q) => entries.find((e) => e.nonce === n || e.quote === q),
      lastOf: (s) => entries.findLast((e) => e.signer === s),
    };
    const { result, add } = decide(view);
    if (add) {
      const max = opts.maxEntries ?? 100_000;
      const next = [...entries, add].slice(-max);
      await writeAtomically(path, `${JSON.stringify({ format: FORMAT, version: 1, entries: next }, null, 1)}\n`);
    }
    return result;
  } finally {
    await release();
  }
}

async function readLedger(path: string): Promise<LedgerEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BootlabError('BL_CLI_INPUT', `--ledger ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BootlabError('BL_CLI_INPUT', `--ledger ${path}: not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BootlabError('BL_CLI_INPUT', `--ledger ${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data.entries;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    // The rename must not land before the bytes: a crash then leaves the old ledger, not an empty one.
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** An O_EXCL lock file beside the ledger; waits a bounded time, breaks a lock left by a dead verifier. */
async function lock(path: string, opts: LedgerOptions): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (opts.lockWaitMs ?? 5_000);
  const stale = opts.staleLockMs ?? 30_000;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(lockPath, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BootlabError('BL_CLI_INPUT', `--ledger ${path}: cannot lock: ${(e as Error).message}`);
    }
    const age = await stat(lockPath).then(
      (s) => now() - s.mtimeMs,
      () => 0,
    );
    if (age > stale) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (now() >= deadline) throw new BootlabError('BL_LEDGER_BUSY', `--ledger ${path}: locked by another verifier (${lockPath}) for longer than ${opts.lockWaitMs ?? 5_000} ms`);
    await sleep(25);
  }
}
