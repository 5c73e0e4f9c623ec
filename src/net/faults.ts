import type { Clock } from '../clock.js';
import type { Random } from '../random.js';
import type { DatagramPeer, DatagramPort } from './datagram-port.js';

/**
 * Network faults as wrappers around a DatagramPort: servers and clients never know they
 * are there. Each draws from a seeded random source, so a faulty run replays exactly.
 * `direction` says which datagrams are affected: those sent, those received, or both.
 */
export type Direction = 'send' | 'receive' | 'both';
type Listener = (bytes: Uint8Array, from: DatagramPeer) => void;

/** Builds a wrapper from two hooks that decide what happens to each datagram. */
function wrap(
  port: DatagramPort,
  direction: Direction,
  onSend: (deliver: () => Promise<void>) => Promise<void>,
  onReceive: (deliver: () => void) => void,
): DatagramPort {
  const sends = direction !== 'receive';
  const receives = direction !== 'send';
  return {
    send: (bytes, address, portNo) => (sends ? onSend(() => port.send(bytes, address, portNo)) : port.send(bytes, address, portNo)),
    onMessage: (fn: Listener) => port.onMessage((bytes, from) => (receives ? onReceive(() => fn(bytes, from)) : fn(bytes, from))),
    close: () => port.close(),
    address: () => port.address(),
  };
}

/** Drops each datagram with probability `rate`. */
export function withLoss(port: DatagramPort, o: { rate: number; random: Random; direction?: Direction }): DatagramPort {
  checkRate(o.rate);
  const lost = (): boolean => o.random.float() < o.rate;
  return wrap(
    port,
    o.direction ?? 'both',
    async (deliver) => (lost() ? undefined : deliver()),
    (deliver) => (lost() ? undefined : deliver()),
  );
}

/** Delivers each datagram twice with probability `rate`. */
export function withDuplication(port: DatagramPort, o: { rate: number; random: Random; direction?: Direction }): DatagramPort {
  checkRate(o.rate);
  return wrap(
    port,
    o.direction ?? 'both',
    async (deliver) => {
      await deliver();
      if (o.random.float() < o.rate) await deliver();
    },
    (deliver) => {
      deliver();
      if (o.random.float() < o.rate) deliver();
    },
  );
}

/** Holds each datagram back `ms` (plus up to `jitterMs`) on the given clock; jitter reorders. */
export function withDelay(port: DatagramPort, o: { ms: number; jitterMs?: number; clock: Clock; random: Random; direction?: Direction }): DatagramPort {
  const wait = (): number => o.ms + (o.jitterMs ? o.random.float() * o.jitterMs : 0);
  return wrap(
    port,
    o.direction ?? 'both',
    (deliver) => new Promise<void>((resolve) => void o.clock.setTimeout(() => void deliver().then(resolve, resolve), wait())),
    (deliver) => void o.clock.setTimeout(deliver, wait()),
  );
}

function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`a fault rate is between 0 and 1, got ${rate}`);
}
