import {
  Dhcp4MessageType,
  getOption,
  messageType,
  readIp,
  readString,
  readU8List,
  stringOption,
  u32Option,
} from '../../protocol/dhcp4/options.js';
import { dhcp4Reply, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import type { DatagramPeer } from '../datagram-port.js';
import { canonicalLeaseKey, leaseKey, reservationIds } from './lease-key.js';
import { relayAgentIds } from '../../protocol/dhcp4/relay-agent-info.js';
import { LeasePool } from './lease-pool.js';
import { mergeOptionValues } from './option-values.js';
import { ClassRules, type ReplyProfile } from './class-rules.js';
import type { Dhcp4OptionValues, Dhcp4Reservation, Dhcp4ServerConfig, Dhcp4ServerEvent } from './server-config.js';

/** The lease key now lives in lease-key.ts; this name stays for callers written against it. */
export { leaseKey as clientKey } from './lease-key.js';

export interface Dhcp4Reply {
  packet: Dhcp4Packet;
  to: DatagramPeer;
}

/** What to do with one request: replies to send, events to publish, or why nothing is sent. */
export interface Dhcp4Decision {
  replies: Dhcp4Reply[];
  events: Dhcp4ServerEvent[];
  /** Set when the request is not answered for a reason worth counting. */
  dropped?: string;
  /** A lease that changed: it must be durable before the replies go out (expiresAt 0: ended). */
  lease?: { client: string; address: string; expiresAt: number };
}


const SERVER_PORT = 67;
const DEFAULT_CLIENT_PORT = 68;
const ZERO = '0.0.0.0';
const LIMITED_BROADCAST = '255.255.255.255';
/** Always first in an OFFER/ACK (after 53, 54): the lease time and the subnet mask. */
const LEASE_TIME = 51;
const SUBNET_MASK = 1;
const RELAY_AGENT_INFO = 82;
const PXE_VENDOR_OPTIONS = 43;
/** Sent only when a rule forces them: ONIE never requests 150, so a requesting client is not ONIE. */
const FORCED_ONLY = new Set([150]);

/**
 * RFC 2131 server decisions, given the pool and the config: DISCOVER → OFFER, REQUEST
 * → ACK / NAK / silence, RELEASE and DECLINE update the pool, INFORM → ACK without a
 * lease. No I/O and no clock of its own: the caller passes `now`.
 */
export class Dhcp4ReplyPolicy {
  private readonly subnets: Subnet[];
  private readonly clientPort: number;
  private readonly serverIdData: Uint8Array;

  constructor(private readonly config: Dhcp4ServerConfig) {
    this.clientPort = config.clientPort ?? DEFAULT_CLIENT_PORT;
    this.serverIdData = ipData(config.serverId);
    const global = config.options ?? {};
    const primary = config.pool;
    this.subnets = [
      subnet(
        { network: networkOf(primary.start, primary.subnetMask), mask: primary.subnetMask, pool: primary, leaseSeconds: primary.leaseSeconds, reservations: primary.reservations ?? [] },
        global,
        config,
        [config.serverId],
      ),
      ...(config.subnets ?? []).map((x) => {
        const [network, bits] = x.subnet.split('/') as [string, string];
        const mask = maskOf(Number(bits));
        return subnet(
          { network, mask, pool: x.pool, leaseSeconds: x.leaseSeconds ?? primary.leaseSeconds, reservations: x.reservations ?? [] },
          mergeOptionValues(global, x.options ?? {}),
          config,
          [],
        );
      }),
    ];
  }

  /** Puts back a lease read from the lease file, into the subnet whose pool holds its address. */
  restore(stored: string, address: string, expiresAt: number, now: number): boolean {
    const client = canonicalLeaseKey(stored);
    return this.subnets.some((n) => n.pool.contains(address) || n.reserved.has(address) ? n.pool.restore(client, address, expiresAt, now) : false);
  }

  answer(req: Dhcp4Packet, from: DatagramPeer, now: number): Dhcp4Decision {
    if (req.op !== 'request') return drop('not-a-request', 'op is reply');
    const type = messageType(req);
    if (type === undefined) return drop('no-message-type', 'BOOTP without option 53 is not served');
    const client = leaseKey(req);
    const net = this.subnetFor(req);
    if (!net) return drop('no-subnet', `no subnet configured for relay ${req.giaddr}`);
    const p = net.classes.classify(req);
    const base = { mac: req.chaddr, xid: req.xid, ...(p.className !== undefined ? { className: p.className } : {}) };
    const events: Dhcp4ServerEvent[] = [];
    const send = (reply: Dhcp4Packet, event: Dhcp4ServerEvent): Dhcp4Decision => ({
      replies: [{ packet: reply, to: this.destination(req, reply, from) }],
      events: [...events, event],
    });
    const nak = (requested: string, why: string): Dhcp4Decision =>
      send(this.nak(req, why), { type: 'dhcp.nak', ...base, address: requested, detail: why });

    switch (type) {
      case Dhcp4MessageType.DISCOVER: {
        events.push({ type: 'dhcp.discover', ...base });
        const requested = ipOf(req, 50);
        const address = net.pool.offer(client, now, requested, reservationOf(net, req));
        if (address === undefined) {
          // Refused at once (the pool finds no free address without scanning) and counted.
          return { replies: [], events: [...events, { type: 'dhcp.pool-exhausted', ...base, detail: `no free address for ${req.chaddr}` }], dropped: 'pool-exhausted' };
        }
        return send(this.grant(req, Dhcp4MessageType.OFFER, address, p, net), { type: 'dhcp.offer', ...base, address });
      }
      case Dhcp4MessageType.REQUEST: {
        const selected = ipOf(req, 54);
        const requested = ipOf(req, 50) ?? (req.ciaddr !== ZERO ? req.ciaddr : undefined);
        events.push({ type: 'dhcp.request', ...base, ...(requested ? { address: requested } : {}) });
        if (selected !== undefined && selected !== this.config.serverId) {
          // The client chose another server's offer (RFC 2131 §4.3.2): ours is free again.
          net.pool.withdrawOffer(client);
          return { replies: [], events, dropped: 'other-server' };
        }
        if (requested === undefined) return { ...drop('request-without-address', 'neither option 50 nor ciaddr'), events };
        const reserved = reservationOf(net, req);
        if (reserved !== undefined && reserved !== requested) return nak(requested, `this client's address is ${reserved}`);
        if (!net.pool.commit(client, requested, now, reserved === requested)) {
          return nak(requested, net.pool.contains(requested) ? 'address held by another client' : 'address not in this pool');
        }
        return {
          ...send(this.grant(req, Dhcp4MessageType.ACK, requested, p, net), { type: 'dhcp.ack', ...base, address: requested }),
          lease: { client, address: requested, expiresAt: now + net.leaseSeconds * 1000 },
        };
      }
      case Dhcp4MessageType.RELEASE: {
        if (ipOf(req, 54) !== undefined && ipOf(req, 54) !== this.config.serverId) return drop('other-server', 'release for another server');
        const released = net.pool.release(client, req.ciaddr);
        return {
          replies: [],
          events: [{ type: 'dhcp.release', ...base, address: req.ciaddr, ...(released ? {} : { detail: 'no such lease' }) }],
          ...(released ? { lease: { client, address: req.ciaddr, expiresAt: 0 } } : {}),
        };
      }
      case Dhcp4MessageType.DECLINE: {
        const address = ipOf(req, 50);
        if (ipOf(req, 54) !== this.config.serverId || address === undefined) return drop('other-server', 'decline for another server');
        net.pool.decline(client, address, now);
        return { replies: [], events: [{ type: 'dhcp.decline', ...base, address }], lease: { client, address, expiresAt: 0 } };
      }
      case Dhcp4MessageType.INFORM:
        return send(this.grant(req, Dhcp4MessageType.ACK, undefined, p, net), { type: 'dhcp.inform', ...base, address: req.ciaddr });
      default:
        return drop('unexpected-message-type', `message type ${type} is sent by servers`);
    }
  }

  /**
   * The subnet a request is served from: a relay's (giaddr's) subnet, else the one of the
   * client's current address (a unicast renewal), else the server's own.
   */
  private subnetFor(req: Dhcp4Packet): Subnet | undefined {
    if (req.giaddr !== ZERO) return this.subnets.find((n) => n.includes(req.giaddr));
    if (req.ciaddr !== ZERO) return this.subnets.find((n) => n.includes(req.ciaddr)) ?? this.subnets[0];
    return this.subnets[0];
  }

  /** OFFER or ACK. `address` undefined: an ACK to INFORM, which carries no lease (RFC 2131 §3.4). */
  private grant(req: Dhcp4Packet, type: Dhcp4MessageType, address: string | undefined, p: ReplyProfile, net: Subnet): Dhcp4Packet {
    const options: Dhcp4OptionEntry[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 54, data: this.serverIdData },
    ];
    if (address !== undefined) options.push(u32Option(LEASE_TIME, net.leaseSeconds));
    const sent = new Set(options.map((o) => o.code));
    const addCode = (code: number): void => {
      if (sent.has(code)) return;
      const data = p.options.get(code);
      if (!data) return;
      options.push({ code, data });
      sent.add(code);
    };
    addCode(SUBNET_MASK);
    const asked = getOption(req, 55);
    for (const code of asked ? readU8List(asked) : []) if (!FORCED_ONLY.has(code)) addCode(code);
    for (const code of p.force) addCode(code);
    const family = echoedVendorClass(optionText(req, 60), sent.has(PXE_VENDOR_OPTIONS));
    if (family !== undefined && !sent.has(60)) {
      options.push(stringOption(60, family));
      const uuid = getOption(req, 97);
      if (uuid) options.push({ code: 97, data: uuid });
    }
    echoRelayInfo(req, options);
    return {
      ...dhcp4Reply(req),
      ciaddr: type === Dhcp4MessageType.OFFER ? ZERO : req.ciaddr,
      yiaddr: address ?? ZERO,
      siaddr: p.header.siaddr,
      sname: p.header.sname,
      file: p.header.file,
      options,
    };
  }

  private nak(req: Dhcp4Packet, why: string): Dhcp4Packet {
    const options = [{ code: 53, data: Uint8Array.of(Dhcp4MessageType.NAK) }, { code: 54, data: this.serverIdData }, stringOption(56, why)];
    echoRelayInfo(req, options);
    return { ...dhcp4Reply(req), options };
  }

  /** RFC 2131 §4.1, less the unicast-to-yiaddr case a socket cannot do without an ARP entry. */
  private destination(req: Dhcp4Packet, reply: Dhcp4Packet, from: DatagramPeer): DatagramPeer {
    if (this.config.replyTo === 'source') return from;
    if (req.giaddr !== ZERO) return { address: req.giaddr, port: SERVER_PORT };
    if (messageType(reply) !== Dhcp4MessageType.NAK && req.ciaddr !== ZERO) return { address: req.ciaddr, port: this.clientPort };
    return { address: LIMITED_BROADCAST, port: this.clientPort };
  }
}



