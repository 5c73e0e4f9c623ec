import { isIPv6 } from 'node:net';
import type { Clock } from '../../clock.js';
import { PeerError, TimeoutError } from '../../errors.js';
import { decodeTftp, encodeTftp, type TftpOptions } from '../../protocol/tftp/packet.js';
import { bindUdp, type DatagramPeer, type DatagramPortFactory } from '../datagram-port.js';

export interface TftpGetOptions {
  server: { address: string; port: number };
  filename: string;
  /** Options to request (blksize, tsize, windowsize, timeout); none: plain RFC 1350. */
  options?: TftpOptions;
  /** Wait for the next packet before re-sending the last ACK (or the request). */
  retryMs: number;
  /** Re-sends in a row before giving up. */
  retries: number;
  /** Each silent wait in a row is this much longer than the last, up to maxMs (busybox: ×1.5 up to 2 s). */
  backoff?: { factor: number; maxMs: number };
  clock: Clock;
  /** Every block's data, in order, once. */
  onData: (chunk: Uint8Array) => void;
  signal?: AbortSignal;
  openPort?: DatagramPortFactory;
  /**
   * EDK2's way: first a request with tsize 0 (and the options) that is aborted with
   * error 8 once the OACK gives the size, then the real read, which must deliver exactly
   * that many bytes (the firmware sized its buffer from it).
   */
  sizeProbe?: boolean;
}

export interface TftpGetResult {
  bytes: number;
  /** What the server's OACK granted (empty: it answered with DATA 1). */
  granted: TftpOptions;
  /** The size the probe learned (sizeProbe only; absent when the server ignored tsize). */
  probedSize?: number;
}

/** The wait before re-sending after `silent` silent waits in a row. */
function waitMs(o: TftpGetOptions, silent: number): number {
  return o.backoff ? Math.min(o.retryMs * o.backoff.factor ** silent, o.backoff.maxMs) : o.retryMs;
}

/** Asks for tsize and aborts after the answer, as EDK2 does before it reads a file. */
async function probeSize(o: TftpGetOptions): Promise<number | undefined> {
  const sock = await (o.openPort ?? bindUdp)({ address: isIPv6(o.server.address) ? '::' : '0.0.0.0', port: 0 });
  const request = encodeTftp({ op: 'rrq', filename: o.filename, mode: 'octet', options: [{ name: 'tsize', value: '0' }, ...(o.options ?? []).filter((x) => x.name !== 'tsize')] });
  const abort = encodeTftp({ op: 'error', code: 8, message: 'User aborted the transfer' });
  try {
    return await new Promise<number | undefined>((resolve, reject) => {
      let tries = 0;
      let timer: unknown;
      const arm = (): void => {
        timer = o.clock.setTimeout(() => {
          if (++tries > o.retries) return reject(new TimeoutError(`TFTP size probe ${o.filename} from ${o.server.address}`, (o.retries + 1) * o.retryMs));
          void sock.send(request, o.server.address, o.server.port);
          arm();
        }, waitMs(o, tries));
      };
      o.signal?.addEventListener('abort', () => reject(o.signal?.reason), { once: true });
      sock.onMessage((data, from) => {
        const d = decodeTftp(data);
        if (!d.ok) return;
        const p = d.value;
        if (p.op === 'error') return reject(new PeerError('BL_TFTP_ERROR', `TFTP ${o.filename}: server error ${p.code}: ${p.message}`));
        if (p.op !== 'oack' && p.op !== 'data') return;
        o.clock.clearTimeout(timer);
        void sock.send(abort, from.address, from.port);
        const tsize = p.op === 'oack' ? p.options.find((x) => x.name === 'tsize')?.value : undefined;
        resolve(tsize !== undefined && /^\d+$/.test(tsize) ? Number(tsize) : undefined);
      });
      void sock.send(request, o.server.address, o.server.port);
      arm();
    });
  } finally {
    await sock.close();
  }
}

/**
 * A TFTP read as firmware does it: RRQ (with options), ACK 0 after an OACK, then ACK the
 * last block received in order (RFC 7440: also when a window arrives with a gap).
 * Block numbers wrap past 65535. Rejects PeerError BL_TFTP_ERROR on an ERROR packet and
 * TimeoutError after `retries` silent waits; the socket is closed in every case.
 */
export async function tftpGet(o: TftpGetOptions): Promise<TftpGetResult> {
  o.signal?.throwIfAborted();
  if (o.sizeProbe) {
    const size = await probeSize(o);
    const r = await read(o);
    if (size !== undefined && r.bytes !== size) throw new PeerError('BL_TFTP_SIZE', `TFTP ${o.filename}: the size probe said ${size} bytes, the read delivered ${r.bytes}`);
    return size === undefined ? r : { ...r, probedSize: size };
  }
  return read(o);
}

