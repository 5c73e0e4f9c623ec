import { constants } from 'node:fs';
import { copyFile, link, open, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DatagramPeer, DatagramPort } from '../datagram-port.js';
import type { TftpTransferParams } from '../../protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, TftpErrorCode } from '../../protocol/tftp/packet.js';
import type { RetryLimits, TransferHooks, TransferOutcome } from './read-transfer.js';
import { RetransmitTimer } from './retransmit-timer.js';

/** Bytes gathered before one write to disk. */
const FLUSH_BYTES = 256 * 1024;

/**
 * One write transfer (WRQ): blocks are accepted in order only, acknowledged at the end of
 * each window (RFC 7440) or at once on a gap, and written to a hidden temporary file. The
 * final ACK leaves only after the file is complete, flushed to disk and linked into place:
 * a client that saw it can rely on the upload. The link fails when the name exists by
 * then (another upload of the same name finished first): an upload never replaces a file,
 * the later one gets error 6 and the first one's bytes stay. The transfer lingers one timeout after that
 * to answer a repeated last block (our ACK may be the packet that was lost).
 */
export class WriteTransfer {
  private received = 0;
  private bytes = 0;
  private inWindow = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writing: Promise<void> = Promise.resolve();
  private state: 'receiving' | 'completing' | 'lingering' | 'failing' | 'finished' = 'receiving';
  private fh: FileHandle | undefined;
  private reported = false;
  private heard = false;
  private readonly temp: string;
  private readonly timer: RetransmitTimer;

  constructor(
    private readonly sock: DatagramPort,
    private readonly peer: DatagramPeer,
    private readonly path: string,
    private readonly params: TftpTransferParams,
    private readonly maxBytes: number,
    retry: RetryLimits,
    private readonly done: (outcome: TransferOutcome) => void,
    /** After the lingering socket is closed too. */
    private readonly closed: () => void,
    private readonly hooks: TransferHooks = {},
  ) {
    this.temp = join(dirname(path), `.${basename(path)}.bootlab-upload-${process.pid}-${Math.random().toString(36).slice(2)}`);
    this.timer = new RetransmitTimer(
      params.timeoutMs,
      retry.maxRetries,
      () => (this.received === 0 ? this.sendFirst() : this.sendAck()),
      (n, ms) => void this.fail(`no data after ${n} retransmissions (${Math.round(ms)} ms of silence)`),
      retry.maxSilentMs,
    );
  }

  async start(): Promise<void> {
    this.fh = await open(this.temp, 'wx');
    this.sock.onMessage((bytes, from) => this.receive(bytes, from));
    this.timer.restart();
    this.sendFirst();
  }

  /** The first answer to a WRQ: the OACK when options were granted, else ACK 0. */
  private sendFirst(): void {
    this.sendRaw(this.params.oack.length > 0 ? encodeTftp({ op: 'oack', options: this.params.oack }) : encodeTftp({ op: 'ack', block: 0 }));
  }

  abort(reason: string): void {
    void this.fail(reason);
  }

  private receive(datagram: Uint8Array, from: DatagramPeer): void {
    if (this.state === 'finished') return;
    if (from.address !== this.peer.address || from.port !== this.peer.port) {
      void this.sock.send(encodeTftp({ op: 'error', code: TftpErrorCode.UNKNOWN_TID, message: 'unknown transfer id' }), from.address, from.port).catch(() => undefined);
      return;
    }
    const d = decodeTftp(datagram);
    if (!d.ok) return;
    const p = d.value;
    if (this.state !== 'receiving') {
      // The upload is complete; only a repeated last block (our ACK was lost) gets an answer.
      if (this.state === 'lingering' && p.op === 'data' && p.block === (this.received & 0xffff)) this.sendAck();
      return;
    }
    if (p.op === 'error') return void this.fail(`client error ${p.code}: ${p.message}`);
    if (p.op !== 'data') return;
    if (!this.heard) {
      this.heard = true;
      this.hooks.answered?.();
    }
    if (p.block !== ((this.received + 1) & 0xffff)) {
      // A gap or a duplicate: say where we are, so the sender goes on from there (RFC 7440).
      this.inWindow = 0;
      return this.sendAck();
    }
    if (p.data.length > this.params.blksize) return void this.fail(`block ${p.block} has ${p.data.length} bytes, more than blksize ${this.params.blksize}`, TftpErrorCode.ILLEGAL_OPERATION);
    if (this.bytes + p.data.length > this.maxBytes) return void this.fail(`upload exceeds ${this.maxBytes} bytes`, TftpErrorCode.DISK_FULL);
    this.received++;
    this.bytes += p.data.length;
    this.timer.progress();
    if (p.data.length > 0) this.queue(Buffer.from(p.data));
    if (p.data.length < this.params.blksize) return void this.complete();
    if (++this.inWindow >= this.params.windowsize) {
      this.inWindow = 0;
      this.sendAck();
    }
  }

  private queue(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const fh = this.fh!;
    this.writing = this.writing.then(async () => {
      let off = 0;
      while (off < data.length) off += (await fh.write(data, off, data.length - off)).bytesWritten;
    });
  }

  private async complete(): Promise<void> {
    this.state = 'completing';
    this.timer.stop();
    this.flush();
    try {
      await this.writing;
      await this.fh!.sync();
      await this.fh!.close();
      this.fh = undefined;
      await placeExclusively(this.temp, this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return this.fail('file already exists', TftpErrorCode.FILE_EXISTS);
      return this.fail(`write error: ${e instanceof Error ? e.message : String(e)}`, TftpErrorCode.DISK_FULL);
    }
    await rm(this.temp, { force: true }).catch(() => undefined);
    if (this.state !== 'completing') return;
    this.state = 'lingering';
    this.sendAck();
    // The upload is durable: report it now; the socket stays a while for a repeated last block.
    this.report({ ok: true, bytes: this.bytes });
    setTimeout(() => void this.end({ ok: true, bytes: this.bytes }), this.params.timeoutMs).unref();
  }

  private report(outcome: TransferOutcome): void {
    if (this.reported) return;
    this.reported = true;
    this.done(outcome);
  }

  private sendAck(): void {
    this.sendRaw(encodeTftp({ op: 'ack', block: this.received & 0xffff }));
  }

  private sendRaw(packet: Uint8Array): void {
    void this.sock.send(packet, this.peer.address, this.peer.port).catch(() => undefined);
  }

  private async fail(reason: string, code?: number): Promise<void> {
    if (this.state === 'finished' || this.state === 'failing') return;
    this.state = 'failing';
    this.timer.stop();
    await this.writing.catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    // Nothing half-written stays behind, and it is gone before the client hears why.
    await rm(this.temp, { force: true });
    if (code !== undefined) this.sendRaw(encodeTftp({ op: 'error', code, message: reason }));
    await this.end({ ok: false, reason });
  }

  private async end(outcome: TransferOutcome): Promise<void> {
    if (this.state === 'finished') return;
    this.state = 'finished';
    this.timer.stop();
    await this.sock.close();
    this.report(outcome);
    this.closed();
  }
}

/** Filesystems without hard links (some FUSE, vfat) answer link() with one of these. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * Gives the finished temporary file its name, failing with EEXIST when the name exists:
 * link() never replaces (rename() would). Where hard links are not supported, an
 * exclusive copy keeps the same guarantee.
 */
async function placeExclusively(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (e) {
    if (!NO_LINKS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    await copyFile(temp, path, constants.COPYFILE_EXCL);
  }
}