/**
 * Option 60 in a reply (with the client's 97 beside it), as the firmware reads it:
 * - HTTPClient comes back to an HTTP Boot client: EDK2's HttpBootDxe drops an offer
 *   whose 60 does not start with it.
 * - PXEClient comes back only with PXE vendor options (43). EDK2 (and the PXE 2.1 spec
 *   it follows) takes an offer with an address, 60 = PXEClient and no 43 for a BINL
 *   offer and asks port 4011 for the boot file, failing with PXE-E16 when nobody
 *   answers; and it reads 43 only when 60 says PXEClient. dnsmasq does the same: 60
 *   with pxe-service / vendor options, none with a plain dhcp-boot.
 */
function echoedVendorClass(clientClass: string | undefined, sendsPxeVendorOptions: boolean): string | undefined {
  if (clientClass?.startsWith('HTTPClient')) return 'HTTPClient';
  if (clientClass?.startsWith('PXEClient') && sendsPxeVendorOptions) return 'PXEClient';
  return undefined;
}

/** One subnet the server leases from: its pool, its options under the class rules, its reservations. */
interface Subnet {
  includes(address: string): boolean;
  pool: LeasePool;
  classes: ClassRules;
  leaseSeconds: number;
  reserved: Set<string>;
  reservedByMac: Map<string, string>;
  reservedById: Map<string, string>;
  reservedByCircuit: Map<string, string>;
}

