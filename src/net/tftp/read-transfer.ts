import type { DatagramPeer, DatagramPort } from '../datagram-port.js';
import type { TftpTransferParams } from '../../protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, TftpErrorCode, TftpOpcode } from '../../protocol/tftp/packet.js';
import type { BlockSource } from './block-source.js';
import { RetransmitTimer } from './retransmit-timer.js';

/** How long a smallest round-trip sample stays the estimate before a newer sample replaces it. */
const RTT_WINDOW_MS = 1000;

/** How long a transfer may go unanswered before it is given up. */
export interface RetryLimits {
  /** Retransmissions in a row. */
  maxRetries: number;
  /** Silence in a row, however long the negotiated timeout (ms). */
  maxSilentMs: number;
}

/** What a transfer tells the server beyond its outcome. */
export interface TransferHooks {
  /** Called after each burst of DATA: an ACK is due within a round trip. */
  sent?: () => void;
  /** The peer answered for the first time: it is a real client, not a spoofed source. */
  answered?: () => void;
}

export type TransferOutcome = { ok: true; bytes: number; probe?: boolean; resent?: number; timeouts?: number } | { ok: false; reason: string };

/**
 * One read transfer (RRQ) on its own socket: a window of blocks in flight, sent from
 * memory (the source reads ahead), retransmitted from the last acknowledged block on
 * timeout. Duplicate ACKs never cause a resend (no Sorcerer's Apprentice); a datagram
 * from another port gets error 5 and changes nothing.
 *
 * RFC 7440 receivers acknowledge the end of each window, or the last block they got in
 * order when they see a gap; such an ACK inside the window means "resend from here".
 * Receivers that acknowledge every block also send ACKs inside the window, dozens per
 * round trip, and answering each with a resent window would flood the link. So a gap
 * ACK sends the window again at most once per two round-trip times; any other ACK
 * inside the window just slides it. The round trip is the smallest sample of the last
 * second, taken on blocks sent once (Karn's rule): a receiver that waits for its own
 * timeout before it acknowledges must not make the estimate, and with it recovery, slow.
 */
export class ReadTransfer {
  /** Blocks acknowledged so far (absolute; the wire number is this mod 65536). */
  private acked = 0;
  private sentUpTo = 0;
  private loading = false;
  private finished = false;
  private heard = false;
  /** Send time and "sent more than once" per block, in a ring the size of two windows. */
  private readonly sentAt: Float64Array;
  private readonly resent: Uint8Array;
  private readonly ringMask: number;
  private minRttMs = -1;
  private minRttSince = 0;
  private lastGoBackAt = -Infinity;
  private highestSent = 0;
  private resentCount = 0;
  private timeouts = 0;
  private waitingForOackAck: boolean;
  private readonly lastBlock: number;
  private readonly timer: RetransmitTimer;

  constructor(
    private readonly sock: DatagramPort,
    private readonly peer: DatagramPeer,
    private readonly source: BlockSource,
    private readonly params: TftpTransferParams,
    retry: RetryLimits,
    private readonly done: (outcome: TransferOutcome) => void,
    private readonly hooks: TransferHooks = {},
  ) {
    // A body that is an exact multiple of blksize ends with an empty block.
    this.lastBlock = Math.floor(source.size / params.blksize) + 1;
    this.waitingForOackAck = params.oack.length > 0;
    const ring = 2 ** Math.ceil(Math.log2(2 * params.windowsize + 1));
    this.sentAt = new Float64Array(ring);
    this.resent = new Uint8Array(ring);
    this.ringMask = ring - 1;
    this.timer = new RetransmitTimer(
      params.timeoutMs,
      retry.maxRetries,
      () => {
        this.timeouts++;
        this.resend();
      },
      (n, ms) => this.finish({ ok: false, reason: `no answer after ${n} retransmissions (${Math.round(ms)} ms of silence)` }),
      retry.maxSilentMs,
    );
  }

  start(): void {
    this.sock.onMessage((bytes, from) => this.receive(bytes, from));
    this.resend();
  }

  abort(reason: string): void {
    this.finish({ ok: false, reason });
  }

