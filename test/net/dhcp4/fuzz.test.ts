import { describe, expect, it } from 'vitest';
import { onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import type { DatagramPeer, DatagramPort } from '../../../src/net/datagram-port.js';
import { Dhcp4Server, type Dhcp4ServerEvent } from '../../../src/net/dhcp4/server.js';
import { Dhcp4MessageType, ipOption, messageType, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, dhcp4Request, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
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
const SERVER_ID = '10.9.0.1';

function discover(i: number): Uint8Array {
  return encodeDhcp4(dhcp4Request({ xid: i, chaddr: macOf(i), options: [messageTypeOption(Dhcp4MessageType.DISCOVER), ...onieDhcpClientOptions({ ...kvmIdentity, serial: `SN${i}` })] }));
}

/** The REQUEST that selects `address` from this server's OFFER (RFC 2131 SELECTING). */
function request(i: number, address: string): Uint8Array {
  return encodeDhcp4(
    dhcp4Request({
      xid: i,
      chaddr: macOf(i),
      options: [messageTypeOption(Dhcp4MessageType.REQUEST), ...onieDhcpClientOptions({ ...kvmIdentity, serial: `SN${i}` }), ipOption(50, address), ipOption(54, SERVER_ID)],
    }),
  );
}

/** Seeds for mutation: every message type a client sends, plain and relayed. */
function seeds(): Uint8Array[] {
  const mac = macOf(2);
  const of = (type: Dhcp4MessageType, extra: Dhcp4OptionEntry[] = [], header: Partial<Dhcp4Packet> = {}): Uint8Array =>
    encodeDhcp4(dhcp4Request({ xid: 2, chaddr: mac, options: [messageTypeOption(type), ...extra], ...header }));
  return [
    discover(1),
    request(2, '10.9.0.20'),
    of(Dhcp4MessageType.RELEASE, [ipOption(54, SERVER_ID)], { ciaddr: '10.9.0.20' }),
    of(Dhcp4MessageType.DECLINE, [ipOption(50, '10.9.0.21'), ipOption(54, SERVER_ID)]),
    of(Dhcp4MessageType.INFORM, [], { ciaddr: '10.9.0.22' }),
    of(Dhcp4MessageType.DISCOVER, [{ code: 82, data: Uint8Array.of(1, 3, 0x61, 0x62, 0x63) }], { giaddr: '10.9.1.1', hops: 1 }),
  ];
}

/** Offsets of the options' length bytes, walking the TLVs after the magic cookie. */
function lengthOffsets(b: Uint8Array): number[] {
  const at: number[] = [];
  for (let pos = 240; pos + 1 < b.length && b[pos] !== 255; ) {
    if (b[pos] === 0) {
      pos++;
      continue;
    }
    at.push(pos + 1);
    pos += 2 + b[pos + 1]!;
  }
  return at;
}

/** Options the decoder and the policy read closely: overload, type, 55, client id, 82, 125, 43, 93, 175. */
const INTERESTING = [52, 53, 55, 61, 82, 125, 43, 93, 175, 50, 54, 60, 77, 124];

/** One mutation of a valid packet: the kinds of damage a wire, a bug or an attacker does. */
function mutate(base: Uint8Array, r: Random): Uint8Array {
  const b = Uint8Array.from(base);
  const byte = (): number => r.u32() & 0xff;
  switch (r.u32() % 8) {
    case 0: // bit flips anywhere
      for (let n = 1 + (r.u32() % 8); n > 0; n--) b[r.u32() % b.length]! ^= 1 << r.u32() % 8;
      return b;
    case 1: // truncation
      return b.subarray(0, r.u32() % b.length);
    case 2: // extension: trailing garbage after the END option
      return Uint8Array.from([...b, ...Array.from({ length: 1 + (r.u32() % 64) }, byte)]);
    case 3: {
      // an option whose length byte lies (too short, too long, past the end)
      const at = lengthOffsets(b);
      b[at.length > 0 ? at[r.u32() % at.length]! : 241] = byte();
      return b;
    }
    case 4: {
      // option soup after the cookie: TLVs with codes the server cares about, honest or not
      const soup: number[] = [];
      for (let n = r.u32() % 24; n > 0; n--) {
        const code = r.u32() % 2 === 0 ? INTERESTING[r.u32() % INTERESTING.length]! : byte();
        const len = r.u32() % 4 === 0 ? byte() : r.u32() % 12;
        soup.push(code, len, ...Array.from({ length: r.u32() % 4 === 0 ? r.u32() % 16 : len }, byte));
      }
      if (r.u32() % 2 === 0) soup.push(255);
      return Uint8Array.from([...b.subarray(0, 240), ...soup]);
    }
    case 5: // pure noise of any length
      return Uint8Array.from({ length: r.u32() % 600 }, byte);
    case 6: {
      // the magic cookie or the end marker damaged
      const end = b.lastIndexOf(255);
      b[r.u32() % 2 === 0 || end < 240 ? 236 + (r.u32() % 4) : end] = byte();
      return b;
    }
    default: // the header's fixed fields scrambled (op, htype, hlen, hops)
      b[r.u32() % 4] = byte();
      return b;
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Dhcp4Server under 100,000 mutated packets', () => {
  it('answers every valid DISCOVER and REQUEST, accounts for every other packet, never throws, and still answers at the end', async () => {
    const mem = memoryPort();
    const events: Dhcp4ServerEvent[] = [];
    const server = new Dhcp4Server(
      {
        bind: { address: '127.0.0.1', port: 67 },
        serverId: SERVER_ID,
        replyTo: 'source',
        pool: { start: '10.9.0.10', end: '10.9.255.250', subnetMask: '255.255.0.0', leaseSeconds: 3600 },
        options: { defaultUrl: 'http://10.9.0.1/onie-installer' },
      },
      { openPort: async () => mem.port, onEvent: (e) => events.push(e), now: () => 1_800_000_000_000 },
    );
    await server.start();
    const r = new SeededRandom('fuzz');
    const base = seeds();
    const TOTAL = 100_000;
    const unanswered: string[] = [];
    // The in-memory port records a reply synchronously, so the last one sent is this packet's answer.
    const answerTo = (bytes: Uint8Array): Dhcp4Packet | undefined => {
      const before = mem.sent.length;
      mem.deliver(bytes);
      if (mem.sent.length !== before + 1) return undefined;
      const d = decodeDhcp4(mem.sent[before]!);
      return d.ok ? d.value : undefined;
    };
    let valid = 0;
    for (let i = 0; i < TOTAL; ) {
      if (i % 20 === 0) {
        // A whole valid exchange, interleaved with the garbage.
        const xid = 1_000_000 + i;
        const offer = answerTo(discover(xid));
        if (offer === undefined || messageType(offer) !== Dhcp4MessageType.OFFER) {
          unanswered.push(`DISCOVER ${xid}`);
          i += 1;
          valid += 1;
          continue;
        }
        const ack = answerTo(request(xid, offer.yiaddr));
        if (ack === undefined || messageType(ack) !== Dhcp4MessageType.ACK || ack.yiaddr !== offer.yiaddr) unanswered.push(`REQUEST ${xid}`);
        i += 2;
        valid += 2;
      } else {
        mem.deliver(mutate(base[r.u32() % base.length]!, r));
        i += 1;
      }
    }
    await tick();
    expect(unanswered).toEqual([]);
    expect(valid).toBeGreaterThanOrEqual(TOTAL / 10);
    expect(server.stats.received).toBe(TOTAL);

    // Everything the server sent is a well-formed reply.
    for (const bytes of mem.sent) expect(decodeDhcp4(bytes).ok).toBe(true);
    const { offers, acks, naks } = server.stats;
    expect(mem.sent.length).toBe(offers + acks + naks);
    const dropped = Object.values(server.stats.dropped).reduce((a, b) => a + b, 0);
    // Every datagram is accounted for exactly once: answered, counted as dropped, or a
    // message that takes no answer by design (a RELEASE or DECLINE that survived
    // mutation, or a DISCOVER when no address is free).
    const silent = events.filter((e) => e.type === 'dhcp.release' || e.type === 'dhcp.decline' || e.type === 'dhcp.pool-exhausted').length;
    expect(mem.sent.length + dropped + silent).toBe(TOTAL);
    expect(dropped).toBeGreaterThan(TOTAL / 2);
    expect(server.stats.dropped['internal']).toBeUndefined();
    expect(Object.keys(server.stats.dropped)).toEqual(expect.arrayContaining(['BL_DECODE_TRUNCATED', 'BL_DECODE_MALFORMED']));

    const offer = answerTo(discover(7));
    expect(offer && messageType(offer)).toBe(Dhcp4MessageType.OFFER);
    await server.stop();
  });

  it('answers nothing when the pool is full, says so in an event, and returns at once', async () => {
    const mem = memoryPort();
    const events: Dhcp4ServerEvent[] = [];
    const server = new Dhcp4Server(
      {
        bind: { address: '127.0.0.1', port: 67 },
        serverId: SERVER_ID,
        replyTo: 'source',
        pool: { start: '10.9.0.10', end: '10.9.0.11', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
      },
      { openPort: async () => mem.port, onEvent: (e) => events.push(e) },
    );
    await server.start();
    const started = performance.now();
    for (let i = 1; i <= 1000; i++) mem.deliver(discover(i));
    await tick();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(mem.sent).toHaveLength(2);
    expect(events.filter((e) => e.type === 'dhcp.pool-exhausted')).toHaveLength(998);
    expect(events.find((e) => e.type === 'dhcp.pool-exhausted')?.detail).toMatch(/no free address/);
    await server.stop();
  });
});