function subnet(
  n: { network: string; mask: string; pool: { start: string; end: string }; leaseSeconds: number; reservations: readonly Dhcp4Reservation[] },
  options: Dhcp4OptionValues,
  config: Dhcp4ServerConfig,
  exclude: string[],
): Subnet {
  const network = u32Of(n.network);
  const mask = u32Of(n.mask);
  return {
    includes: (address) => ((u32Of(address) & mask) >>> 0) === ((network & mask) >>> 0),
    pool: new LeasePool({ start: n.pool.start, end: n.pool.end, leaseSeconds: n.leaseSeconds, exclude, reserved: n.reservations.map((r) => r.address) }),
    classes: new ClassRules({ subnetMask: n.mask, options, ...(config.classes ? { classes: config.classes } : {}) }),
    leaseSeconds: n.leaseSeconds,
    reserved: new Set(n.reservations.map((r) => r.address)),
    reservedByMac: new Map(n.reservations.filter((r) => r.mac).map((r) => [r.mac!.toLowerCase(), r.address])),
    reservedById: new Map(n.reservations.filter((r) => r.clientId).map((r) => [r.clientId!.toLowerCase(), r.address])),
    reservedByCircuit: new Map(n.reservations.filter((r) => r.circuitId !== undefined).map((r) => [r.circuitId!, r.address])),
  };
}

