import { realpath, stat } from 'node:fs/promises';
import type { Clock } from '../../clock.js';
import { BusyPoll } from '../busy-poll.js';
import { bindUdp, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';
import { negotiateRead, negotiateWrite, type Negotiation, type TftpLimits } from '../../protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, TftpErrorCode, type TftpPacket } from '../../protocol/tftp/packet.js';
import { BytesSource, FileBlockSource, type BlockSource } from './block-source.js';
import { ReadAheadBudget } from './read-ahead-budget.js';
import { ReadTransfer, type RetryLimits, type TransferOutcome } from './read-transfer.js';
import { resolveReadPath, resolveWritePath } from './safe-path.js';
import { SharedFiles } from './shared-files.js';
import { TransferBudget, type TransferSlot } from './transfer-budget.js';
import { WriteTransfer } from './write-transfer.js';

export interface TftpServerConfig {
  /** Read-only root; nothing outside it is ever served. */
  root: string;
  bind: { address: string; port: number };
  /** Largest block size granted; default 1468 (fits a 1500-byte MTU with IP/UDP/TFTP headers). */
  maxBlksize?: number;
  maxWindowsize?: number;
  /** Retransmissions in a row before a transfer is abandoned. */
  maxRetries?: number;
  /** Silence in a row (ms) before a transfer is abandoned, whatever its timeout (default 30 s). */
  maxSilenceMs?: number;
  /** Longest a transfer may run in all (ms, default 10 min): a peer that drips ACKs cannot hold a place for ever. */
  maxTransferMs?: number;
  /** Largest RFC 2349 `timeout` accepted (s, default 10); a larger one is left out of the OACK and the default applies. */
  maxTimeoutS?: number;
  /** Transfers running at once, in all (default 256). */
  maxTransfers?: number;
  /** Transfers running at once from one client address (default 16). */
  maxTransfersPerClient?: number;
  /** File bytes held in memory for reading ahead, all read transfers together (default 64 MiB). */
  maxReadAheadBytes?: number;
  /** Wait before a retransmission when the client set no timeout option (default 1 s). */
  retransmitMs?: number;
  /** Accept uploads (WRQ) into this directory; without it every WRQ is refused. */
  write?: { dir: string; maxBytes?: number };
  /**
   * After sending DATA, keep polling for the ACK instead of sleeping for this long (µs;
   * default 0, off): lower round-trip latency for lock-step clients at the cost of CPU
   * while transfers run.
   */
  busyPollUs?: number;
}

/** What a client asked for, for a content hook to answer. */
export interface TftpContentRequest {
  filename: string;
  remote: DatagramPeer;
}

/**
 * Per-client generated content (a per-MAC config, an ONIE waterfall path): bytes to serve
 * for this request, or undefined to look the name up under the root as usual.
 */
export type TftpContentHook = (request: TftpContentRequest) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

export interface TftpServerEvent {
  type: 'tftp.request' | 'tftp.done' | 'tftp.refused' | 'tftp.failed' | 'tftp.dropped';
  remote?: string;
  file?: string;
  bytes?: number;
  detail?: string;
}

/** The clock of transfer time limits and of how long a transfer waited; it needs a reading. */
export type TftpServerClock = Clock & { now(): number };

export interface TftpServerDeps {
  onEvent?: (e: TftpServerEvent) => void;
  openPort?: DatagramPortFactory;
  content?: TftpContentHook;
  clock?: TftpServerClock;
}

const WALL_CLOCK: TftpServerClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

const DEFAULT_MAX_BLKSIZE = 1468;
const DEFAULT_MAX_WINDOWSIZE = 64;
const DEFAULT_MAX_RETRIES = 5;
const DEFAULT_MAX_WRITE_BYTES = 1 << 30;
export const DEFAULT_TFTP_BUDGETS = {
  maxTransfers: 256,
  maxTransfersPerClient: 16,
  maxTransferMs: 600_000,
  maxSilenceMs: 30_000,
  maxTimeoutS: 10,
  maxReadAheadBytes: 64 * 1024 * 1024,
} as const;

type Refusal = { code: number; message: string };
type TftpRequest = Extract<TftpPacket, { op: 'rrq' | 'wrq' }>;

/**
 * A TFTP server (RFC 1350, 2347, 2348, 2349, 7440): each transfer on its own socket (its
 * TID), options negotiated per RFC, windowed sending from read-ahead memory, bounded
 * retransmission with backoff, block numbers wrapping past 65535. Reads come from a root
 * (or a content hook); writes only into a configured directory. A request repeated while
 * its transfer runs (a retransmitted RRQ) is absorbed, not answered twice. Bad datagrams
 * are counted and dropped.
 *
 * On a hostile network every transfer is bounded: places in all and per client address
 * (over budget: error 0 "server busy", counted in `stats.busy`), read-ahead memory, the
 * silence and the total time a transfer may take. Files are opened when their first block
 * is due and shared between transfers of the same file.
 */
export class TftpServer {
  readonly stats = { requests: 0, transfers: 0, busy: 0, evicted: 0, dropped: {} as Record<string, number> };
  private port: DatagramPort | undefined;
  private readonly active = new Map<string, Running>();
  /** Write paths of uploads in progress: a second WRQ for one of them gets error 6 at once. */
  private readonly writing = new Set<string>();
  private readonly budget: TransferBudget;
  private readonly readAhead: ReadAheadBudget;
  private readonly files = new SharedFiles();
  private readonly clock: TftpServerClock;
  private rootReal: string | undefined;
  private writeReal: string | undefined;
  private readonly busyPoll: BusyPoll;

  constructor(
    private readonly config: TftpServerConfig,
    private readonly deps: TftpServerDeps = {},
  ) {
    this.busyPoll = new BusyPoll(config.busyPollUs ?? 0);
    this.clock = deps.clock ?? WALL_CLOCK;
    const d = DEFAULT_TFTP_BUDGETS;
    for (const [name, v] of [
      ['maxTransferMs', config.maxTransferMs],
      ['maxSilenceMs', config.maxSilenceMs],
      ['maxTimeoutS', config.maxTimeoutS],
    ] as const) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`TFTP ${name} must be a positive number, got ${v}`);
    }
    this.budget = new TransferBudget(
      {
        total: config.maxTransfers ?? d.maxTransfers,
        perClient: config.maxTransfersPerClient ?? d.maxTransfersPerClient,
        // A real client answers within a round trip; one retransmission period is generous.
        evictUnansweredAfterMs: config.retransmitMs ?? 1000,
      },
      () => this.clock.now(),
    );
    this.readAhead = new ReadAheadBudget(config.maxReadAheadBytes ?? d.maxReadAheadBytes);
  }

  /** Transfers running, file bytes held in memory for them, files open. */
  get load(): { transfers: number; bufferedBytes: number; openFiles: number } {
    return { transfers: this.budget.active, bufferedBytes: this.readAhead.heldBytes, openFiles: this.files.size };
  }

  async start(): Promise<DatagramPeer> {
    this.rootReal = await realpath(this.config.root);
    if (this.config.write) this.writeReal = await realpath(this.config.write.dir);
    const port = await this.openPort({ ...this.config.bind, bufferBytes: 1 << 20 });
    this.port = port;
    port.onMessage((bytes, from) => void this.request(bytes, from));
    return port.address();
  }

  async stop(): Promise<void> {
    this.busyPoll.stop();
    for (const running of this.active.values()) this.abortRunning(running, 'server stopping');
    const port = this.port;
    this.port = undefined;
    await port?.close();
  }

  private openPort(bind: Parameters<DatagramPortFactory>[0]): Promise<DatagramPort> {
    return (this.deps.openPort ?? bindUdp)(bind);
  }

  private get retry(): RetryLimits {
    return { maxRetries: this.config.maxRetries ?? DEFAULT_MAX_RETRIES, maxSilentMs: this.config.maxSilenceMs ?? DEFAULT_TFTP_BUDGETS.maxSilenceMs };
  }

  private get limits(): TftpLimits {
    return {
      ...(this.config.retransmitMs !== undefined ? { defaultTimeoutMs: this.config.retransmitMs } : {}),
      maxTimeoutS: this.config.maxTimeoutS ?? DEFAULT_TFTP_BUDGETS.maxTimeoutS,
      maxBlksize: this.config.maxBlksize ?? DEFAULT_MAX_BLKSIZE,
      maxWindowsize: this.config.maxWindowsize ?? DEFAULT_MAX_WINDOWSIZE,
    };
  }

  private async request(bytes: Uint8Array, from: DatagramPeer): Promise<void> {
    this.stats.requests++;
    const d = decodeTftp(bytes);
    if (!d.ok) return this.drop(d.error.code, d.error.message);
    const p = d.value;
    const remote = `${from.address}:${from.port}`;
    if (p.op !== 'rrq' && p.op !== 'wrq') return this.refuse(from, remote, undefined, { code: TftpErrorCode.ILLEGAL_OPERATION, message: `${p.op} on the request port` });
    if (this.active.has(remote)) return this.drop('repeated-request', `${p.op} from ${remote} while its transfer runs`);
    this.emit({ type: 'tftp.request', remote, file: p.filename, detail: [p.op === 'wrq' ? 'write' : '', ...p.options.map((o) => `${o.name}=${o.value}`)].filter(Boolean).join(' ') });
    if (p.mode !== 'octet' && p.mode !== 'netascii') return this.refuse(from, remote, p.filename, { code: TftpErrorCode.ILLEGAL_OPERATION, message: `mode ${p.mode} is not supported` });
    // Claimed before any await, so a retransmitted request arriving meanwhile is absorbed,
    // and counted against the budget before any file or socket is touched.
    const running: Running = { aborted: undefined, transfer: undefined, release: () => undefined, slot: undefined };
    const admission = this.budget.admit(from.address, (reason) => {
      this.stats.evicted++;
      this.abortRunning(running, reason);
    });
    if (!admission.ok) {
      this.stats.busy++;
      return this.refuse(from, remote, p.filename, { code: TftpErrorCode.NOT_DEFINED, message: admission.reason });
    }
    running.release = admission.release;
    running.slot = admission.slot;
    this.active.set(remote, running);
    try {
      if (p.op === 'rrq') await this.read(p, from, remote, running);
      else await this.write(p, from, remote, running);
    } catch (e) {
      this.finished(remote, running);
      this.emit({ type: 'tftp.failed', remote, file: p.filename, detail: e instanceof Error ? e.message : String(e) });
    }
  }

  /** The peer is a real client: its place is no longer one a newcomer may take. */
  private answered(running: Running): void {
    if (running.slot) running.slot.answered = true;
  }

  private abortRunning(running: Running, reason: string): void {
    if (running.transfer) running.transfer.abort(reason);
    else running.aborted ??= reason;
  }

  /** The transfer is over: its place in the budget and its request key are free again. */
  private finished(remote: string, running: Running): void {
    running.release();
    if (running.deadline !== undefined) this.clock.clearTimeout(running.deadline);
    running.deadline = undefined;
    if (this.active.get(remote) === running) this.active.delete(remote);
  }

  private async read(p: TftpRequest, from: DatagramPeer, remote: string, running: Running): Promise<void> {
    const generated = await this.deps.content?.({ filename: p.filename, remote: from });
    let path: string | undefined;
    let size: number;
    if (generated) size = generated.length;
    else {
      const safe = await resolveReadPath(this.rootReal!, p.filename);
      if (!safe.ok) return this.refuse(from, remote, p.filename, safe, running);
      path = safe.path;
      try {
        // Only the size for now: the file is opened when its first block is due.
        size = (await stat(path)).size;
      } catch {
        return this.refuse(from, remote, p.filename, { code: TftpErrorCode.FILE_NOT_FOUND, message: 'file not found' }, running);
      }
    }
    const n = negotiateRead(p.options, size, this.limits);
    if (!n.ok) return this.refuse(from, remote, p.filename, refusalOf(n), running);
    const { blksize, windowsize } = n.params;
    const file = path;
    const source: BlockSource = generated ? new BytesSource(generated, blksize) : new FileBlockSource(() => this.files.acquire(file!), size, blksize, windowsize, this.readAhead);
    const sock = await this.transferPort(source, from);
    const t = new ReadTransfer(sock, from, source, n.params, this.retry, (outcome) => this.ended(remote, running, p.filename, outcome), {
      sent: () => this.busyPoll.kick(),
      answered: () => this.answered(running),
    });
    this.begin(running, t);
    t.start();
  }

  private async write(p: TftpRequest, from: DatagramPeer, remote: string, running: Running): Promise<void> {
    if (!this.writeReal) return this.refuse(from, remote, p.filename, { code: TftpErrorCode.ACCESS_VIOLATION, message: 'writes are not accepted' }, running);
    const path = await resolveWritePath(this.writeReal, p.filename);
    if (!path.ok) return this.refuse(from, remote, p.filename, path, running);
    // Two uploads of one new name: the second hears at once that the name is taken (the
    // final link would refuse it anyway, after the whole upload).
    if (this.writing.has(path.path)) return this.refuse(from, remote, p.filename, { code: TftpErrorCode.FILE_EXISTS, message: 'file already exists (an upload of it is in progress)' }, running);
    const maxBytes = this.config.write?.maxBytes ?? DEFAULT_MAX_WRITE_BYTES;
    const n = negotiateWrite(p.options, { ...this.limits, maxBytes });
    if (!n.ok) return this.refuse(from, remote, p.filename, refusalOf(n), running);
    this.writing.add(path.path);
    let sock: DatagramPort;
    try {
      sock = await this.openPort({ address: this.config.bind.address, port: 0, peer: from });
    } catch (e) {
      this.writing.delete(path.path);
      throw e;
    }
    const t = new WriteTransfer(
      sock,
      from,
      path.path,
      n.params,
      maxBytes,
      this.retry,
      (outcome) => this.report(remote, p.filename, outcome),
      () => {
        this.writing.delete(path.path);
        this.finished(remote, running);
      },
      { answered: () => this.answered(running) },
    );
    this.begin(running, t);
    try {
      await t.start();
    } catch (e) {
      this.writing.delete(path.path);
      await sock.close();
      throw e;
    }
  }

  private async transferPort(source: BlockSource, peer: DatagramPeer): Promise<DatagramPort> {
    try {
      return await this.openPort({ address: this.config.bind.address, port: 0, bufferBytes: 1 << 20, peer });
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  /**
   * Gives the request's place its transfer and the transfer its time limit, unless the
   * server stopped or the place was taken back meanwhile.
   */
  private begin(running: Running, t: { abort(reason: string): void }): void {
    running.transfer = t;
    const limit = this.config.maxTransferMs ?? DEFAULT_TFTP_BUDGETS.maxTransferMs;
    running.deadline = this.clock.setTimeout(() => {
      running.deadline = undefined;
      t.abort(`transfer time limit of ${limit} ms reached`);
    }, limit);
    if (running.aborted !== undefined) t.abort(running.aborted);
    else if (!this.port) t.abort('server stopping');
  }

  private ended(remote: string, running: Running, file: string, outcome: TransferOutcome): void {
    this.finished(remote, running);
    this.report(remote, file, outcome);
  }

  private report(remote: string, file: string, outcome: TransferOutcome): void {
    this.stats.transfers++;
    this.emit(
      outcome.ok
        ? { type: 'tftp.done', remote, file, bytes: outcome.bytes, ...doneDetail(outcome) }
        : { type: 'tftp.failed', remote, file, detail: outcome.reason },
    );
  }

  private async refuse(to: DatagramPeer, remote: string, file: string | undefined, why: Refusal, running?: Running): Promise<void> {
    if (running) this.finished(remote, running);
    await this.port?.send(encodeTftp({ op: 'error', code: why.code, message: why.message }), to.address, to.port).catch(() => undefined);
    this.emit({ type: 'tftp.refused', remote, ...(file !== undefined ? { file } : {}), detail: why.message });
  }

  private drop(reason: string, detail: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    this.emit({ type: 'tftp.dropped', detail: `${reason}: ${detail}` });
  }

  private emit(e: TftpServerEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not stop the server.
    }
  }
}

/** A request's place while it is answered: its transfer once there is one. */
interface Running {
  /** Set when the place was taken back before the transfer existed. */
  aborted: string | undefined;
  transfer: { abort(reason: string): void } | undefined;
  release: () => void;
  slot: TransferSlot | undefined;
  deadline?: unknown;
}

function refusalOf(n: Extract<Negotiation, { ok: false }>): Refusal {
  return { code: n.code, message: n.reason };
}

function doneDetail(o: Extract<TransferOutcome, { ok: true }>): { detail?: string } {
  if (o.probe) return { detail: 'size probe: the client took tsize and ended' };
  return o.resent || o.timeouts ? { detail: `${o.resent ?? 0} blocks sent again, ${o.timeouts ?? 0} timeouts` } : {};
}
