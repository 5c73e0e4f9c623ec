import { afterEach, describe, expect, it } from 'vitest';
import { Dhcp4RelayAgent, type Dhcp4RelayConfig, type Dhcp4RelayDeps, type Dhcp4RelayEvent } from '../../../src/net/dhcp4/relay-agent.js';
import { Dhcp4MessageType, getOption, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, dhcp4Reply, dhcp4Request, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { decodeRelayAgentInfo, encodeRelayAgentInfo, relayAgentInfo } from '../../../src/protocol/dhcp4/relay-agent-info.js';
import { memoryLan, type MemoryLan } from './memory-lan.js';

const RELAY = '10.1.0.1';
const SERVER_A = { address: '10.2.0.10', port: 67 };
const SERVER_B = { address: '10.2.0.11', port: 67 };
const CLIENT = { address: '0.0.0.0', port: 68 };
const MAC = '02:00:00:00:00:01';

let relay: Dhcp4RelayAgent | undefined;
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
});

async function setup(over: Partial<Dhcp4RelayConfig> = {}, deps: Dhcp4RelayDeps = {}) {
  const lan = memoryLan();
  const events: Dhcp4RelayEvent[] = [];
  const agent = new Dhcp4RelayAgent(
    { listen: { address: RELAY, port: 67 }, servers: [SERVER_A, SERVER_B], agentIds: { circuitId: 'sw1/eth7', remoteId: 'sw1' }, ...over },
    { openPort: lan.host(RELAY), onEvent: (e) => events.push(e), ...deps },
  );
  relay = agent;
  await agent.start();
  return { lan, events, relay: agent };
}

const discover = (over: Partial<Dhcp4Packet> = {}, extra: Dhcp4OptionEntry[] = []): Dhcp4Packet =>
  dhcp4Request({ xid: 0x1234, chaddr: MAC, options: [messageTypeOption(Dhcp4MessageType.DISCOVER), ...extra], ...over });

const offer = (req: Dhcp4Packet, over: Partial<Dhcp4Packet> = {}, extra: Dhcp4OptionEntry[] = []): Dhcp4Packet => ({
  ...dhcp4Reply({ ...req, giaddr: RELAY }),
  yiaddr: '10.1.0.50',
  options: [messageTypeOption(Dhcp4MessageType.OFFER), { code: 54, data: Uint8Array.of(10, 2, 0, 10) }, ...extra],
  ...over,
});

/** What the LAN carried to `to`, decoded. */
function sentTo(lan: MemoryLan, to: { address: string; port: number }): Dhcp4Packet[] {
  return lan.log.filter((m) => m.to.address === to.address && m.to.port === to.port).map((m) => {
    const r = decodeDhcp4(m.bytes);
    if (!r.ok) throw r.error;
    return r.value;
  });
}

async function clientSends(lan: MemoryLan, p: Dhcp4Packet | Uint8Array, to = { address: '255.255.255.255', port: 67 }): Promise<void> {
  lan.inject(p instanceof Uint8Array ? p : encodeDhcp4(p), CLIENT, to);
  await lan.settle();
}

async function serverSends(lan: MemoryLan, p: Dhcp4Packet, from = SERVER_A): Promise<void> {
  lan.inject(encodeDhcp4(p), from, { address: RELAY, port: 67 });
  await lan.settle();
}