/**
 * The address reserved for this client in this subnet: by option 61 first (see
 * reservationIds), then by MAC, then by the switch port its relay names (option 82).
 */
function reservationOf(net: Subnet, req: Dhcp4Packet): string | undefined {
  if (net.reservedById.size > 0) {
    for (const id of reservationIds(req)) {
      const byId = net.reservedById.get(id);
      if (byId !== undefined) return byId;
    }
  }
  const byMac = net.reservedByMac.size > 0 ? net.reservedByMac.get(req.chaddr) : undefined;
  if (byMac !== undefined || net.reservedByCircuit.size === 0) return byMac;
  const circuitId = relayAgentIds(req).circuitId;
  return circuitId !== undefined ? net.reservedByCircuit.get(circuitId) : undefined;
}

function u32Of(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function networkOf(address: string, mask: string): string {
  const n = (u32Of(address) & u32Of(mask)) >>> 0;
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

function maskOf(bits: number): string {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [m >>> 24, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff].join('.');
}

/** RFC 3046 §2.2: a relay's option 82 comes back unchanged, as the last option. */
function echoRelayInfo(req: Dhcp4Packet, options: Dhcp4OptionEntry[]): void {
  const relayInfo = getOption(req, RELAY_AGENT_INFO);
  if (relayInfo) options.push({ code: RELAY_AGENT_INFO, data: relayInfo });
}



function ipOf(p: Dhcp4Packet, code: number): string | undefined {
  const data = getOption(p, code);
  return data ? readIp(data) : undefined;
}

function optionText(p: Dhcp4Packet, code: number): string | undefined {
  const data = getOption(p, code);
  return data ? readString(data) : undefined;
}

function ipData(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.').map(Number));
}

function drop(reason: string, detail: string): Dhcp4Decision {
  return { replies: [], events: [{ type: 'dhcp.dropped', detail: `${reason}: ${detail}` }], dropped: reason };
}

