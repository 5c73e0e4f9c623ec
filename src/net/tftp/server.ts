import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { bindUdp, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';
import { negotiateRead, type TftpTransferParams } from '../../protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, TftpErrorCode } from '../../protocol/tftp/packet.js';

export interface TftpServerConfig {
  /** Read-only root; nothing outside it is ever served. */
  root: string;
  bind: { address: string; port: number };
  /** Largest block size granted; default 1468 (fits a 1500-byte MTU with IP/UDP/TFTP headers). */
  maxBlksize?: number;
  maxWindowsize?: number;
  /** Retransmissions of one window before the transfer is abandoned. */
  maxRetries?: number;
  /** Wait before a retransmission when the client set no timeout option (default 1 s). */
  retransmitMs?: number;
}

export interface TftpServerEvent {
  type: 'tftp.request' | 'tftp.done' | 'tftp.refused' | 'tftp.failed' | 'tftp.dropped';
  remote?: string;
  file?: string;
  bytes?: number;
  detail?: string;
}

const DEFAULT_MAX_BLKSIZE = 1468;
const DEFAULT_MAX_WINDOWSIZE = 64;
const DEFAULT_MAX_RETRIES = 5;

/**
 * A read-only TFTP server (RFC 1350, 2347, 2348, 2349, 7440): each transfer on its own
 * socket (its TID), options negotiated per RFC, windowed sending, retransmission on
 * timeout with a bounded number of tries, block numbers wrapping past 65535. Files are
 * read a window at a time, never whole. Bad datagrams are counted and dropped.
 */
export class TftpServer {
  readonly stats = { requests: 0, transfers: 0, dropped: {} as Record<string, number> };
  private port: DatagramPort | undefined;
  private readonly transfers = new Set<Transfer>();
  private rootReal: string | undefined;

  constructor(
    private readonly config: TftpServerConfig,
    private readonly deps: { onEvent?: (e: TftpServerEvent) => void; openPort?: DatagramPortFactory } = {},
  ) {}

  async start(): Promise<DatagramPeer> {
    this.rootReal = await realpath(this.config.root);
    const port = await (this.deps.openPort ?? bindUdp)({ ...this.config.bind, bufferBytes: 1 << 20 });
    this.port = port;
    port.onMessage((bytes, from) => void this.request(bytes, from));
    return port.address();
  }

  async stop(): Promise<void> {
    for (const t of this.transfers) t.abort('server stopping');
    const port = this.port;
    this.port = undefined;
    await port?.close();
  }

  private async request(bytes: Uint8Array, from: DatagramPeer): Promise<void> {
    this.stats.requests++;
    const d = decodeTftp(bytes);
    if (!d.ok) return this.drop(d.error.code, d.error.message);
    const p = d.value;
    const remote = `${from.address}:${from.port}`;
    if (p.op !== 'rrq') {
      const reply = p.op === 'wrq' ? [TftpErrorCode.ACCESS_VIOLATION, 'writes are not accepted'] : [TftpErrorCode.ILLEGAL_OPERATION, `${p.op} on the request port`];
      await this.replyError(from, reply[0] as number, reply[1] as string);
      return this.emit({ type: 'tftp.refused', remote, detail: reply[1] as string });
    }
    this.emit({ type: 'tftp.request', remote, file: p.filename, detail: p.options.map((o) => `${o.name}=${o.value}`).join(' ') });
    const path = await this.resolve(p.filename);
    if (typeof path !== 'string') {
      await this.replyError(from, path.code, path.message);
      return this.emit({ type: 'tftp.refused', remote, file: p.filename, detail: path.message });
    }
    let fh: FileHandle;
    let size: number;
    try {
      fh = await open(path, 'r');
      size = (await fh.stat()).size;
    } catch {
      await this.replyError(from, TftpErrorCode.FILE_NOT_FOUND, 'file not found');
      return this.emit({ type: 'tftp.refused', remote, file: p.filename, detail: 'file not found' });
    }
    const n = negotiateRead(p.options, size, {
      ...(this.config.retransmitMs !== undefined ? { defaultTimeoutMs: this.config.retransmitMs } : {}),
      maxBlksize: this.config.maxBlksize ?? DEFAULT_MAX_BLKSIZE,
      maxWindowsize: this.config.maxWindowsize ?? DEFAULT_MAX_WINDOWSIZE,
    });
    if (!n.ok) {
      await fh.close();
      await this.replyError(from, TftpErrorCode.OPTION_REFUSED, n.reason);
      return this.emit({ type: 'tftp.refused', remote, file: p.filename, detail: n.reason });
    }
    const sock = await (this.deps.openPort ?? bindUdp)({ address: this.config.bind.address, port: 0 });
    const t = new Transfer(sock, from, fh, size, n.params, this.config.maxRetries ?? DEFAULT_MAX_RETRIES, (outcome) => {
      this.transfers.delete(t);
      this.stats.transfers++;
      this.emit(
        outcome.ok
          ? { type: 'tftp.done', remote, file: p.filename, bytes: outcome.bytes, ...(outcome.probe ? { detail: 'size probe: the client took tsize and ended' } : {}) }
          : { type: 'tftp.failed', remote, file: p.filename, detail: outcome.reason },
      );
    });
    this.transfers.add(t);
    t.start();
  }

  /** The file under the root, or the error to send: traversal, absolute paths, NUL, backslashes and symlinks out are refused. */
  private async resolve(name: string): Promise<string | { code: number; message: string }> {
    const refuse = { code: TftpErrorCode.ACCESS_VIOLATION, message: 'access violation' };
    const clean = name.replace(/^\/+/, '');
    if (name.includes('\0') || name.includes('\\') || clean.split('/').includes('..') || isAbsolute(clean)) return refuse;
    const full = join(this.rootReal!, clean);
    let real: string;
    try {
      real = await realpath(full);
    } catch {
      return { code: TftpErrorCode.FILE_NOT_FOUND, message: 'file not found' };
    }
    const rel = relative(this.rootReal!, real);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return refuse;
    if (!(await stat(real)).isFile()) return refuse;
    return real;
  }

  private async replyError(to: DatagramPeer, code: number, message: string): Promise<void> {
    await this.port?.send(encodeTftp({ op: 'error', code, message }), to.address, to.port).catch(() => undefined);
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

type TransferOutcome = { ok: true; bytes: number; probe?: boolean } | { ok: false; reason: string };

/** One read transfer: its own socket, a window of blocks in flight, retransmission on timeout. */
class Transfer {
  /** Blocks acknowledged so far (absolute count; the wire number is this mod 65536). */
  private acked = 0;
  private sentUpTo = 0;
  private retries = 0;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;
  private readonly lastBlock: number;
  private readonly oackPending: boolean;
  private waitingForOackAck: boolean;
  /** Bumped by every (re)send: an older sending loop stops when a newer one starts. */
  private generation = 0;

  constructor(
    private readonly sock: DatagramPort,
    private readonly peer: DatagramPeer,
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly params: TftpTransferParams,
    private readonly maxRetries: number,
    private readonly done: (outcome: TransferOutcome) => void,
  ) {
    // A file that is an exact multiple of blksize ends with an empty block.
    this.lastBlock = Math.floor(size / params.blksize) + 1;
    this.oackPending = params.oack.length > 0;
    this.waitingForOackAck = this.oackPending;
  }

  start(): void {
    this.sock.onMessage((bytes, from) => this.receive(bytes, from));
    if (this.oackPending) void this.sendOack();
    else void this.sendWindow();
  }

  abort(reason: string): void {
    void this.finish({ ok: false, reason });
  }

  private receive(bytes: Uint8Array, from: DatagramPeer): void {
    if (this.finished) return;
    if (from.address !== this.peer.address || from.port !== this.peer.port) {
      // RFC 1350: a packet from another TID gets error 5 and does not disturb this transfer.
      void this.sock.send(encodeTftp({ op: 'error', code: TftpErrorCode.UNKNOWN_TID, message: 'unknown transfer id' }), from.address, from.port).catch(() => undefined);
      return;
    }
    const d = decodeTftp(bytes);
    if (!d.ok) return;
    const p = d.value;
    if (p.op === 'error') {
      // EDK2 asks for tsize, reads the OACK and aborts with error 8: a size probe, not a failure.
      if (this.waitingForOackAck && p.code === TftpErrorCode.OPTION_REFUSED) return void this.finish({ ok: true, bytes: 0, probe: true });
      return void this.finish({ ok: false, reason: `client error ${p.code}: ${p.message}` });
    }
    if (p.op !== 'ack') return;
    if (this.waitingForOackAck) {
      if (p.block !== 0) return;
      this.waitingForOackAck = false;
      this.retries = 0;
      return void this.sendWindow();
    }
    // Map the 16-bit ACK onto the window in flight; anything else is a stale duplicate,
    // which must not trigger a resend (Sorcerer's Apprentice).
    const ahead = (p.block - (this.acked & 0xffff) + 0x10000) & 0xffff;
    if (ahead === 0 || this.acked + ahead > this.sentUpTo) return;
    this.acked += ahead;
    this.retries = 0;
    if (this.acked >= this.lastBlock) return void this.finish({ ok: true, bytes: this.size });
    // RFC 7440: continue from the acknowledged block (blocks after it, if any, were lost).
    this.sentUpTo = this.acked;
    void this.sendWindow();
  }

  private async sendOack(): Promise<void> {
    this.arm(() => this.sendOack());
    await this.sock.send(encodeTftp({ op: 'oack', options: this.params.oack }), this.peer.address, this.peer.port).catch(() => undefined);
  }

  private async sendWindow(): Promise<void> {
    this.arm(() => {
      this.sentUpTo = this.acked;
      return this.sendWindow();
    });
    const generation = ++this.generation;
    const until = Math.min(this.acked + this.params.windowsize, this.lastBlock);
    const { blksize } = this.params;
    while (this.sentUpTo < until && !this.finished && generation === this.generation) {
      const n = this.sentUpTo + 1;
      const start = (n - 1) * blksize;
      const length = Math.max(0, Math.min(blksize, this.size - start));
      const buf = Buffer.alloc(length);
      if (length > 0) await this.fh.read(buf, 0, length, start);
      if (generation !== this.generation || this.finished) return;
      this.sentUpTo = n;
      await this.sock.send(encodeTftp({ op: 'data', block: n & 0xffff, data: buf }), this.peer.address, this.peer.port).catch(() => undefined);
    }
  }

  /** (Re)starts the retransmission timer; too many tries end the transfer. */
  private arm(resend: () => Promise<void>): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.finished) return;
      if (++this.retries > this.maxRetries) return void this.finish({ ok: false, reason: `no answer after ${this.maxRetries} retransmissions` });
      void resend();
    }, this.params.timeoutMs);
  }

  private async finish(outcome: TransferOutcome): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    await this.fh.close().catch(() => undefined);
    await this.sock.close();
    this.done(outcome);
  }
}
