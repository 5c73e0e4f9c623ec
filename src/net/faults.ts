import type { Clock } from '../clock.js';
import type { Random } from '../random.js';
import type { DatagramPeer, DatagramPort, DatagramPortFactory } from './datagram-port.js';

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

/** Faults for every socket of one server, as scenario and config files describe them. */
export interface FaultPlan {
  /** Probability that a datagram is dropped. */
  loss?: number;
  /** Probability that a datagram is delivered twice. */
  duplicate?: number;
  /** Hold-back of each datagram, plus up to `jitterMs` more (which reorders). */
  delayMs?: number;
  jitterMs?: number;
  direction?: Direction;
}

/**
 * A port factory that wraps every port it opens in the plan's faults. Each port draws
 * from its own fork of `random`, keyed by the order ports are opened (not by their OS
 * port numbers, which differ between runs), so one seed replays the same faults.
 */
export function faultyPorts(open: DatagramPortFactory, plan: FaultPlan, random: Random, clock: Clock): DatagramPortFactory {
  let opened = 0;
  return async (bind) => {
    const r = random.fork(`port-${opened++}`);
    const direction = plan.direction ?? 'both';
    let port = await open(bind);
    if (plan.delayMs || plan.jitterMs) port = withDelay(port, { ms: plan.delayMs ?? 0, jitterMs: plan.jitterMs ?? 0, clock, random: r.fork('delay'), direction });
    if (plan.duplicate) port = withDuplication(port, { rate: plan.duplicate, random: r.fork('duplicate'), direction });
    if (plan.loss) port = withLoss(port, { rate: plan.loss, random: r.fork('loss'), direction });
    return port;
  };
}

/** One line for logs: "loss 30 %, duplicate 1 %, delay 5 ms ± 3 ms". */
export function describeFaults(plan: FaultPlan): string {
  const parts = [
    plan.loss ? `loss ${+(plan.loss * 100).toFixed(2)} %` : '',
    plan.duplicate ? `duplicate ${+(plan.duplicate * 100).toFixed(2)} %` : '',
    plan.delayMs || plan.jitterMs ? `delay ${plan.delayMs ?? 0} ms${plan.jitterMs ? ` + up to ${plan.jitterMs} ms` : ''}` : '',
  ].filter(Boolean);
  return parts.length ? `${parts.join(', ')}${plan.direction && plan.direction !== 'both' ? ` (${plan.direction} only)` : ''}` : 'none';
}

/** A service's power switch for outage windows: while `down`, its sockets hear and say nothing. */
export class OutageSwitch {
  down = false;
  /** Datagrams lost to the outages so far (both directions). */
  dropped = 0;

  /** Wraps a port factory: every port it opens goes silent while the switch is down. */
  ports(open: DatagramPortFactory): DatagramPortFactory {
    return async (bind) => {
      const port = await open(bind);
      const silent = (): boolean => this.down && ++this.dropped > 0;
      return wrap(
        port,
        'both',
        async (deliver) => (silent() ? undefined : deliver()),
        (deliver) => (silent() ? undefined : deliver()),
      );
    };
  }
}
