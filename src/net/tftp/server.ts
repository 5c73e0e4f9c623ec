import { open, realpath, type FileHandle } from 'node:fs/promises';
import { BusyPoll } from '../busy-poll.js';
import { bindUdp, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';
import { negotiateRead, negotiateWrite, type Negotiation, type TftpLimits } from '../../protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, TftpErrorCode, type TftpPacket } from '../../protocol/tftp/packet.js';
import { BytesSource, FileBlockSource, type BlockSource } from './block-source.js';
import { ReadTransfer, type TransferOutcome } from './read-transfer.js';
import { resolveReadPath, resolveWritePath } from './safe-path.js';
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

export interface TftpServerDeps {
  onEvent?: (e: TftpServerEvent) => void;
  openPort?: DatagramPortFactory;
  content?: TftpContentHook;
}

const DEFAULT_MAX_BLKSIZE = 1468;
const DEFAULT_MAX_WINDOWSIZE = 64;
const DEFAULT_MAX_RETRIES = 5;
const DEFAULT_MAX_WRITE_BYTES = 1 << 30;

type Refusal = { code: number; message: string };
type TftpRequest = Extract<TftpPacket, { op: 'rrq' | 'wrq' }>;

/**
 * A TFTP server (RFC 1350, 2347, 2348, 2349, 7440): each transfer on its own socket (its
 * TID), options negotiated per RFC, windowed sending from read-ahead memory, bounded
 * retransmission with backoff, block numbers wrapping past 65535. Reads come from a root
 * (or a content hook); writes only into a configured directory. A request repeated while
 * its transfer runs (a retransmitted RRQ) is absorbed, not answered twice. Bad datagrams
 * are counted and dropped.
 */
export class TftpServer {
  readonly stats = { requests: 0, transfers: 0, dropped: {} as Record<string, number> };
  private port: DatagramPort | undefined;
  private readonly active = new Map<string, { abort(reason: string): void }>();
  private rootReal: string | undefined;
  private writeReal: string | undefined;
  private readonly busyPoll: BusyPoll;

  constructor(
    private readonly config: TftpServerConfig,
    private readonly deps: TftpServerDeps = {},
  ) {
    this.busyPoll = new BusyPoll(config.busyPollUs ?? 0);
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
    for (const t of this.active.values()) t.abort('server stopping');
    const port = this.port;
    this.port = undefined;
    await port?.close();
  }

  private openPort(bind: Parameters<DatagramPortFactory>[0]): Promise<DatagramPort> {
    return (this.deps.openPort ?? bindUdp)(bind);
  }

  private get limits(): TftpLimits {
    return {
      ...(this.config.retransmitMs !== undefined ? { defaultTimeoutMs: this.config.retransmitMs } : {}),
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
    // Claimed before any await, so a retransmitted request arriving meanwhile is absorbed.
    const slot = { aborted: false as boolean, abort(): void { this.aborted = true; } };
    this.active.set(remote, slot);
    try {
      if (p.op === 'rrq') await this.read(p, from, remote);
      else await this.write(p, from, remote);
    } catch (e) {
      this.active.delete(remote);
      this.emit({ type: 'tftp.failed', remote, file: p.filename, detail: e instanceof Error ? e.message : String(e) });
    }
  }

  private async read(p: TftpRequest, from: DatagramPeer, remote: string): Promise<void> {
    const generated = await this.deps.content?.({ filename: p.filename, remote: from });
    let fh: FileHandle | undefined;
    let size: number;
    if (generated) size = generated.length;
    else {
      const path = await resolveReadPath(this.rootReal!, p.filename);
      if (!path.ok) return this.refuse(from, remote, p.filename, path);
      try {
        fh = await open(path.path, 'r');
        size = (await fh.stat()).size;
      } catch {
        await fh?.close();
        return this.refuse(from, remote, p.filename, { code: TftpErrorCode.FILE_NOT_FOUND, message: 'file not found' });
      }
    }
    const n = negotiateRead(p.options, size, this.limits);
    if (!n.ok) {
      await fh?.close();
      return this.refuse(from, remote, p.filename, refusalOf(n));
    }
    const { blksize, windowsize } = n.params;
    const source: BlockSource = generated ? new BytesSource(generated, blksize) : new FileBlockSource(fh!, size, blksize, windowsize);
    const sock = await this.transferPort(source, from);
    const t = new ReadTransfer(sock, from, source, n.params, this.config.maxRetries ?? DEFAULT_MAX_RETRIES, (outcome) => this.ended(remote, p.filename, outcome), () => this.busyPoll.kick());
    this.begin(remote, t);
    t.start();
  }

  private async write(p: TftpRequest, from: DatagramPeer, remote: string): Promise<void> {
    if (!this.writeReal) return this.refuse(from, remote, p.filename, { code: TftpErrorCode.ACCESS_VIOLATION, message: 'writes are not accepted' });
    const path = await resolveWritePath(this.writeReal, p.filename);
    if (!path.ok) return this.refuse(from, remote, p.filename, path);
    const maxBytes = this.config.write?.maxBytes ?? DEFAULT_MAX_WRITE_BYTES;
    const n = negotiateWrite(p.options, { ...this.limits, maxBytes });
    if (!n.ok) return this.refuse(from, remote, p.filename, refusalOf(n));
    const sock = await this.openPort({ address: this.config.bind.address, port: 0, peer: from });
    const t = new WriteTransfer(
      sock,
      from,
      path.path,
      n.params,
      maxBytes,
      this.config.maxRetries ?? DEFAULT_MAX_RETRIES,
      (outcome) => this.report(remote, p.filename, outcome),
      () => this.active.delete(remote),
    );
    this.begin(remote, t);
    await t.start();
  }

  private async transferPort(source: BlockSource, peer: DatagramPeer): Promise<DatagramPort> {
    try {
      return await this.openPort({ address: this.config.bind.address, port: 0, bufferBytes: 1 << 20, peer });
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  /** Replaces the request's placeholder with its transfer, unless the server stopped meanwhile. */
  private begin(remote: string, t: { abort(reason: string): void }): void {
    const slot = this.active.get(remote) as { aborted?: boolean } | undefined;
    this.active.set(remote, t);
    if (slot?.aborted || !this.port) t.abort('server stopping');
  }

  private ended(remote: string, file: string, outcome: TransferOutcome): void {
    this.active.delete(remote);
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

  private async refuse(to: DatagramPeer, remote: string, file: string | undefined, why: Refusal): Promise<void> {
    this.active.delete(remote);
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

function refusalOf(n: Extract<Negotiation, { ok: false }>): Refusal {
  return { code: n.code, message: n.reason };
}

function doneDetail(o: Extract<TransferOutcome, { ok: true }>): { detail?: string } {
  if (o.probe) return { detail: 'size probe: the client took tsize and ended' };
  return o.resent || o.timeouts ? { detail: `${o.resent ?? 0} blocks sent again, ${o.timeouts ?? 0} timeouts` } : {};
}
