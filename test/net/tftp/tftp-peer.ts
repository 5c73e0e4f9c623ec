import { bindUdp, type DatagramPeer, type DatagramPort } from '../../../src/net/datagram-port.js';
import { decodeTftp, encodeTftp, type TftpOptions, type TftpPacket } from '../../../src/protocol/tftp/packet.js';

export interface TftpPeer {
  sock: DatagramPort;
  /** The next packet received, or a rejection after `ms`. */
  next(ms?: number): Promise<{ p: TftpPacket; from: DatagramPeer }>;
  /** Sends a packet to the server's request port, or to `to` (a transfer's TID). */
  send(p: TftpPacket, to?: DatagramPeer): Promise<void>;
  close(): Promise<void>;
}

/**
 * A hand-driven TFTP peer bound to `address` (any 127.0.0.x: Linux routes all of 127/8 on
 * lo), so tests can play distinct clients against one server.
 */
export async function tftpPeer(server: DatagramPeer, address = '127.0.0.1'): Promise<TftpPeer> {
  const sock = await bindUdp({ address, port: 0 });
  const queue: Array<{ p: TftpPacket; from: DatagramPeer }> = [];
  const waiters: Array<(x: { p: TftpPacket; from: DatagramPeer }) => void> = [];
  sock.onMessage((bytes, from) => {
    const d = decodeTftp(bytes);
    if (!d.ok) return;
    const item = { p: d.value, from };
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  });
  const next = (ms = 5000) =>
    new Promise<{ p: TftpPacket; from: DatagramPeer }>((resolve, reject) => {
      const have = queue.shift();
      if (have) return resolve(have);
      const waiter = (x: { p: TftpPacket; from: DatagramPeer }): void => {
        clearTimeout(timer);
        resolve(x);
      };
      // A waiter that timed out must not swallow the next packet.
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`no packet within ${ms} ms`));
      }, ms);
      waiters.push(waiter);
    });
  return {
    sock,
    next,
    send: (p, to = server) => sock.send(encodeTftp(p), to.address, to.port),
    close: () => sock.close(),
  };
}

/** Sends an RRQ and returns the server's first answer (OACK, DATA 1 or ERROR) and the peer. */
export async function request(server: DatagramPeer, address: string, filename: string, options: TftpOptions = []): Promise<{ peer: TftpPeer; first: TftpPacket; from: DatagramPeer }> {
  const peer = await tftpPeer(server, address);
  await peer.send({ op: 'rrq', filename, mode: 'octet', options });
  const { p, from } = await peer.next();
  return { peer, first: p, from };
}

/** Reads a whole file lock-step (plain RFC 1350) from `address`; the error packet if refused. */
export async function download(server: DatagramPeer, address: string, filename: string): Promise<Buffer | TftpPacket> {
  const peer = await tftpPeer(server, address);
  const chunks: Buffer[] = [];
  try {
    await peer.send({ op: 'rrq', filename, mode: 'octet', options: [] });
    for (let i = 0; i < 100_000; i++) {
      const { p, from } = await peer.next();
      if (p.op === 'error') return p;
      if (p.op !== 'data') continue;
      if (p.block === ((chunks.length + 1) & 0xffff)) chunks.push(Buffer.from(p.data));
      await peer.send({ op: 'ack', block: p.block }, from);
      if (p.data.length < 512 && p.block === (chunks.length & 0xffff)) return Buffer.concat(chunks);
    }
    throw new Error('too many blocks');
  } finally {
    await peer.close();
  }
}
