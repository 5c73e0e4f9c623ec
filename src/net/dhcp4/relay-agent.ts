import { BootlabError } from '../../errors.js';
import { getOption, messageType, messageTypeName } from '../../protocol/dhcp4/options.js';
import { decodeDhcp4, encodeDhcp4, parseIpv4, type Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  optionDataOffset,
  RELAY_AGENT_INFO_OPTION,
  relayAgentInfo,
  relayAgentSubOption,
  RelayAgentSubOptionCode,
} from '../../protocol/dhcp4/relay-agent-info.js';
import { bindUdp, hearingBroadcasts, LIMITED_BROADCAST, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';

/** What a relay puts into option 82 for one request (RFC 3046 §2.1): text, sent as UTF-8. */
export interface RelayAgentIds {
  circuitId: string;
  remoteId: string;
}

/**
 * Picks the circuit and remote id for a request (a rack plan maps a device's MAC or port
 * to its switch and port). Undefined: the configured defaults.
 */
export type RelayAgentIdResolver = (request: Dhcp4Packet, from: DatagramPeer) => RelayAgentIds | undefined;

export interface Dhcp4RelayConfig {
  /**
   * The relay's address on the clients' segment and the port it listens on (67). It is the
   * giaddr of every request it relays, so servers answer to it: a unicast IPv4 address.
   */
  listen: { address: string; port: number };
  /**
   * The address written as giaddr, when it is not the listen address: a relay in a loopback
   * lab listens on 127.0.0.1 while giaddr names its rack's subnet (the gateway address a
   * switch's SVI would have), so the server picks that subnet. Replies must then come back
   * to the listen socket (a server with replyTo 'source'). Default: the listen address.
   */
  giaddr?: string;
  /** Every request goes to each of these (a server's address and port, 67). */
  servers: DatagramPeer[];
  /** Port replies are delivered to on the clients' segment. Default 68. */
  clientPort?: number;
  /**
   * Requests arriving with this many hops or more are dropped (RFC 1542 §4.1.1: the
   * threshold is configurable up to 16 and SHOULD default to 4). Default 4.
   */
  maxHops?: number;
  /** The ids when the resolver gives none. */
  agentIds: RelayAgentIds;
  /**
   * Forward a request that arrives with option 82 and giaddr 0 (a trusted switch added it,
   * RFC 3046 §2.1) instead of dropping it. Default false: the circuit is untrusted.
   */
  trustOption82?: boolean;
  /**
   * 'broadcast' (default): a reply goes to 255.255.255.255, or to ciaddr when the client
   * has an address and did not ask for broadcast. 'source': to the address and port its
   * request came from (loopback labs, where nothing hears a broadcast).
   */
  replyTo?: 'broadcast' | 'source';
  /** With replyTo 'source': most requests whose sender is remembered (the oldest goes). Default 4096. */
  maxRemembered?: number;
}

export interface Dhcp4RelayEvent {
  type: 'relay.request' | 'relay.reply' | 'relay.dropped';
  mac?: string;
  xid?: number;
  detail: string;
}

export interface Dhcp4RelayDeps {
  onEvent?: (e: Dhcp4RelayEvent) => void;
  /** Opens the socket (wrapped to hear broadcasts); fault wrappers go here. Default bindUdp. */
  openPort?: DatagramPortFactory;
  resolveIds?: RelayAgentIdResolver;
}

export interface Dhcp4RelayStats {
  received: number;
  /** Requests forwarded to the servers (once per request, however many servers). */
  relayedUp: number;
  /** Replies delivered to clients. */
  relayedDown: number;
  /** Datagrams not relayed, by reason (a decode error code, or the relay's reason). */
  dropped: Record<string, number>;
  /** Requests forwarded without our option 82 because it would not fit (RFC 3046 §2.1). */
  option82Omitted: number;
}

const ZERO = '0.0.0.0';
const DEFAULT_MAX_HOPS = 4;
/** RFC 1542 §4.1.1: a relay never forwards past 16 hops. */
const HOPS_CEILING = 16;
const DEFAULT_CLIENT_PORT = 68;
const DEFAULT_MAX_REMEMBERED = 4096;
/** An Ethernet frame's IP payload less the IP and UDP headers: a relayed request must still fit one. */
const MAX_RELAYED_BYTES = 1500 - 20 - 8;
const SOCKET_BUFFER_BYTES = 4 << 20;

/**
 * A DHCPv4 relay agent (RFC 1542 §4, RFC 3046) between one client segment and one or more
 * servers. Requests get giaddr, a hop and option 82, and go to every server; replies for
 * our giaddr lose option 82 and go to the client. Every datagram is handled as it
 * arrives (no queue): one that cannot be relayed is counted and dropped, with one event
 * naming why, and nothing a peer sends stops the receive loop.
 */
export class Dhcp4RelayAgent {
  readonly stats: Dhcp4RelayStats = { received: 0, relayedUp: 0, relayedDown: 0, dropped: {}, option82Omitted: 0 };
  private readonly giaddr: string;
  private readonly maxHops: number;
  private readonly clientPort: number;
  private readonly maxRemembered: number;
  /** replyTo 'source': request key (xid, chaddr) → its sender, oldest first. */
  private readonly senders = new Map<string, DatagramPeer>();
  private port: DatagramPort | undefined;
  private down = false;

  constructor(
    private readonly config: Dhcp4RelayConfig,
    private readonly deps: Dhcp4RelayDeps = {},
  ) {
    validateRelayConfig(config);
    this.giaddr = config.giaddr ?? config.listen.address;
    this.maxHops = config.maxHops ?? DEFAULT_MAX_HOPS;
    this.clientPort = config.clientPort ?? DEFAULT_CLIENT_PORT;
    this.maxRemembered = config.maxRemembered ?? DEFAULT_MAX_REMEMBERED;
  }

  async start(): Promise<DatagramPeer> {
    if (this.port) return this.port.address();
    // Clients without an address broadcast; a socket bound to a unicast address hears no broadcast.
    const open = hearingBroadcasts(this.deps.openPort ?? bindUdp);
    const port = await open({ ...this.config.listen, broadcast: true, bufferBytes: SOCKET_BUFFER_BYTES });
    this.port = port;
    port.onMessage((bytes, from) => this.receive(port, bytes, from));
    return port.address();
  }

  /**
   * A relay that is down (a bring-up fault: its switch reloading): every datagram is counted
   * and dropped as 'relay-down' until resume(), while the socket stays bound so clients
   * find it at the same address when it comes back.
   */
  suspend(): void {
    this.down = true;
  }

  resume(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.senders.clear();
    await port?.close();
  }

  private receive(port: DatagramPort, bytes: Uint8Array, from: DatagramPeer): void {
    this.stats.received++;
    if (this.down) return this.drop('relay-down', `${peer(from)}: the relay is down`);
    try {
      const decoded = decodeDhcp4(bytes);
      if (!decoded.ok) return this.drop(decoded.error.code, `${peer(from)}: ${decoded.error.message}`);
      if (decoded.value.op === 'request') this.relayUp(port, decoded.value, from);
      else this.relayDown(port, decoded.value, bytes, from);
    } catch (e) {
      // An EncodeError is a decoded message we cannot put back on the wire; anything else is ours.
      this.drop(e instanceof BootlabError ? 'encode-failed' : 'internal', `${peer(from)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** RFC 1542 §4.1.1 and RFC 3046 §2.1: client → servers. */
  private relayUp(port: DatagramPort, req: Dhcp4Packet, from: DatagramPeer): void {
    const who = { mac: req.chaddr, xid: req.xid };
    if (req.hops >= this.maxHops) return this.drop('max-hops', `${describe(req)} from ${peer(from)}: hops ${req.hops}, the limit is ${this.maxHops}`, who);
    // Our own giaddr on a request means it has been through us already: a loop.
    if (req.giaddr === this.giaddr) return this.drop('relay-loop', `${describe(req)} from ${peer(from)}: giaddr ${req.giaddr} is this relay's`, who);
    const present = getOption(req, RELAY_AGENT_INFO_OPTION) !== undefined;
    const firstHop = req.giaddr === ZERO;
    if (present && firstHop && !this.config.trustOption82) {
      return this.drop('untrusted-option82', `${describe(req)} from ${peer(from)}: option 82 present with giaddr 0 on an untrusted circuit (--trust-option82 forwards it)`, who);
    }
    const relayed: Dhcp4Packet = { ...req, giaddr: firstHop ? this.giaddr : req.giaddr, hops: req.hops + 1 };
    // The encoder pads to the BOOTP minimum again: the client's own padding need not grow the message.
    delete relayed.padding;
    let ids: RelayAgentIds | undefined;
    // A trusted switch's or a downstream relay's option 82 stays as it is, never a second one (RFC 3046 §2.1, §2.1.1).
    if (!present) {
      try {
        ids = this.deps.resolveIds?.(req, from) ?? this.config.agentIds;
        relayed.options = [...req.options, { code: RELAY_AGENT_INFO_OPTION, data: encodeRelayAgentInfo(relayAgentInfo(ids)) }];
      } catch (e) {
        return this.drop('agent-ids-failed', `${describe(req)} from ${peer(from)}: ${e instanceof Error ? e.message : String(e)}`, who);
      }
    }
    let wire = encodeDhcp4(relayed);
    if (wire.length > MAX_RELAYED_BYTES && ids) {
      // RFC 3046 §2.1: a request the option would make too big goes on without it, counted.
      this.stats.option82Omitted++;
      ids = undefined;
      wire = encodeDhcp4({ ...relayed, options: req.options });
    }
    if (this.config.replyTo === 'source') this.remember(req, from);
    for (const server of this.config.servers) {
      port.send(wire, server.address, server.port).catch((e: unknown) => this.drop('send-failed', `${peer(server)}: ${e instanceof Error ? e.message : String(e)}`, who));
    }
    this.stats.relayedUp++;
    const agent = ids ? `, circuit-id ${ids.circuitId} remote-id ${ids.remoteId}` : present ? ', option 82 kept as received' : ', without option 82 (no room)';
    this.emit({ type: 'relay.request', ...who, detail: `${describe(req)} from ${peer(from)} to ${this.config.servers.map(peer).join(' ')} (giaddr ${relayed.giaddr}, hops ${relayed.hops}${agent})` });
  }

  /** RFC 1542 §4.1.2 and RFC 3046 §2.2: server → client, option 82 removed. */
  private relayDown(port: DatagramPort, reply: Dhcp4Packet, wire: Uint8Array, from: DatagramPeer): void {
    const who = { mac: reply.chaddr, xid: reply.xid };
    if (reply.giaddr !== this.giaddr) return this.drop('foreign-giaddr', `${describe(reply)} from ${peer(from)}: giaddr ${reply.giaddr} is not this relay's (${this.giaddr})`, who);
    const echoed = getOption(reply, RELAY_AGENT_INFO_OPTION);
    let circuit = '';
    if (echoed) {
      const info = decodeRelayAgentInfo(echoed, optionDataOffset(wire, RELAY_AGENT_INFO_OPTION) ?? 0);
      const id = info.ok ? relayAgentSubOption(info.value, RelayAgentSubOptionCode.CIRCUIT_ID) : undefined;
      // Delivered either way: the client never sees option 82, broken or not.
      circuit = info.ok ? (id ? `, circuit-id ${Buffer.from(id).toString('utf8')}` : '') : `, echoed option 82 unreadable: ${info.error.message}`;
    }
    const delivered: Dhcp4Packet = { ...reply, options: reply.options.filter((o) => o.code !== RELAY_AGENT_INFO_OPTION) };
    delete delivered.padding;
    const to = this.destination(reply);
    port.send(encodeDhcp4(delivered), to.address, to.port).catch((e: unknown) => this.drop('send-failed', `${peer(to)}: ${e instanceof Error ? e.message : String(e)}`, who));
    this.stats.relayedDown++;
    this.emit({ type: 'relay.reply', ...who, detail: `${describe(reply)} from ${peer(from)} to ${peer(to)}${reply.yiaddr !== ZERO ? ` (${reply.yiaddr})` : ''}${circuit}, option 82 removed` });
  }

  /**
   * RFC 1542 §4.1.2, without the unicast to yiaddr: that needs an ARP entry for an address
   * the client does not hold yet, which a UDP socket cannot write (a raw socket could).
   * Clients accept the broadcast instead, which is why RFC 2131 lets them ask for it.
   */
  private destination(reply: Dhcp4Packet): DatagramPeer {
    if (this.config.replyTo === 'source') {
      const sender = this.senders.get(requestKey(reply));
      if (sender) return sender;
    }
    if (reply.broadcast || reply.ciaddr === ZERO) return { address: LIMITED_BROADCAST, port: this.clientPort };
    return { address: reply.ciaddr, port: this.clientPort };
  }

  private remember(req: Dhcp4Packet, from: DatagramPeer): void {
    const key = requestKey(req);
    // Re-inserted so that a retransmission counts as recent.
    this.senders.delete(key);
    this.senders.set(key, from);
    if (this.senders.size > this.maxRemembered) this.senders.delete(this.senders.keys().next().value!);
  }

  private drop(reason: string, detail: string, who: { mac?: string; xid?: number } = {}): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    this.emit({ type: 'relay.dropped', ...who, detail: `${reason}: ${detail}` });
  }

  private emit(e: Dhcp4RelayEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not take the relay down with it.
    }
  }
}

/** Throws BootlabError BL_RELAY_CONFIG naming the first field that is wrong. */
export function validateRelayConfig(c: Dhcp4RelayConfig): void {
  const bad = (what: string): never => {
    throw new BootlabError('BL_RELAY_CONFIG', `relay: ${what}`);
  };
  if (!isUnicastIpv4(c.listen.address)) bad(`listen address '${c.listen.address}' must be a unicast IPv4 address of this host (it becomes giaddr)`);
  checkPort('listen port', c.listen.port, 0, bad);
  if (c.giaddr !== undefined && !isUnicastIpv4(c.giaddr)) bad(`giaddr '${c.giaddr}' must be a unicast IPv4 address`);
  if (c.servers.length === 0) bad('needs at least one server');
  for (const s of c.servers) {
    if (!parseIpv4(s.address) || s.address === ZERO) bad(`server '${s.address}' is not an IPv4 address`);
    checkPort(`server ${s.address} port`, s.port, 1, bad);
  }
  if (c.clientPort !== undefined) checkPort('client port', c.clientPort, 1, bad);
  if (c.maxHops !== undefined && (!Number.isInteger(c.maxHops) || c.maxHops < 1 || c.maxHops > HOPS_CEILING)) {
    bad(`max hops ${c.maxHops} is not an integer in 1..${HOPS_CEILING} (RFC 1542 §4.1.1)`);
  }
  if (c.maxRemembered !== undefined && (!Number.isInteger(c.maxRemembered) || c.maxRemembered < 1)) bad(`max remembered ${c.maxRemembered} is not a positive integer`);
  // Fails now, with the flag's value, rather than on the first request.
  try {
    encodeRelayAgentInfo(relayAgentInfo(c.agentIds));
  } catch (e) {
    bad(`circuit id / remote id: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function isUnicastIpv4(address: string): boolean {
  const b = parseIpv4(address);
  return b !== undefined && address !== ZERO && address !== LIMITED_BROADCAST && b[0]! < 224;
}

function checkPort(what: string, port: number, min: number, bad: (what: string) => never): void {
  if (!Number.isInteger(port) || port < min || port > 65535) bad(`${what} ${port} is not an integer in ${min}..65535`);
}

/** A reply carries the xid and chaddr of the request it answers (RFC 2131 table 3). */
function requestKey(p: Dhcp4Packet): string {
  return `${p.xid}/${p.chaddr}`;
}

function describe(p: Dhcp4Packet): string {
  const t = messageType(p);
  return `${t !== undefined ? messageTypeName(t) : p.op === 'request' ? 'BOOTREQUEST' : 'BOOTREPLY'} ${p.chaddr}`;
}

function peer(p: DatagramPeer): string {
  return `${p.address}:${p.port}`;
}
