import { SimulatedClock } from 'xstate';
import type { Clock } from '../../../src/clock.js';
import { bindUdp, type DatagramPeer, type DatagramPort } from '../../../src/net/datagram-port.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';

/**
 * A simulated clock that jumps forward as soon as someone waits on it, for tests where
 * nobody answers: time passes exactly as the code under test schedules it, instantly.
 * setImmediate lets datagrams already in flight arrive first.
 */
export function impatientClock(): Clock & { now(): number } {
  const sim = new SimulatedClock();
  return {
    now: () => sim.now(),
    setTimeout(fn, ms) {
      const id = sim.setTimeout(fn, ms);
      setImmediate(() => sim.increment(ms));
      return id;
    },
    clearTimeout(id) {
      sim.clearTimeout(id as number);
    },
  };
}

/** A raw loopback socket that keeps every DHCP message it receives. */
export async function rawPeer(): Promise<{
  port: DatagramPort;
  received: Array<{ packet: Dhcp4Packet; from: DatagramPeer }>;
  next(): Promise<{ packet: Dhcp4Packet; from: DatagramPeer }>;
}> {
  const port = await bindUdp({ address: '127.0.0.1', port: 0 });
  const received: Array<{ packet: Dhcp4Packet; from: DatagramPeer }> = [];
  const waiting: Array<(m: { packet: Dhcp4Packet; from: DatagramPeer }) => void> = [];
  port.onMessage((bytes, from) => {
    const r = decodeDhcp4(bytes);
    if (!r.ok) return;
    const m = { packet: r.value, from };
    received.push(m);
    waiting.shift()?.(m);
  });
  let read = 0;
  return {
    port,
    received,
    next: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no DHCP message within 5 s')), 5000);
        const take = (m: { packet: Dhcp4Packet; from: DatagramPeer }): void => {
          clearTimeout(timer);
          read++;
          resolve(m);
        };
        if (received.length > read) take(received[read]!);
        else waiting.push(take);
      }),
  };
}

/** Resolves on the first event that fits (bounded: rejects after 5 s of real time). */
export function waitForEvent<E extends { type: string }>(subscribe: (fn: (e: E) => void) => void, fits: (e: E) => boolean): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('event did not come within 5 s')), 5000);
    subscribe((e) => {
      if (fits(e)) {
        clearTimeout(timer);
        resolve(e);
      }
    });
  });
}

/** A simulated clock the test advances, which also says how many timers are pending. */
export function manualClock(): Clock & { now(): number; pending(): number; increment(ms: number): void } {
  const sim = new SimulatedClock();
  const live = new Set<number>();
  return {
    now: () => sim.now(),
    pending: () => live.size,
    increment: (ms) => sim.increment(ms),
    setTimeout(fn, ms) {
      const id: number = sim.setTimeout((...args: unknown[]) => {
        live.delete(id);
        fn(...args);
      }, ms);
      live.add(id);
      return id;
    },
    clearTimeout(id) {
      live.delete(id as number);
      sim.clearTimeout(id as number);
    },
  };
}

/** Polls `cond` every 2 ms of real time, at most 1000 times. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`gave up waiting for ${what}`);
}
