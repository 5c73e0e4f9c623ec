import fc from 'fast-check';
import { Dhcp4RelayAgent, type Dhcp4RelayEvent } from '../../src/net/dhcp4/relay-agent.js';
import { getOption } from '../../src/protocol/dhcp4/options.js';
import { decodeDhcp4 } from '../../src/protocol/dhcp4/packet.js';
import { decodeRelayAgentInfo, encodeRelayAgentInfo } from '../../src/protocol/dhcp4/relay-agent-info.js';
import { memoryNet } from '../memory-net.js';
import { Violation, ascii, describe, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';
import { dhcp4 } from './dhcp4.js';

/** Sub-option soups: circuit and remote ids often, honest lengths mostly. */
const agentInfoArbitrary = fc
  .array(fc.tuple(fc.constantFrom(1, 2, 5, 6, 9, 151, 0, 255), fc.uint8Array({ maxLength: 40 }), fc.boolean()), { maxLength: 8 })
  .map((subs) => Uint8Array.from(subs.flatMap(([code, data, honest]) => [code, honest ? data.length : data.length + 3, ...data])));

/** Option 82's sub-options (RFC 3046) at a non-zero base offset, as inside a message. */
export const dhcp4RelayAgentInfo: FuzzTarget = {
  name: 'dhcp4-relay-agent-info',
  about: 'decodeRelayAgentInfo at a non-zero base offset (offsets inside [base, base + length]), byte-exact re-encode and round trip through encodeRelayAgentInfo',
  maxLen: 300,
  arbitrary: agentInfoArbitrary,
  dictionary: [Uint8Array.of(1, 4), Uint8Array.of(2, 6), ...ascii('swp1', 'rack1/leaf1/eth7', 'leaf1')],
  check(input) {
    const base = 240 + (input.length & 0x3f);
    const r = expectResult(() => decodeRelayAgentInfo(input, base), input.length, base);
    if (!r.ok) return outcome(r);
    const again = encodeRelayAgentInfo(r.value);
    if (Buffer.compare(Buffer.from(again), Buffer.from(input)) !== 0) throw new Violation('re-encoding a decoded option 82 changed its bytes');
    expectRoundTrip(r.value, encodeRelayAgentInfo, (b) => decodeRelayAgentInfo(b), 'dhcp4-relay-agent-info');
    return outcome(r, String(Math.min(r.value.subOptions.length, 5)));
  },
};

const GIADDR = '127.0.0.1';
const SERVER = { address: '10.2.0.1', port: 67 };

/**
 * One datagram into the relay agent: it must not throw, drop for a bug of its own, account
 * for the datagram exactly once (relayed up, down or dropped), send only DHCPv4, hand
 * servers our giaddr (or the downstream relay's) and one more hop, and clients no option 82.
 */
export function relayAgentTarget(): FuzzTarget {
  const net = memoryNet();
  const events: Dhcp4RelayEvent[] = [];
  let relay: Promise<Dhcp4RelayAgent> | undefined;
  const started = (): Promise<Dhcp4RelayAgent> =>
    (relay ??= (async () => {
      const r = new Dhcp4RelayAgent(
        { listen: { address: GIADDR, port: 67 }, servers: [SERVER], agentIds: { circuitId: 'rack1/leaf1/swp7', remoteId: 'leaf1' }, trustOption82: true },
        { openPort: net.open, onEvent: (e) => events.length < 64 && events.push(e) },
      );
      await r.start();
      return r;
    })());
  return {
    name: 'dhcp4-relay',
    corpus: ['dhcp4', 'dhcp4-relay'],
    about: 'Dhcp4RelayAgent receive path over an in-memory port: never throws, accounts for every datagram once, servers get giaddr and a hop, clients never get option 82',
    maxLen: dhcp4.maxLen!,
    arbitrary: dhcp4.arbitrary!,
    dictionary: dhcp4.dictionary!,
    async check(original) {
      const r = await started();
      const port = net.ports[0]!;
      events.length = 0;
      // Half the replies carry our giaddr, so the way down is driven, not only its refusal.
      const input = Uint8Array.from(original);
      if (input.length >= 28 && input[0] === 2 && (input.length & 1) === 1) input.set([127, 0, 0, 1], 24);
      const before = { ...r.stats, dropped: { ...r.stats.dropped } };
      try {
        port.deliver(input, input[0] === 2 ? SERVER : { address: '0.0.0.0', port: 68 });
      } catch (e) {
        throw new Violation(`the receive handler threw ${describe(e)}`);
      }
      const sum = (d: Record<string, number>): number => Object.values(d).reduce((a, b) => a + b, 0);
      const handled = r.stats.relayedUp - before.relayedUp + r.stats.relayedDown - before.relayedDown + sum(r.stats.dropped) - sum(before.dropped);
      if (r.stats.received !== before.received + 1 || handled !== 1) throw new Violation(`one datagram was accounted for ${handled} times`);
      for (const reason of ['internal', 'encode-failed']) {
        if ((r.stats.dropped[reason] ?? 0) > (before.dropped[reason] ?? 0)) throw new Violation(`relay dropped a datagram as '${reason}': ${events.at(-1)?.detail ?? ''}`);
      }
      const incoming = decodeDhcp4(input);
      for (const s of port.sent.splice(0)) {
        const out = decodeDhcp4(s.bytes);
        if (!out.ok) throw new Violation(`relay sent a datagram that does not decode: ${out.error.message}`);
        if (!incoming.ok) throw new Violation('relay sent something for a datagram that did not decode');
        if (s.to.port === 68 || s.to.address === '255.255.255.255') {
          if (getOption(out.value, 82)) throw new Violation('relay delivered option 82 to a client');
        } else {
          const expected = incoming.value.giaddr === '0.0.0.0' ? GIADDR : incoming.value.giaddr;
          if (out.value.giaddr !== expected || out.value.hops !== incoming.value.hops + 1) {
            throw new Violation(`relayed giaddr ${out.value.giaddr} hops ${out.value.hops}, expected ${expected} and ${incoming.value.hops + 1}`);
          }
        }
      }
      return `${events[0]?.type ?? ''}:${(events[0]?.detail ?? '').split(':')[0]}`;
    },
    close: async () => (await started()).stop(),
  };
}
