import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface DatagramPeer {
  address: string;
  port: number;
}

/**
 * A bound UDP endpoint. Servers and clients take one of these (or a factory), never
 * node:dgram, so that fault wrappers `(port) => DatagramPort` (loss, delay, capture)
 * compose around them unseen.
 */
export interface DatagramPort {
  /**
   * Hands a datagram to the network. Resolves once it is queued (UDP promises no more);
   * rejects only when it cannot be queued at all, e.g. on a closed socket.
   */
  send(bytes: Uint8Array, address: string, port: number): Promise<void>;
  /** Adds a listener; returns a function that removes it. */
  onMessage(fn: (bytes: Uint8Array, from: DatagramPeer) => void): () => void;
  close(): Promise<void>;
  /** The bound address (with the real port when bound to port 0). */
  address(): DatagramPeer;
}

export interface DatagramBind {
  address: string;
  port: number;
  broadcast?: boolean;
  /** Socket buffer sizes in bytes (the kernel caps them at net.core.[rw]mem_max). */
  bufferBytes?: number;
  /**
   * The one peer this port is for (a TFTP transfer's TID). Its datagrams take a connected
   * socket, so sends to it skip dgram's per-datagram address resolution, a tenth of the
   * cost of a send at window rates. Datagrams from anyone else still arrive.
   */
  peer?: DatagramPeer;
}

export type DatagramPortFactory = (bind: DatagramBind) => Promise<DatagramPort>;

export function bindUdp(o: DatagramBind): Promise<DatagramPort> {
  if (o.peer) return bindPeerUdp(o, o.peer);
  return bindSocket(o, false).then((socket) => new UdpPort(socket));
}

/**
 * Linux hands a datagram sent to 255.255.255.255 only to sockets bound to the wildcard
 * address or to that broadcast address, never to one bound to a unicast address; DHCP
 * clients without an address can only broadcast. So a port bound to a unicast address
 * also gets a receive-only socket on 255.255.255.255 at the same port: it hears both, and
 * sends from the unicast one, so replies leave from the bound address. (Node cannot read
 * the arrival interface, so a broadcast from any interface is heard.) Wildcard and
 * loopback binds are left alone: the first hears broadcasts already, the second none come to.
 */
export function hearingBroadcasts(open: DatagramPortFactory): DatagramPortFactory {
  return async (o) => {
    const main = await open(o);
    if (!needsBroadcastEar(o.address)) return main;
    let ear: DatagramPort;
    try {
      ear = await open({ address: LIMITED_BROADCAST, port: main.address().port, ...(o.bufferBytes !== undefined ? { bufferBytes: o.bufferBytes } : {}) });
    } catch (e) {
      await main.close();
      throw e;
    }
    // Replies leave from the unicast socket, so their source is the server's own address.
    return new SocketPair(main, ear, () => main);
  };
}

export const LIMITED_BROADCAST = '255.255.255.255';

/** A unicast IPv4 bind: not the wildcard, not the broadcast address, not loopback. */
export function needsBroadcastEar(address: string): boolean {
  return address !== '0.0.0.0' && address !== LIMITED_BROADCAST && !address.startsWith('127.') && !address.includes(':');
}

/**
 * A connected socket hears only its peer, so a second socket shares the port
 * (SO_REUSEADDR; the kernel prefers the connected one for the peer's datagrams) and
 * hears everyone else: strays still arrive and can be answered.
 */
async function bindPeerUdp(o: DatagramBind, peer: DatagramPeer): Promise<DatagramPort> {
  const own = await bindSocket(o, true);
  let others: Socket;
  try {
    await new Promise<void>((resolve, reject) => {
      own.once('error', reject);
      own.connect(peer.port, peer.address, () => {
        own.off('error', reject);
        resolve();
      });
    });
    others = await bindSocket({ address: o.address, port: own.address().port }, true);
  } catch (e) {
    own.close();
    throw e;
  }
  const ownPort = new UdpPort(own, peer);
  const othersPort = new UdpPort(others);
  return new SocketPair(ownPort, othersPort, (address, port) => (address === peer.address && port === peer.port ? ownPort : othersPort));
}

function bindSocket(o: DatagramBind, shared: boolean): Promise<Socket> {
  const socket = createSocket({
    // A v6 port (TFTP on serve --bind6) takes IPv6 only, so it shares its number with the v4 one.
    ...(isIPv6(o.address) ? { type: 'udp6' as const, ipv6Only: true } : { type: 'udp4' as const }),
    reuseAddr: shared,
    ...(o.bufferBytes !== undefined ? { recvBufferSize: o.bufferBytes, sendBufferSize: o.bufferBytes } : {}),
  });
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      socket.close();
      reject(e);
    };
    socket.once('error', onError);
    socket.bind(o.port, o.address, () => {
      socket.off('error', onError);
      if (o.broadcast) socket.setBroadcast(true);
      resolve(socket);
    });
  });
}

const QUEUED = Promise.resolve();

class UdpPort implements DatagramPort {
  private readonly listeners = new Set<(bytes: Uint8Array, from: DatagramPeer) => void>();
  private closed: Promise<void> | undefined;

  /** `peer`: the socket is connected to it, and sends to it go without an address. */
  constructor(
    private readonly socket: Socket,
    private readonly peer?: DatagramPeer,
  ) {
    socket.on('message', (msg, rinfo) => {
      const from = { address: rinfo.address, port: rinfo.port };
      for (const fn of this.listeners) fn(msg, from);
    });
    // A send to an unreachable peer can surface here; it must not crash the process.
    socket.on('error', () => undefined);
  }

  send(bytes: Uint8Array, address: string, port: number): Promise<void> {
    try {
      // No completion callback: at tens of thousands of datagrams a second (TFTP windows)
      // the per-send callback costs more than the send. A later kernel error reaches the
      // socket's 'error' listener, where a connectionless sender could not act on it anyway.
      if (this.peer) this.socket.send(bytes);
      else this.socket.send(bytes, port, address);
      return QUEUED;
    } catch (e) {
      // dgram throws synchronously once the socket is closed.
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  onMessage(fn: (bytes: Uint8Array, from: DatagramPeer) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.listeners.clear();
      this.socket.close(() => resolve());
    });
    return this.closed;
  }

  address(): DatagramPeer {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }
}

/**
 * Two sockets on one port as one DatagramPort: it hears both, and `sendsFrom` picks the
 * socket each datagram leaves from. Serves a unicast port with its broadcast ear (always
 * the unicast one) and a transfer's connected socket with its catch-all (the connected
 * one for its peer).
 */
class SocketPair implements DatagramPort {
  constructor(
    private readonly first: DatagramPort,
    private readonly second: DatagramPort,
    private readonly sendsFrom: (address: string, port: number) => DatagramPort,
  ) {}

  send(bytes: Uint8Array, address: string, port: number): Promise<void> {
    return this.sendsFrom(address, port).send(bytes, address, port);
  }

  onMessage(fn: (bytes: Uint8Array, from: DatagramPeer) => void): () => void {
    const a = this.first.onMessage(fn);
    const b = this.second.onMessage(fn);
    return () => {
      a();
      b();
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.first.close(), this.second.close()]);
  }

  address(): DatagramPeer {
    return this.first.address();
  }
}
