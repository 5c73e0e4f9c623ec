import type { DatagramBind, DatagramPeer, DatagramPort, DatagramPortFactory } from '../../../src/net/datagram-port.js';

/**
 * UDP without a network, routed the way Linux delivers: a datagram to A:P reaches ports
 * bound to A:P or 0.0.0.0:P; one to 255.255.255.255:P reaches those bound to
 * 255.255.255.255:P or 0.0.0.0:P, never one bound to a unicast address. A port's sends
 * leave from its bound address (0.0.0.0 leaves from `hostAddress`). Delivery is queued as
 * a microtask, so a reply is never handled inside the send that caused it.
 */
export interface MemoryLan {
  /** A port factory for one host; every host shares the LAN. */
  host(hostAddress: string): DatagramPortFactory;
  /** Every datagram sent on the LAN, in order (bounded by the test's own traffic). */
  readonly log: Array<{ from: DatagramPeer; to: DatagramPeer; bytes: Uint8Array }>;
  /** Injects a datagram as if `from` had sent it. */
  inject(bytes: Uint8Array, from: DatagramPeer, to: DatagramPeer): void;
  /** Resolves once every queued delivery has run. */
  settle(): Promise<void>;
}

export function memoryLan(opts: { keepLog?: boolean } = {}): MemoryLan {
  const ports = new Set<{ bind: DatagramBind; self: DatagramPeer; listeners: Set<(b: Uint8Array, f: DatagramPeer) => void> }>();
  const log: MemoryLan['log'] = [];
  let ephemeral = 40_000;
  let inFlight = 0;
  const deliver = (bytes: Uint8Array, from: DatagramPeer, to: DatagramPeer): void => {
    if (opts.keepLog !== false) log.push({ from, to, bytes });
    inFlight++;
    queueMicrotask(() => {
      inFlight--;
      const broadcast = to.address === '255.255.255.255';
      for (const p of ports) {
        if (p.self.port !== to.port) continue;
        const a = p.bind.address;
        if (a === '0.0.0.0' || a === to.address || (broadcast && a === '255.255.255.255')) for (const fn of p.listeners) fn(bytes, from);
      }
    });
  };
  return {
    log,
    inject: deliver,
    async settle() {
      for (let i = 0; i < 100_000 && inFlight > 0; i++) await new Promise((r) => setImmediate(r));
    },
    host(hostAddress) {
      return async (bind: DatagramBind): Promise<DatagramPort> => {
        const self = { address: bind.address, port: bind.port === 0 ? ephemeral++ : bind.port };
        for (const p of ports) {
          if (p.self.port === self.port && p.bind.address === bind.address) throw Object.assign(new Error(`bind ${bind.address}:${self.port}: in use`), { code: 'EADDRINUSE' });
        }
        const entry = { bind, self, listeners: new Set<(b: Uint8Array, f: DatagramPeer) => void>() };
        ports.add(entry);
        const source = { address: bind.address === '0.0.0.0' ? hostAddress : bind.address, port: self.port };
        return {
          send: async (bytes, address, port) => deliver(new Uint8Array(bytes), source, { address, port }),
          onMessage: (fn) => {
            entry.listeners.add(fn);
            return () => entry.listeners.delete(fn);
          },
          close: async () => {
            ports.delete(entry);
          },
          address: () => self,
        };
      };
    },
  };
}