describe('Dhcp4RelayAgent, client to server', () => {
  it('hears a broadcast DISCOVER and forwards it to every server with giaddr, one more hop and option 82 last', async () => {
    const { lan, relay } = await setup();
    await clientSends(lan, discover({}, [{ code: 61, data: Uint8Array.of(1, 2, 0, 0, 0, 0, 1) }]));
    for (const server of [SERVER_A, SERVER_B]) {
      const [up] = sentTo(lan, server);
      expect(up!.giaddr).toBe(RELAY);
      expect(up!.hops).toBe(1);
      expect(up!.xid).toBe(0x1234);
      expect(up!.options.map((o) => o.code)).toEqual([53, 61, 82]);
      const info = decodeRelayAgentInfo(getOption(up!, 82)!);
      expect(info.ok && info.value).toEqual(relayAgentInfo({ circuitId: 'sw1/eth7', remoteId: 'sw1' }));
    }
    expect(relay.stats).toEqual({ received: 1, relayedUp: 1, relayedDown: 0, dropped: {}, option82Omitted: 0 });
  });

  it('takes the ids from the resolver, given the request and its sender', async () => {
    const seen: string[] = [];
    const { lan } = await setup({}, {
      resolveIds: (req, from) => {
        seen.push(`${req.chaddr} ${from.address}:${from.port}`);
        return req.chaddr === MAC ? { circuitId: 'rack2/leaf1/swp3', remoteId: 'leaf1' } : undefined;
      },
    });
    await clientSends(lan, discover());
    await clientSends(lan, discover({ chaddr: '02:00:00:00:00:02' }));
    const [mine, other] = sentTo(lan, SERVER_A);
    expect(decodeRelayAgentInfo(getOption(mine!, 82)!)).toEqual({ ok: true, value: relayAgentInfo({ circuitId: 'rack2/leaf1/swp3', remoteId: 'leaf1' }) });
    // Undefined from the resolver: the configured defaults.
    expect(decodeRelayAgentInfo(getOption(other!, 82)!)).toEqual({ ok: true, value: relayAgentInfo({ circuitId: 'sw1/eth7', remoteId: 'sw1' }) });
    expect(seen).toEqual([`${MAC} 0.0.0.0:68`, '02:00:00:00:00:02 0.0.0.0:68']);
  });

  it('counts a resolver that throws or gives ids too long for option 82, and relays nothing for it', async () => {
    let n = 0;
    const { lan, relay, events } = await setup({}, {
      resolveIds: () => {
        if (n++ === 0) throw new Error('rack plan has no position for this MAC');
        return { circuitId: 'x'.repeat(300), remoteId: 'r' };
      },
    });
    await clientSends(lan, discover());
    await clientSends(lan, discover());
    expect(sentTo(lan, SERVER_A)).toEqual([]);
    expect(relay.stats.dropped).toEqual({ 'agent-ids-failed': 2 });
    expect(events.map((e) => e.detail)).toEqual([
      `agent-ids-failed: DISCOVER ${MAC} from 0.0.0.0:68: rack plan has no position for this MAC`,
      expect.stringMatching(/^agent-ids-failed: DISCOVER .*: dhcp4\.relay-agent-info: cannot encode sub-option 1 \(circuit-id\): 300 bytes/),
    ]);
  });

  it('keeps a downstream relay\'s giaddr and option 82, adding one hop and no second option 82', async () => {
    const { lan } = await setup();
    const theirs = { code: 82, data: encodeRelayAgentInfo(relayAgentInfo({ circuitId: 'edge', remoteId: 'e1' })) };
    await clientSends(lan, discover({ giaddr: '10.9.0.1', hops: 2 }, [theirs]), { address: RELAY, port: 67 });
    const [up] = sentTo(lan, SERVER_A);
    expect(up!.giaddr).toBe('10.9.0.1');
    expect(up!.hops).toBe(3);
    expect(up!.options.filter((o) => o.code === 82)).toEqual([theirs]);
  });

  it('adds option 82 to a relayed request that has none (RFC 3046 §2.1.1)', async () => {
    const { lan } = await setup();
    await clientSends(lan, discover({ giaddr: '10.9.0.1', hops: 1 }), { address: RELAY, port: 67 });
    const [up] = sentTo(lan, SERVER_A);
    expect(up!.giaddr).toBe('10.9.0.1');
    expect(up!.options.at(-1)!.code).toBe(82);
  });

  it('drops a request that reached --max-hops (default 4) and forwards one below it', async () => {
    const { lan, relay, events } = await setup();
    await clientSends(lan, discover({ giaddr: '10.9.0.1', hops: 4 }), { address: RELAY, port: 67 });
    await clientSends(lan, discover({ giaddr: '10.9.0.1', hops: 3 }), { address: RELAY, port: 67 });
    expect(sentTo(lan, SERVER_A).map((p) => p.hops)).toEqual([4]);
    expect(relay.stats.dropped).toEqual({ 'max-hops': 1 });
    expect(events[0]!.detail).toBe(`max-hops: DISCOVER ${MAC} from 0.0.0.0:68: hops 4, the limit is 4`);
  });

  it('honours a configured max hops', async () => {
    const { lan, relay } = await setup({ maxHops: 1 });
    await clientSends(lan, discover({ giaddr: '10.9.0.1', hops: 1 }), { address: RELAY, port: 67 });
    await clientSends(lan, discover());
    expect(sentTo(lan, SERVER_A).map((p) => p.hops)).toEqual([1]);
    expect(relay.stats.dropped).toEqual({ 'max-hops': 1 });
  });

  it('drops a first-hop request that already carries option 82 (untrusted circuit) unless told to trust it', async () => {
    const switchAdded = { code: 82, data: encodeRelayAgentInfo(relayAgentInfo({ circuitId: 'spoofed', remoteId: 'x' })) };
    const untrusted = await setup();
    await clientSends(untrusted.lan, discover({}, [switchAdded]));
    expect(sentTo(untrusted.lan, SERVER_A)).toEqual([]);
    expect(untrusted.relay.stats.dropped).toEqual({ 'untrusted-option82': 1 });
    expect(untrusted.events[0]!.detail).toMatch(/^untrusted-option82: DISCOVER 02:00:00:00:00:01 from 0\.0\.0\.0:68: option 82 present with giaddr 0/);
    await relay!.stop();

    const trusted = await setup({ trustOption82: true });
    await clientSends(trusted.lan, discover({}, [switchAdded]));
    const [up] = sentTo(trusted.lan, SERVER_A);
    expect(up!.giaddr).toBe(RELAY);
    expect(up!.options.filter((o) => o.code === 82)).toEqual([switchAdded]);
  });

  it('drops a request carrying its own giaddr (a loop)', async () => {
    const { lan, relay } = await setup();
    await clientSends(lan, discover({ giaddr: RELAY, hops: 1 }), { address: RELAY, port: 67 });
    expect(sentTo(lan, SERVER_A)).toEqual([]);
    expect(relay.stats.dropped).toEqual({ 'relay-loop': 1 });
  });

  it('sends a request without option 82 when adding it would not fit one Ethernet frame, and counts that', async () => {
    const { lan, relay } = await setup();
    // 1460 bytes without option 82 (240 + 3 + 4 × 249 + 220 + END), 1477 with it: over 1472.
    const big = [...Array.from({ length: 4 }, (_, i) => ({ code: 200 + i, data: new Uint8Array(247) })), { code: 210, data: new Uint8Array(218) }];
    await clientSends(lan, discover({}, big));
    const [up] = sentTo(lan, SERVER_A);
    expect(getOption(up!, 82)).toBeUndefined();
    expect(up!.giaddr).toBe(RELAY);
    expect(relay.stats.option82Omitted).toBe(1);
    expect(lan.log.find((m) => m.to.address === SERVER_A.address)!.bytes).toHaveLength(1460);
  });
});

