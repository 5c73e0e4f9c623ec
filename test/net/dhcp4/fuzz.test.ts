import { describe, expect, it } from 'vitest';
import { onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import type { DatagramPeer, DatagramPort } from '../../../src/net/datagram-port.js';
import { Dhcp4Server, type Dhcp4ServerEvent } from '../../../src/net/dhcp4/server.js';
import { Dhcp4MessageType, messageType, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, dhcp4Request, encodeDhcp4 } from '../../../src/protocol/dhcp4/packet.js';
import { SeededRandom, type Random } from '../../../src/random.js';
import { kvmIdentity } from '../../device/onie/fixtures.js';

/** An in-memory socket: the test delivers datagrams synchronously and keeps every reply. */
function memoryPort(): { port: DatagramPort; deliver(bytes: Uint8Array): void; sent: Uint8Array[] } {
  let listener: ((bytes: Uint8Array, from: DatagramPeer) => void) | undefined;
  const sent: Uint8Array[] = [];
  const self = { address: '127.0.0.1', port: 67 };
  return {
    sent,
    deliver: (bytes) => listener?.(bytes, { address: '127.0.0.1', port: 68 }),
    port: {
      send: async (bytes) => {
        sent.push(bytes);
      },
      onMessage: (fn) => {
        listener = fn;
        return () => (listener = undefined);
      },
      close: async () => undefined,
      address: () => self,
    },
  };
}

const macOf = (i: number): string => `02:${[24, 16, 8, 0].map((s) => ((i >>> s) & 0xff).toString(16).padStart(2, '0')).join(':')}:01`;

function discover(i: number): Uint8Array {
  return encodeDhcp4(dhcp4Request({ xid: i, chaddr: macOf(i), options: [messageTypeOption(Dhcp4MessageType.DISCOVER), ...onieDhcpClientOptions({ ...kvmIdentity, serial: `SN${i}` })] }));
}

/** One mutation of a valid packet: the kinds of damage a wire, a bug or an attacker does. */
function mutate(base: Uint8Array, r: Random): Uint8Array {
  const b = Uint8Array.from(base);
  switch (r.u32() % 7) {
    case 0: // bit flips anywhere
      for (let n = 1 + (r.u32() % 8); n > 0; n--) b[r.u32() % b.length]! ^= 1 << r.u32() % 8;
      return b;
    case 1: // truncation
      return b.subarray(0, r.u32() % b.length);
    case 2: // trailing garbage
      return Uint8Array.from([...b, ...Array.from({ length: 1 + (r.u32() % 64) }, () => r.u32() & 0xff)]);
    case 3: {
      // an option length that lies (the first option's length byte, after the cookie)
      b[241] = r.u32() & 0xff;
      return b;
    }
    case 4: {
      // random option soup after the cookie
      const soup = Array.from({ length: r.u32() % 300 }, () => r.u32() & 0xff);
      return Uint8Array.from([...b.subarray(0, 240), ...soup]);
    }
    case 5: // pure noise of any length
      return Uint8Array.from({ length: r.u32() % 600 }, () => r.u32() & 0xff);
    default: // the header's fixed fields scrambled (op, htype, hlen, hops)
      b[r.u32() % 4] = r.u32() & 0xff;
      return b;
  }
}

describe('Dhcp4Server under 100,000 mutated packets', () => {
  it('answers every valid DISCOVER, counts the rest, never throws, and still answers at the end', async () => {
    const mem = memoryPort();
    const events: Dhcp4ServerEvent[] = [];
    const server = new Dhcp4Server(
      {
        bind: { address: '127.0.0.1', port: 67 },
        serverId: '10.9.0.1',
        replyTo: 'source',
        pool: { start: '10.9.0.10', end: '10.9.255.250', subnetMask: '255.255.0.0', leaseSeconds: 3600 },
        options: { defaultUrl: 'http://10.9.0.1/onie-installer' },
      },
      { openPort: async () => mem.port, onEvent: (e) => events.push(e), now: () => 1_800_000_000_000 },
    );
    await server.start();
    const r = new SeededRandom('fuzz');
    const base = [discover(1), encodeDhcp4(dhcp4Request({ xid: 2, chaddr: macOf(2), options: [messageTypeOption(Dhcp4MessageType.REQUEST)] }))];
    const TOTAL = 100_000;
    const validXids: number[] = [];
    for (let i = 0; i < TOTAL; i++) {
      if (i % 10 === 0) {
        const xid = 1_000_000 + i;
        validXids.push(xid);
        mem.deliver(discover(xid));
      } else {
        mem.deliver(mutate(base[r.u32() % base.length]!, r));
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.stats.received).toBe(TOTAL);

    const offersByXid = new Set<number>();
    for (const bytes of mem.sent) {
      const d = decodeDhcp4(bytes);
      expect(d.ok).toBe(true);
      if (d.ok && messageType(d.value) === Dhcp4MessageType.OFFER) offersByXid.add(d.value.xid);
    }
    expect(validXids.filter((x) => !offersByXid.has(x))).toEqual([]);
    const dropped = Object.values(server.stats.dropped).reduce((a, b) => a + b, 0);
    // Every datagram is accounted for: answered, counted as dropped, or a message that
    // takes no answer by design (a RELEASE or DECLINE that survived mutation).
    const silent = events.filter((e) => e.type === 'dhcp.release' || e.type === 'dhcp.decline' || e.type === 'dhcp.pool-exhausted').length;
    expect(mem.sent.length + dropped + silent).toBeGreaterThanOrEqual(TOTAL);
    expect(dropped).toBeGreaterThan(TOTAL / 2);
    expect(Object.keys(server.stats.dropped)).toEqual(expect.arrayContaining(['BL_DECODE_TRUNCATED', 'BL_DECODE_MALFORMED']));

    const before = mem.sent.length;
    mem.deliver(discover(7));
    await new Promise((resolve) => setImmediate(resolve));
    expect(mem.sent.length).toBe(before + 1);
    await server.stop();
  });

  it('answers nothing when the pool is full, says so in an event, and returns at once', async () => {
    const mem = memoryPort();
    const events: Dhcp4ServerEvent[] = [];
    const server = new Dhcp4Server(
      {
        bind: { address: '127.0.0.1', port: 67 },
        serverId: '10.9.0.1',
        replyTo: 'source',
        pool: { start: '10.9.0.10', end: '10.9.0.11', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
      },
      { openPort: async () => mem.port, onEvent: (e) => events.push(e) },
    );
    await server.start();
    const started = performance.now();
    for (let i = 1; i <= 1000; i++) mem.deliver(discover(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(mem.sent).toHaveLength(2);
    expect(events.filter((e) => e.type === 'dhcp.pool-exhausted')).toHaveLength(998);
    expect(events.find((e) => e.type === 'dhcp.pool-exhausted')?.detail).toMatch(/no free address/);
    await server.stop();
  });
});
