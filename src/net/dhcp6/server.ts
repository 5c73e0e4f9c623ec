import { createSocket, type Socket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BootlabError } from '../../errors.js';
import { Dhcp6MessageType, Dhcp6Option, decodeDhcp6, encodeDhcp6, getOption6, optionDataOffset6, type Dhcp6Message, type Dhcp6OptionEntry } from '../../protocol/dhcp6/message.js';
import { decodeIaNa, decodeOpaqueList, decodeOro, decodeVendorClass, encodeIaNa, formatIpv6, parseIpv6 } from '../../protocol/dhcp6/options.js';
import { Dhcp6BindingTable } from './binding-table.js';

/** What a DHCPv6 server tells a class of clients. */
export interface Dhcp6Values {
  /** Option 59 (RFC 5970): the boot file URL, e.g. ONIE's installer for IPv6-only racks. */
  bootFileUrl?: string;
  /** Option 23. */
  dns?: string[];
}

export interface Dhcp6ClassRule {
  name: string;
  /** Every condition given must hold. */
  match: { userClass?: string; vendorEnterprise?: number; vendorClassPrefix?: string };
  options: Dhcp6Values;
}

export interface Dhcp6ServerConfig {
  bind: { address: string; port: number };
  /**
   * Interfaces on which to join All_DHCP_Relay_Agents_and_Servers (ff02::1:2, RFC 8415
   * §7.1): clients send SOLICIT there, and the kernel delivers a multicast datagram only
   * to a socket whose group membership covers the interface it came in on.
   */
  multicastInterfaces?: string[];
  /** Server DUID as hex; default a DUID-LL derived from the bind address. */
  serverDuid?: string;
  pool: {
    start: string;
    end: string;
    preferredSeconds: number;
    /** A bound address is forgotten this long after its last REQUEST or RENEW. */
    validSeconds: number;
    /** How long an ADVERTISE holds its address for a REQUEST (default 60). */
    advertiseHoldSeconds?: number;
    /** Most bindings (advertised and bound) kept at once; past it a new client is refused (default 65536). */
    maxBindings?: number;
  };
  options?: Dhcp6Values;
  classes?: Dhcp6ClassRule[];
  /** Answer a SOLICIT that carries Rapid Commit (14) with a REPLY at once. */
  rapidCommit?: boolean;
}

export interface Dhcp6ServerEvent {
  type: 'dhcp6.solicit' | 'dhcp6.advertise' | 'dhcp6.request' | 'dhcp6.reply' | 'dhcp6.dropped' | 'dhcp6.pool-exhausted';
  client?: string;
  address?: string;
  className?: string;
  detail?: string;
}

export interface Dhcp6ServerDeps {
  onEvent?: (e: Dhcp6ServerEvent) => void;
  /** Milliseconds; drives binding expiry. Default Date.now. */
  now?: () => number;
}

/** Long enough for a slow REQUEST, short enough that a SOLICIT flood lets go soon. */
const DEFAULT_ADVERTISE_HOLD_SECONDS = 60;
/** Some 15 MiB of bindings at most (about 230 bytes each); a rack-scale lab needs far fewer. */
const DEFAULT_MAX_BINDINGS = 65_536;

/**
 * DHCPv6 (RFC 8415) for IPv6-only provisioning: addresses from one IA_NA pool and the
 * boot file URL (option 59) per class, matched by user class (15) or vendor class (16).
 * Replies go to the request's source address and port (clients on-link or, in tests, on
 * loopback). Bad datagrams are counted and dropped.
 */
export class Dhcp6Server {
  readonly stats = { received: 0, replies: 0, dropped: {} as Record<string, number> };
  private socket: Socket | undefined;
  private readonly duid: Uint8Array;
  private readonly bindings: Dhcp6BindingTable;
  private readonly now: () => number;

  constructor(
    private readonly config: Dhcp6ServerConfig,
    private readonly deps: Dhcp6ServerDeps = {},
  ) {
    const start = parseIpv6(config.pool.start);
    const end = parseIpv6(config.pool.end);
    if (!start || !end) throw new BootlabError('BL_CONFIG_INVALID', `DHCPv6 pool ${config.pool.start}-${config.pool.end}: not IPv6 addresses`);
    const first = toBig(start);
    const last = toBig(end);
    if (first > last) throw new BootlabError('BL_CONFIG_INVALID', `DHCPv6 pool start ${config.pool.start} is after its end`);
    const { validSeconds, advertiseHoldSeconds = DEFAULT_ADVERTISE_HOLD_SECONDS, maxBindings = DEFAULT_MAX_BINDINGS } = config.pool;
    for (const [name, v] of [['validSeconds', validSeconds], ['advertiseHoldSeconds', advertiseHoldSeconds], ['maxBindings', maxBindings]] as const) {
      if (!(Number.isSafeInteger(v) && v > 0)) throw new BootlabError('BL_CONFIG_INVALID', `DHCPv6 pool.${name}: ${v} is not a positive whole number`);
    }
    this.bindings = new Dhcp6BindingTable({ first, last, validMs: validSeconds * 1000, advertiseHoldMs: advertiseHoldSeconds * 1000, maxBindings });
    this.now = deps.now ?? Date.now;
    this.duid = config.serverDuid
      ? Uint8Array.from(Buffer.from(config.serverDuid, 'hex'))
      : // DUID-LL (type 3, hardware type 1) with a stable made-up link-layer address.
        Uint8Array.from([0, 3, 0, 1, ...createHash('sha256').update(config.bind.address).digest().subarray(0, 6)]);
  }