describe('Dhcp4RelayAgent, server to client', () => {
  it('strips option 82 and broadcasts a reply to a client without an address on port 68', async () => {
    const { lan, relay, events } = await setup();
    const agent = { code: 82, data: encodeRelayAgentInfo(relayAgentInfo({ circuitId: 'sw1/eth7', remoteId: 'sw1' })) };
    await serverSends(lan, offer(discover({ hops: 1 }), {}, [agent]));
    const [down] = sentTo(lan, { address: '255.255.255.255', port: 68 });
    expect(down!.yiaddr).toBe('10.1.0.50');
    expect(down!.giaddr).toBe(RELAY);
    expect(down!.options.map((o) => o.code)).toEqual([53, 54]);
    expect(relay.stats.relayedDown).toBe(1);
    expect(events[0]!.detail).toBe(`OFFER ${MAC} from 10.2.0.10:67 to 255.255.255.255:68 (10.1.0.50), circuit-id sw1/eth7, option 82 removed`);
  });

  it('unicasts to ciaddr a reply to a client that has an address and did not ask for broadcast', async () => {
    const { lan } = await setup({ clientPort: 6868 });
    const ack = offer(discover({ ciaddr: '10.1.0.50' }), { ciaddr: '10.1.0.50', options: [messageTypeOption(Dhcp4MessageType.ACK)] });
    await serverSends(lan, ack);
    expect(sentTo(lan, { address: '10.1.0.50', port: 6868 })).toHaveLength(1);
    // The broadcast flag wins over ciaddr (RFC 1542 §4.1.2).
    await serverSends(lan, { ...ack, broadcast: true });
    expect(sentTo(lan, { address: '255.255.255.255', port: 6868 })).toHaveLength(1);
  });

  it("drops a reply whose giaddr is not the relay's", async () => {
    const { lan, relay, events } = await setup();
    await serverSends(lan, offer(discover(), { giaddr: '10.1.0.2' }));
    expect(lan.log.filter((m) => m.to.port === 68)).toEqual([]);
    expect(relay.stats.dropped).toEqual({ 'foreign-giaddr': 1 });
    expect(events[0]!.detail).toBe(`foreign-giaddr: OFFER ${MAC} from 10.2.0.10:67: giaddr 10.1.0.2 is not this relay's (10.1.0.1)`);
  });

  it('delivers a reply whose echoed option 82 is broken, without it, and says what was wrong and where', async () => {
    const { lan, events } = await setup();
    await serverSends(lan, offer(discover(), {}, [{ code: 82, data: Uint8Array.of(1, 9, 0x61) }]));
    const [down] = sentTo(lan, { address: '255.255.255.255', port: 68 });
    expect(getOption(down!, 82)).toBeUndefined();
    // Options start at 240: 53 (3 bytes), 54 (6 bytes), then 82's code and length: its data at 251.
    expect(events[0]!.detail).toMatch(/echoed option 82 unreadable: dhcp4\.relay-agent-info: truncated sub-option 1 \(circuit-id\) value at offset 253: needs 9 bytes, 1 left/);
  });

  it('with replyTo source, answers the address and port the request came from', async () => {
    const { lan } = await setup({ replyTo: 'source' });
    const req = discover();
    lan.inject(encodeDhcp4(req), { address: '127.0.0.1', port: 40_999 }, { address: RELAY, port: 67 });
    await lan.settle();
    await serverSends(lan, offer(req));
    expect(sentTo(lan, { address: '127.0.0.1', port: 40_999 }).map((p) => p.xid)).toEqual([0x1234]);
  });

  it('with replyTo source, remembers a bounded number of senders (the oldest is forgotten)', async () => {
    const { lan } = await setup({ replyTo: 'source', maxRemembered: 2 });
    const reqs = [1, 2, 3].map((i) => discover({ xid: i }));
    for (const [i, r] of reqs.entries()) lan.inject(encodeDhcp4(r), { address: '127.0.0.1', port: 41_000 + i }, { address: RELAY, port: 67 });
    await lan.settle();
    for (const r of reqs) await serverSends(lan, offer(r));
    expect(sentTo(lan, { address: '127.0.0.1', port: 41_000 })).toEqual([]);
    expect(sentTo(lan, { address: '255.255.255.255', port: 68 }).map((p) => p.xid)).toEqual([1]);
    expect(sentTo(lan, { address: '127.0.0.1', port: 41_002 }).map((p) => p.xid)).toEqual([3]);
  });
});