async function read(o: TftpGetOptions): Promise<TftpGetResult> {
  const sock = await (o.openPort ?? bindUdp)({ address: isIPv6(o.server.address) ? '::' : '0.0.0.0', port: 0 });
  const request = encodeTftp({ op: 'rrq', filename: o.filename, mode: 'octet', options: o.options ?? [] });
  let blksize = 512;
  let granted: TftpOptions = [];
  let received = 0;
  let windowsize = 1;
  let inWindow = 0;
  let gapReportedAt = -1;
  let bytes = 0;
  let peer: DatagramPeer | undefined;
  try {
    return await new Promise<TftpGetResult>((resolve, reject) => {
      let silent = 0;
      let timer: unknown;
      const arm = (): void => {
        o.clock.clearTimeout(timer);
        timer = o.clock.setTimeout(() => {
          if (++silent > o.retries) return fail(new TimeoutError(`TFTP ${o.filename} from ${o.server.address}`, (o.retries + 1) * o.retryMs));
          // Silence: re-request, or tell the server where we are so it resends from there.
          if (peer) void sock.send(encodeTftp({ op: 'ack', block: received & 0xffff }), peer.address, peer.port);
          else void sock.send(request, o.server.address, o.server.port);
          arm();
        }, waitMs(o, silent));
      };
      const fail = (e: unknown): void => {
        o.clock.clearTimeout(timer);
        reject(e);
      };
      const send = (bytes: Uint8Array, to: DatagramPeer): void => void sock.send(bytes, to.address, to.port);
      o.signal?.addEventListener('abort', () => fail(o.signal?.reason), { once: true });
      sock.onMessage((data, from) => {
        // The transfer's TID is the port of the first answer; anything else is a stranger.
        if (peer && (from.address !== peer.address || from.port !== peer.port)) return;
        const d = decodeTftp(data);
        if (!d.ok) return;
        const p = d.value;
        peer ??= from;
        silent = 0;
        if (p.op === 'error') return fail(new PeerError('BL_TFTP_ERROR', `TFTP ${o.filename}: server error ${p.code}: ${p.message}`));
        if (p.op === 'oack') {
          granted = p.options;
          blksize = Number(p.options.find((x) => x.name === 'blksize')?.value ?? 512);
          windowsize = Number(p.options.find((x) => x.name === 'windowsize')?.value ?? 1);
          send(encodeTftp({ op: 'ack', block: 0 }), from);
          return arm();
        }
        if (p.op !== 'data') return;
        if (p.block === ((received + 1) & 0xffff)) {
          received++;
          bytes += p.data.length;
          try {
            o.onData(p.data);
          } catch (e) {
            // The consumer refused the data (a chunk that fails its manifest): end the transfer
            // as RFC 1350 lets either side, so the server stops sending at once.
            send(encodeTftp({ op: 'error', code: 0, message: 'transfer stopped by the client' }), from);
            return fail(e);
          }
          if (p.data.length < blksize) {
            o.clock.clearTimeout(timer);
            send(encodeTftp({ op: 'ack', block: p.block }), from);
            return resolve({ bytes, granted });
          }
          // RFC 7440: one ACK per window, for its last block.
          if (++inWindow >= windowsize) {
            inWindow = 0;
            send(encodeTftp({ op: 'ack', block: p.block }), from);
          }
        } else if (gapReportedAt !== received) {
          // A gap (or a duplicate): report the last block held in order, once per gap.
          gapReportedAt = received;
          inWindow = 0;
          send(encodeTftp({ op: 'ack', block: received & 0xffff }), from);
        }
        arm();
      });
      send(request, o.server);
      arm();
    });
  } finally {
    await sock.close();
  }
}

/** busybox tftp's timers (ONIE's TFTP methods): 100 ms, ×1.5 per silent wait up to 2 s, 12 tries. */
export const BUSYBOX_TFTP_TIMERS = { retryMs: 100, retries: 12, backoff: { factor: 1.5, maxMs: 2000 } } as const;

/** What firmware asks for (pxe-dhcp-tftp.md §6): busybox none, EDK2 1468 × 4, iPXE ≤ 1432. */
export const TFTP_CLIENT_PROFILES = {
  busybox: [] as TftpOptions,
  edk2: [
    { name: 'blksize', value: '1468' },
    { name: 'windowsize', value: '4' },
  ] as TftpOptions,
  ipxe: [{ name: 'blksize', value: '1432' }] as TftpOptions,
} as const;
