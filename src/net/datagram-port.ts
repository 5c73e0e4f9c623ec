import { createSocket, type Socket } from 'node:dgram';

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
}

export type DatagramPortFactory = (bind: DatagramBind) => Promise<DatagramPort>;

export function bindUdp(o: DatagramBind): Promise<DatagramPort> {
  const socket = createSocket({
    type: 'udp4',
    reuseAddr: false,
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
      resolve(new UdpPort(socket));
    });
  });
}

class UdpPort implements DatagramPort {
  private readonly listeners = new Set<(bytes: Uint8Array, from: DatagramPeer) => void>();
  private closed: Promise<void> | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      const from = { address: rinfo.address, port: rinfo.port };
      for (const fn of this.listeners) fn(msg, from);
    });
    // A send to an unreachable peer can surface here; it must not crash the process.
    socket.on('error', () => undefined);
  }

  send(bytes: Uint8Array, address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.socket.send(bytes, port, address, (e) => (e ? reject(e) : resolve()));
      } catch (e) {
        // dgram throws synchronously once the socket is closed.
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
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