describe('Dhcp4RelayAgent and bad input', () => {
  it('counts datagrams that do not decode, one event each naming the error, and keeps relaying', async () => {
    const { lan, relay, events } = await setup();
    await clientSends(lan, Uint8Array.of(1, 2, 3));
    const badCookie = encodeDhcp4(discover());
    badCookie[236] = 0;
    await clientSends(lan, badCookie);
    await clientSends(lan, discover());
    expect(relay.stats.dropped).toEqual({ BL_DECODE_TRUNCATED: 1, BL_DECODE_MALFORMED: 1 });
    expect(events.filter((e) => e.type === 'relay.dropped').map((e) => e.detail)).toEqual([
      'BL_DECODE_TRUNCATED: 0.0.0.0:68: dhcp4: truncated hops at offset 3: needs 1 bytes, 0 left',
      'BL_DECODE_MALFORMED: 0.0.0.0:68: dhcp4: malformed magic cookie at offset 236: got 0x00825363',
    ]);
    expect(relay.stats.relayedUp).toBe(1);
  });

  it('keeps running when its event subscriber throws', async () => {
    const { lan, relay } = await setup({}, {
      onEvent: () => {
        throw new Error('subscriber bug');
      },
    });
    await clientSends(lan, discover());
    expect(relay.stats.relayedUp).toBe(1);
  });

  it('refuses a config it cannot run, naming the field', () => {
    const base: Dhcp4RelayConfig = { listen: { address: RELAY, port: 67 }, servers: [SERVER_A], agentIds: { circuitId: 'c', remoteId: 'r' } };
    expect(() => new Dhcp4RelayAgent({ ...base, listen: { address: '0.0.0.0', port: 67 } })).toThrow(/listen address '0\.0\.0\.0' must be a unicast IPv4 address/);
    expect(() => new Dhcp4RelayAgent({ ...base, servers: [] })).toThrow(/needs at least one server/);
    expect(() => new Dhcp4RelayAgent({ ...base, maxHops: 17 })).toThrow(/max hops 17 is not an integer in 1\.\.16/);
    expect(() => new Dhcp4RelayAgent({ ...base, agentIds: { circuitId: 'c'.repeat(252), remoteId: 'r' } })).toThrow(/circuit id \/ remote id/);
  });
});
