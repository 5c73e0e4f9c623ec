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
import type { Dhcp4OptionEntry, Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import type { DatagramPeer } from '../datagram-port.js';
import type { LeasePool } from './lease-pool.js';
import { ClassRules, type ReplyProfile } from './class-rules.js';
import type { Dhcp4ServerConfig, Dhcp4ServerEvent } from './server-config.js';

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
/** Sent only when a rule forces them: ONIE never requests 150, so a requesting client is not ONIE. */
const FORCED_ONLY = new Set([150]);

/**
 * RFC 2131 server decisions, given the pool and the config: DISCOVER → OFFER, REQUEST
 * → ACK / NAK / silence, RELEASE and DECLINE update the pool, INFORM → ACK without a
 * lease. No I/O and no clock of its own: the caller passes `now`.
 */
export class Dhcp4ReplyPolicy {
  private readonly classes: ClassRules;
  private readonly clientPort: number;
  private readonly serverIdData: Uint8Array;
  private readonly reservedByMac: Map<string, string>;
  private readonly reservedById: Map<string, string>;

  constructor(
    private readonly config: Dhcp4ServerConfig,
    private readonly pool: LeasePool,
  ) {
    this.classes = new ClassRules({ subnetMask: config.pool.subnetMask, ...(config.options ? { options: config.options } : {}), ...(config.classes ? { classes: config.classes } : {}) });
    this.clientPort = config.clientPort ?? DEFAULT_CLIENT_PORT;
    this.serverIdData = ipData(config.serverId);
    const reservations = config.pool.reservations ?? [];
    this.reservedByMac = new Map(reservations.filter((r) => r.mac).map((r) => [r.mac!.toLowerCase(), r.address]));
    this.reservedById = new Map(reservations.filter((r) => r.clientId).map((r) => [r.clientId!.toLowerCase(), r.address]));
  }

  answer(req: Dhcp4Packet, from: DatagramPeer, now: number): Dhcp4Decision {
    if (req.op !== 'request') return drop('not-a-request', 'op is reply');
    const type = messageType(req);
    if (type === undefined) return drop('no-message-type', 'BOOTP without option 53 is not served');
    const client = clientKey(req);
    const p = this.classes.classify(req);
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
        const address = this.pool.offer(client, now, requested, this.reservationOf(req));
        if (address === undefined) {
          return { replies: [], events: [...events, { type: 'dhcp.pool-exhausted', ...base, detail: `no free address for ${req.chaddr}` }] };
        }
        return send(this.grant(req, Dhcp4MessageType.OFFER, address, p), { type: 'dhcp.offer', ...base, address });
      }
      case Dhcp4MessageType.REQUEST: {
        const selected = ipOf(req, 54);
        const requested = ipOf(req, 50) ?? (req.ciaddr !== ZERO ? req.ciaddr : undefined);
        events.push({ type: 'dhcp.request', ...base, ...(requested ? { address: requested } : {}) });
        if (selected !== undefined && selected !== this.config.serverId) {
          // The client chose another server's offer (RFC 2131 §4.3.2): ours is free again.
          this.pool.withdrawOffer(client);
          return { replies: [], events, dropped: 'other-server' };
        }
        if (requested === undefined) return { ...drop('request-without-address', 'neither option 50 nor ciaddr'), events };
        const reserved = this.reservationOf(req);
        if (reserved !== undefined && reserved !== requested) return nak(requested, `this client's address is ${reserved}`);
        if (!this.pool.commit(client, requested, now, reserved === requested)) {
          return nak(requested, this.pool.contains(requested) ? 'address held by another client' : 'address not in this pool');
        }
        return {
          ...send(this.grant(req, Dhcp4MessageType.ACK, requested, p), { type: 'dhcp.ack', ...base, address: requested }),
          lease: { client, address: requested, expiresAt: now + this.config.pool.leaseSeconds * 1000 },
        };
      }
      case Dhcp4MessageType.RELEASE: {
        if (ipOf(req, 54) !== undefined && ipOf(req, 54) !== this.config.serverId) return drop('other-server', 'release for another server');
        const released = this.pool.release(client, req.ciaddr);
        return {
          replies: [],
          events: [{ type: 'dhcp.release', ...base, address: req.ciaddr, ...(released ? {} : { detail: 'no such lease' }) }],
          ...(released ? { lease: { client, address: req.ciaddr, expiresAt: 0 } } : {}),
        };
      }
      case Dhcp4MessageType.DECLINE: {
        const address = ipOf(req, 50);
        if (ipOf(req, 54) !== this.config.serverId || address === undefined) return drop('other-server', 'decline for another server');
        this.pool.decline(client, address, now);
        return { replies: [], events: [{ type: 'dhcp.decline', ...base, address }], lease: { client, address, expiresAt: 0 } };
      }
      case Dhcp4MessageType.INFORM:
        return send(this.grant(req, Dhcp4MessageType.ACK, undefined, p), { type: 'dhcp.inform', ...base, address: req.ciaddr });
      default:
        return drop('unexpected-message-type', `message type ${type} is sent by servers`);
    }
  }

  /** The address reserved for this client: by option 61 first, then by MAC. */
  private reservationOf(req: Dhcp4Packet): string | undefined {
    if (this.reservedById.size > 0) {
      const id = getOption(req, 61);
      const byId = id ? this.reservedById.get(Buffer.from(id).toString('hex')) : undefined;
      if (byId !== undefined) return byId;
    }
    return this.reservedByMac.size > 0 ? this.reservedByMac.get(req.chaddr) : undefined;
  }



  /** OFFER or ACK. `address` undefined: an ACK to INFORM, which carries no lease (RFC 2131 §3.4). */
  private grant(req: Dhcp4Packet, type: Dhcp4MessageType, address: string | undefined, p: ReplyProfile): Dhcp4Packet {
    const options: Dhcp4OptionEntry[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 54, data: this.serverIdData },
    ];
    if (address !== undefined) options.push(u32Option(LEASE_TIME, this.config.pool.leaseSeconds));
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
    // PXE and UEFI HTTP Boot clients want to see their class (and their UUID) come back:
    // EDK2's HTTP Boot drops an offer whose option 60 does not start with HTTPClient.
    const vendorClass = optionText(req, 60);
    const family = vendorClass?.startsWith('HTTPClient') ? 'HTTPClient' : vendorClass?.startsWith('PXEClient') ? 'PXEClient' : undefined;
    if (family !== undefined && !sent.has(60)) {
      options.push(stringOption(60, family));
      const uuid = getOption(req, 97);
      if (uuid) options.push({ code: 97, data: uuid });
    }
    echoRelayInfo(req, options);
    return {
      ...replyHeader(req),
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
    return { ...replyHeader(req), options };
  }

  /** RFC 2131 §4.1, less the unicast-to-yiaddr case a socket cannot do without an ARP entry. */
  private destination(req: Dhcp4Packet, reply: Dhcp4Packet, from: DatagramPeer): DatagramPeer {
    if (this.config.replyTo === 'source') return from;
    if (req.giaddr !== ZERO) return { address: req.giaddr, port: SERVER_PORT };
    if (messageType(reply) !== Dhcp4MessageType.NAK && req.ciaddr !== ZERO) return { address: req.ciaddr, port: this.clientPort };
    return { address: LIMITED_BROADCAST, port: this.clientPort };
  }
}


function replyHeader(req: Dhcp4Packet): Dhcp4Packet {
  return {
    op: 'reply',
    htype: req.htype,
    hlen: req.hlen,
    hops: 0,
    xid: req.xid,
    secs: 0,
    broadcast: req.broadcast,
    ciaddr: ZERO,
    yiaddr: ZERO,
    siaddr: ZERO,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    sname: '',
    file: '',
    options: [],
  };
}

/** Lease identity: option 61 when the client sends one (RFC 2131 §4.2), else its hardware address. */
export function clientKey(req: Dhcp4Packet): string {
  const id = getOption(req, 61);
  return id && id.length > 0 ? `id:${Buffer.from(id).toString('hex')}` : `hw:${req.htype}:${req.chaddr}`;
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

