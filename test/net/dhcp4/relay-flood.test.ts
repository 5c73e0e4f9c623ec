import { describe, expect, it } from 'vitest';
import { acquireLease } from '../../../src/net/dhcp4/client.js';
import { Dhcp4RelayAgent } from '../../../src/net/dhcp4/relay-agent.js';
import { Dhcp4Server } from '../../../src/net/dhcp4/server.js';
import { Dhcp4MessageType, getOption, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { dhcp4Reply, dhcp4Request, encodeDhcp4 } from '../../../src/protocol/dhcp4/packet.js';
import { SeededRandom } from '../../../src/random.js';
import { manualClock } from './helpers.js';
import { memoryLan } from './memory-lan.js';

const RELAY = '10.1.0.1';
const SERVER = '10.2.0.1';
const FLOOD = 20_000;
const BATCH = 1_000;

const mac = (i: number): string => `02:${[i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff, 0x77].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

describe('Dhcp4RelayAgent under a flood', () => {
  it(`relays a legitimate DORA while ${FLOOD} garbage datagrams and DISCOVERs from as many MACs arrive`, async () => {
    const lan = memoryLan({ keepLog: false });
    const clock = manualClock();
    const server = new Dhcp4Server(
      {
        bind: { address: SERVER, port: 67 },
        serverId: SERVER,
        replyTo: 'broadcast',
        pool: { start: '10.2.0.100', end: '10.2.0.200', subnetMask: '255.255.255.0', leaseSeconds: 600 },
        subnets: [{ subnet: '10.1.0.0/16', pool: { start: '10.1.1.1', end: '10.1.200.254' } }],
      },
      { openPort: lan.host(SERVER), now: () => clock.now() },
    );
    await server.start();
    let relayEvents = 0;
    const relay = new Dhcp4RelayAgent(
      { listen: { address: RELAY, port: 67 }, servers: [{ address: SERVER, port: 67 }], agentIds: { circuitId: 'rack1/leaf1/swp1', remoteId: 'leaf1' } },
      { openPort: lan.host(RELAY), onEvent: () => relayEvents++ },
    );
    await relay.start();
    try {
      // The client waits on the simulated clock, which never moves: it cannot time out, so
      // the lease comes from the relay's forwarding alone, whatever the machine's load.
      const leased = acquireLease({
        server: { address: '255.255.255.255', port: 67 },
        bind: { address: '0.0.0.0', port: 68 },
        mac: '52:54:00:aa:bb:cc',
        options: [],
        attempts: 1,
        retryMs: 60_000,
        clock,
        random: new SeededRandom(7),
        openPort: lan.host('0.0.0.0'),
      });
      const random = new SeededRandom(16);
      const attacker = { address: '0.0.0.0', port: 68 };
      const toRelay = { address: '255.255.255.255', port: 67 };
      const agent = { code: 82, data: Uint8Array.of(1, 3, 0x61, 0x62, 0x63) };
      let garbage = 0;
      for (let start = 0; start < FLOOD; start += BATCH) {
        for (let i = start; i < start + BATCH; i++) {
          if (i % 2 === 0) {
            lan.inject(encodeDhcp4(dhcp4Request({ xid: i, chaddr: mac(i), options: [messageTypeOption(Dhcp4MessageType.DISCOVER)] })), attacker, toRelay);
            continue;
          }
          garbage++;
          const kind = (i >>> 1) % 5;
          let bytes: Uint8Array;
          if (kind === 0) {
            // Shorter than the BOOTP header: never a message.
            bytes = Uint8Array.from({ length: random.u32() % 236 }, () => random.u32() & 0xff);
          } else if (kind === 1) {
            bytes = encodeDhcp4(dhcp4Request({ xid: i, chaddr: mac(i), options: [messageTypeOption(Dhcp4MessageType.DISCOVER)] }));
            bytes[236] = 0;
          } else if (kind === 2) {
            // A rogue BOOTREPLY on the clients' segment, for some other relay.
            bytes = encodeDhcp4({ ...dhcp4Reply(dhcp4Request({ xid: i, chaddr: mac(i), options: [] })), giaddr: '10.1.0.2', options: [messageTypeOption(Dhcp4MessageType.OFFER)] });
          } else if (kind === 3) {
            bytes = encodeDhcp4(dhcp4Request({ xid: i, chaddr: mac(i), options: [messageTypeOption(Dhcp4MessageType.DISCOVER), agent] }));
          } else {
            bytes = encodeDhcp4(dhcp4Request({ xid: i, chaddr: mac(i), hops: 16, giaddr: '10.9.0.1', options: [messageTypeOption(Dhcp4MessageType.DISCOVER)] }));
          }
          lan.inject(bytes, attacker, toRelay);
        }
        await lan.settle();
      }
      const lease = await leased;
      expect(lease.address).toMatch(/^10\.1\.\d+\.\d+$/);
      // The client never sees option 82, although the server echoed it to the relay.
      expect(getOption(lease.ack, 82)).toBeUndefined();
      const s = relay.stats;
      expect(s.received).toBeGreaterThanOrEqual(FLOOD + 2);
      const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      expect(dropped).toBe(garbage);
      expect(s.dropped['foreign-giaddr']).toBe(garbage / 5);
      expect(s.dropped['untrusted-option82']).toBe(garbage / 5);
      expect(s.dropped['max-hops']).toBe(garbage / 5);
      expect((s.dropped['BL_DECODE_TRUNCATED'] ?? 0) + (s.dropped['BL_DECODE_MALFORMED'] ?? 0)).toBe((2 * garbage) / 5);
      // Every flood DISCOVER and the client's DISCOVER and REQUEST went up; their answers came down.
      expect(s.relayedUp).toBe(FLOOD / 2 + 2);
      expect(s.relayedDown).toBe(server.stats.offers + server.stats.acks + server.stats.naks);
      expect(server.stats.acks).toBe(1);
      // One event per datagram handled: relayed or dropped, none left unexplained.
      expect(relayEvents).toBe(s.relayedUp + s.relayedDown + dropped);
    } finally {
      await relay.stop();
      await server.stop();
    }
  });
});