  private resend(): void {
    if (this.waitingForOackAck) {
      this.timer.restart();
      this.send(encodeTftp({ op: 'oack', options: this.params.oack }));
      return;
    }
    this.goBack();
  }

  private goBack(): void {
    this.lastGoBackAt = performance.now();
    this.sentUpTo = this.acked;
    this.pump();
  }

  private receive(bytes: Uint8Array, from: DatagramPeer): void {
    if (this.finished) return;
    if (from.address !== this.peer.address || from.port !== this.peer.port) {
      void this.sock.send(encodeTftp({ op: 'error', code: TftpErrorCode.UNKNOWN_TID, message: 'unknown transfer id' }), from.address, from.port).catch(() => undefined);
      return;
    }
    // The hot path: an ACK is four bytes; decode it without the general decoder's allocations.
    if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === TftpOpcode.ACK) return this.ack((bytes[2]! << 8) | bytes[3]!);
    const d = decodeTftp(bytes);
    if (!d.ok || d.value.op !== 'error') return;
    const p = d.value;
    // EDK2 asks for tsize, reads the OACK and aborts with error 8: a size probe, not a failure.
    if (this.waitingForOackAck && p.code === TftpErrorCode.OPTION_REFUSED) return this.finish({ ok: true, bytes: 0, probe: true });
    this.finish({ ok: false, reason: `client error ${p.code}: ${p.message}` });
  }

  private ack(block: number): void {
    if (!this.heard) {
      this.heard = true;
      this.hooks.answered?.();
    }
    if (this.waitingForOackAck) {
      if (block !== 0) return;
      this.waitingForOackAck = false;
      this.timer.progress();
      return this.pump();
    }
    // Map the 16-bit number onto the blocks in flight; anything else is stale.
    const ahead = (block - (this.acked & 0xffff) + 0x10000) & 0xffff;
    if (ahead === 0 || this.acked + ahead > this.sentUpTo) return;
    this.acked += ahead;
    this.timer.progress();
    const now = performance.now();
    const slot = this.acked & this.ringMask;
    if (!this.resent[slot]) {
      const sample = now - this.sentAt[slot]!;
      if (this.minRttMs < 0 || sample < this.minRttMs || now - this.minRttSince > RTT_WINDOW_MS) {
        this.minRttMs = sample;
        this.minRttSince = now;
      }
    }
    if (this.acked >= this.lastBlock) return this.finish({ ok: true, bytes: this.source.size, resent: this.resentCount, timeouts: this.timeouts });
    if (this.acked < this.sentUpTo && now - this.lastGoBackAt > 2 * this.minRttMs) return this.goBack();
    this.pump();
  }

  /** Sends the window's unsent blocks; pauses (and resumes) when the source must read first. */
  private pump(): void {
    if (this.finished || this.loading) return;
    const until = Math.min(this.acked + this.params.windowsize, this.lastBlock);
    if (this.sentUpTo >= until) return;
    this.timer.restart();
    while (this.sentUpTo < until) {
      const n = this.sentUpTo + 1;
      const packet = this.source.packet(n);
      if (!packet) return this.loadThenPump(n);
      this.sentUpTo = n;
      const slot = n & this.ringMask;
      // A block sent before gives no RTT sample: its ACK may answer either send.
      this.resent[slot] = n <= this.highestSent ? 1 : 0;
      this.resentCount += this.resent[slot]!;
      if (n > this.highestSent) this.highestSent = n;
      this.sentAt[slot] = performance.now();
      this.send(packet);
    }
    this.hooks.sent?.();
  }

  private loadThenPump(n: number): void {
    this.loading = true;
    this.source.load(n).then(
      () => {
        this.loading = false;
        this.pump();
      },
      (e: unknown) => {
        this.send(encodeTftp({ op: 'error', code: TftpErrorCode.NOT_DEFINED, message: 'read error' }));
        this.finish({ ok: false, reason: `read error: ${e instanceof Error ? e.message : String(e)}` });
      },
    );
  }

  private send(packet: Uint8Array): void {
    void this.sock.send(packet, this.peer.address, this.peer.port).catch(() => undefined);
  }

  private finish(outcome: TransferOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.timer.stop();
    void Promise.all([this.source.close(), this.sock.close()]).then(() => this.done(outcome));
  }
}