  /** Bindings held now, advertised or bound: bounded by the pool, `maxBindings` and expiry. */
  get bindingCount(): number {
    return this.bindings.size;
  }

  /** Allocation work so far (addresses probed, bindings expired). */
  get bindingStats(): Readonly<{ probed: number; expired: number }> {
    return this.bindings.stats;
  }

  async start(): Promise<{ address: string; port: number; groups: string[] }> {
    const socket = createSocket({ type: 'udp6', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.config.bind.port, this.config.bind.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined);
    socket.on('message', (msg, rinfo) => this.receive(msg, { address: rinfo.address, port: rinfo.port }));
    this.socket = socket;
    const groups: string[] = [];
    try {
      for (const name of this.config.multicastInterfaces ?? []) {
        // By index: a scope name Node cannot resolve would silently join the default interface.
        socket.addMembership(ALL_DHCP_RELAY_AGENTS_AND_SERVERS, `::%${await interfaceIndex(name)}`);
        groups.push(`${ALL_DHCP_RELAY_AGENTS_AND_SERVERS}%${name}`);
      }
    } catch (e) {
      await this.stop();
      throw e instanceof BootlabError ? e : new BootlabError('BL_SERVE_BIND', `DHCPv6: cannot join ${ALL_DHCP_RELAY_AGENTS_AND_SERVERS}: ${(e as Error).message}`);
    }
    const a = socket.address();
    return { address: a.address, port: a.port, groups };
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private receive(bytes: Uint8Array, from: { address: string; port: number }): void {
    this.stats.received++;
    const d = decodeDhcp6(bytes);
    if (!d.ok) return this.drop(d.error.code, d.error.message);
    const reply = this.answer(d.value);
    if (!reply) return;
    this.stats.replies++;
    this.socket?.send(encodeDhcp6(reply), from.port, from.address, (e) => e && this.drop('send-failed', e.message));
  }

  /** The reply to one client message, or undefined (dropped, counted). */
  answer(m: Dhcp6Message): Dhcp6Message | undefined {
    const clientId = getOption6(m, Dhcp6Option.CLIENTID);
    if (!clientId || clientId.length === 0) return this.drop('no-client-id', `message type ${m.type} without a client DUID`);
    const client = Buffer.from(clientId).toString('hex');
    const iaData = getOption6(m, Dhcp6Option.IA_NA);
    const ia = iaData ? decodeIaNa(iaData, optionDataOffset6(m, Dhcp6Option.IA_NA)) : undefined;
    // A malformed IA_NA is bad input like any other: counted with where it broke, not half-answered.
    if (ia && !ia.ok) return this.drop(ia.error.code, ia.error.message);
    const iaid = ia?.value.iaid;
    const serverId = getOption6(m, Dhcp6Option.SERVERID);
    const forUs = serverId === undefined || Buffer.from(serverId).equals(Buffer.from(this.duid));
    const { values, className } = this.classify(m);
    const base = { client, ...(className !== undefined ? { className } : {}) };
    switch (m.type) {
      case Dhcp6MessageType.SOLICIT: {
        this.emit({ type: 'dhcp6.solicit', ...base });
        const rapid = this.config.rapidCommit === true && getOption6(m, Dhcp6Option.RAPID_COMMIT) !== undefined;
        const now = this.now();
        const got = rapid ? this.bindings.bind(client, now) : this.bindings.advertise(client, now);
        if (!got.ok) {
          this.count(got.reason);
          this.emit({ type: 'dhcp6.pool-exhausted', ...base, detail: got.reason === 'pool-exhausted' ? 'no free address' : 'too many bindings held' });
          return undefined;
        }
        const address = got.address;
        this.emit({ type: rapid ? 'dhcp6.reply' : 'dhcp6.advertise', ...base, address: formatIpv6(fromBig(address)) });
        return this.reply(m, rapid ? Dhcp6MessageType.REPLY : Dhcp6MessageType.ADVERTISE, clientId, values, iaid, address, rapid);
      }
      case Dhcp6MessageType.REQUEST:
      case Dhcp6MessageType.RENEW: {
        if (!forUs) return this.drop('other-server', `${client} chose another server`);
        this.emit({ type: 'dhcp6.request', ...base });
        const got = this.bindings.bind(client, this.now());
        if (!got.ok) return this.drop(got.reason, client);
        const address = got.address;
        this.emit({ type: 'dhcp6.reply', ...base, address: formatIpv6(fromBig(address)) });
        return this.reply(m, Dhcp6MessageType.REPLY, clientId, values, iaid, address, false);
      }
      case Dhcp6MessageType.RELEASE: {
        if (!forUs) return this.drop('other-server', client);
        this.bindings.release(client);
        return this.reply(m, Dhcp6MessageType.REPLY, clientId, {}, undefined, undefined, false);
      }
      case Dhcp6MessageType.INFORMATION_REQUEST:
        return this.reply(m, Dhcp6MessageType.REPLY, clientId, values, undefined, undefined, false);
      default:
        return this.drop('unexpected-message-type', `message type ${m.type}`);
    }
  }

  private reply(m: Dhcp6Message, type: number, clientId: Uint8Array, values: Dhcp6Values, iaid: number | undefined, address: bigint | undefined, rapid: boolean): Dhcp6Message {
    const options: Dhcp6OptionEntry[] = [
      { code: Dhcp6Option.SERVERID, data: this.duid },
      { code: Dhcp6Option.CLIENTID, data: clientId },
    ];
    // A client that asked for no IA gets no address (an INFORMATION-REQUEST, say).
    if (address !== undefined && iaid !== undefined) {
      const { preferredSeconds: p, validSeconds: v } = this.config.pool;
      options.push({
        code: Dhcp6Option.IA_NA,
        data: encodeIaNa({ iaid, t1: Math.floor(p / 2), t2: Math.floor(p * 0.8), addresses: [{ address: formatIpv6(fromBig(address)), preferred: p, valid: v }], options: [] }),
      });
    }
    if (rapid) options.push({ code: Dhcp6Option.RAPID_COMMIT, data: new Uint8Array() });
    const oro = getOption6(m, Dhcp6Option.ORO);
    const asked = new Set(oro ? decodeOro(oro) : []);
    if (values.dns?.length && asked.has(Dhcp6Option.DNS_SERVERS)) {
      options.push({ code: Dhcp6Option.DNS_SERVERS, data: Uint8Array.from(values.dns.flatMap((a) => [...(parseIpv6(a) ?? new Uint8Array(16))])) });
    }
    if (values.bootFileUrl !== undefined && asked.has(Dhcp6Option.BOOTFILE_URL)) {
      options.push({ code: Dhcp6Option.BOOTFILE_URL, data: Uint8Array.from(Buffer.from(values.bootFileUrl, 'utf8')) });
    }
    return { type, transactionId: m.transactionId, options };
  }

  private classify(m: Dhcp6Message): { values: Dhcp6Values; className?: string } {
    const global = this.config.options ?? {};
    const uc = getOption6(m, Dhcp6Option.USER_CLASS);
    const userClasses = uc ? (decodeOpaqueList(uc) ?? []) : [];
    const vcData = getOption6(m, Dhcp6Option.VENDOR_CLASS);
    const vc = vcData ? decodeVendorClass(vcData) : undefined;
    for (const rule of this.config.classes ?? []) {
      const r = rule.match;
      if (r.userClass !== undefined && !userClasses.includes(r.userClass)) continue;
      if (r.vendorEnterprise !== undefined && vc?.enterprise !== r.vendorEnterprise) continue;
      if (r.vendorClassPrefix !== undefined && !(vc?.items.some((i) => i.startsWith(r.vendorClassPrefix!)) ?? false)) continue;
      return { values: { ...global, ...rule.options }, className: rule.name };
    }
    return { values: global };
  }

  private drop(reason: string, detail: string): undefined {
    this.count(reason);
    this.emit({ type: 'dhcp6.dropped', detail: `${reason}: ${detail}` });
    return undefined;
  }

  private count(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  private emit(e: Dhcp6ServerEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not stop the server.
    }
  }
}

const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = 'ff02::1:2';

/** The kernel's index of an interface, carrier or not (Linux sysfs). */
async function interfaceIndex(name: string): Promise<number> {
  // A name with a slash or dots would read another sysfs file: only interface names pass.
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name) || name === '.' || name === '..') throw new BootlabError('BL_CLI_INPUT', `DHCPv6: '${name}' is not an interface name`);
  const text = await readFile(`/sys/class/net/${name}/ifindex`, 'utf8').catch(() => undefined);
  const index = Number(text?.trim());
  if (!Number.isSafeInteger(index) || index <= 0) throw new BootlabError('BL_CLI_INPUT', `DHCPv6: no interface ${name} to join ${ALL_DHCP_RELAY_AGENTS_AND_SERVERS} on`);
  return index;
}

function toBig(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function fromBig(n: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(n.toString(16).padStart(32, '0'), 'hex'));
}
