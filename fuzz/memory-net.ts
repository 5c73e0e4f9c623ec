import type { DatagramBind, DatagramPeer, DatagramPort } from '../src/net/datagram-port.js';

export interface MemoryPort extends DatagramPort {
  readonly bind: DatagramBind;
  /** Delivers a datagram to the listener, as the network would. */
  deliver(bytes: Uint8Array, from: DatagramPeer): void;
  /** Every datagram sent, in order. */
  readonly sent: Array<{ bytes: Uint8Array; to: DatagramPeer }>;
}

/**
 * Sockets without a network: servers take a port factory (their fault-wrapper seam), so
 * a target hands them these and drives the receive path synchronously, at memory speed.
 * `onSend` lets a target play the peer (answer a transfer's DATA with an ERROR, say).
 */
export function memoryNet(onSend?: (port: MemoryPort, bytes: Uint8Array, to: DatagramPeer) => void) {
  const ports: MemoryPort[] = [];
  let ephemeral = 40_000;
  const open = async (bind: DatagramBind): Promise<DatagramPort> => {
    const listeners = new Set<(b: Uint8Array, f: DatagramPeer) => void>();
    const self = { address: bind.address, port: bind.port === 0 ? ephemeral++ : bind.port };
    const port: MemoryPort = {
      bind,
      sent: [],
      deliver: (bytes, from) => {
        for (const fn of listeners) fn(bytes, from);
      },
      send: async (bytes, address, p) => {
        port.sent.push({ bytes, to: { address, port: p } });
        onSend?.(port, bytes, { address, port: p });
      },
      onMessage: (fn) => {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
      close: async () => {
        listeners.clear();
        const i = ports.indexOf(port);
        if (i >= 0) ports.splice(i, 1);
      },
      address: () => self,
    };
    ports.push(port);
    return port;
  };
  return { open, ports };
}
