import { BootlabError } from '../../errors.js';
import type { Clock } from '../../clock.js';
import type { Random } from '../../random.js';
import { parseIpv6 } from '../../protocol/dhcp6/options.js';
import { ICMP6_ROUTER_SOLICIT, decodeRouterSolicit, encodeRouterAdvert, type NdOption, type RouterAdvert } from '../../protocol/icmp6/router-advert.js';
import { openRawIcmp6, type Icmp6From, type Icmp6Port, type Icmp6PortFactory } from './raw-icmp6-port.js';

export interface RaPrefix {
  /** e.g. 2001:db8:1:: with length 64. */
  prefix: string;
  length: number;
  /** A flag: hosts form their own address from the prefix (SLAAC). Default true. */
  autonomous?: boolean;
  /** Default 86400 s and 14400 s (RFC 4861 §6.2.1's defaults). */
  validSeconds?: number;
  preferredSeconds?: number;
}

export interface RouterAdvertiserConfig {
  interface: string;
  prefixes: RaPrefix[];
  /** M flag: get addresses from DHCPv6 (iPXE and EDK2 then start DHCPv6). */
  managed: boolean;
  /** O flag: get other configuration from DHCPv6. */
  other: boolean;
  /** MaxRtrAdvInterval, 4 s to 1800 s. */
  maxIntervalMs: number;
  /** MinRtrAdvInterval, 3 s to 0.75 × the maximum; default RFC 4861 §6.2.1's. */
  minIntervalMs?: number;
  /** 0 (default): hosts take no default route from us; bootlab is not a router. */
  routerLifetimeSeconds?: number;
  mtu?: number;
  /** The interface's MAC, sent as the Source Link-Layer Address option so hosts skip one neighbor solicitation. */
  sourceLinkLayer?: string;
}

export interface RouterAdvertEvent {
  type: 'ra.sent' | 'ra.solicit' | 'ra.dropped' | 'ra.problem';
  /** The solicitor, or ff02::1 for an advertisement. */
  address?: string;
  detail?: string;
}

export interface RouterAdvertiserDeps {
  openPort?: Icmp6PortFactory;
  clock?: Clock;
  /** Milliseconds, on the same time line as `clock`. Default Date.now. */
  now?: () => number;
  /** Spreads the intervals (RFC 4861 §6.2.4) and the solicited delay (§6.2.6). */
  random: Random;
  onEvent?: (e: RouterAdvertEvent) => void;
}

/** RFC 4861 §10 router constants. */
const MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000;
const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
const MAX_RA_DELAY_TIME_MS = 500;
const MIN_DELAY_BETWEEN_RAS_MS = 3000;
const ALL_NODES = 'ff02::1';
const ALL_ROUTERS = 'ff02::2';

const WALL: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * Router advertisements on one interface (RFC 4861 §6.2): unsolicited ones at random
 * intervals between MinRtrAdvInterval and MaxRtrAdvInterval (the first three at most 16 s
 * apart), and an answer to each valid Router Solicitation after a random delay of up to
 * 0.5 s, never sooner than 3 s after the last one. All go to ff02::1. Solicitations that
 * came through a router (hop limit not 255) or do not decode are counted and dropped; a
 * flood of them costs one pending advertisement.
 */
export class RouterAdvertiser {
  readonly stats = { sent: 0, solicits: 0, dropped: {} as Record<string, number> };
  private port: Icmp6Port | undefined;
  private periodic: unknown;
  private solicited: unknown;
  private initialLeft = MAX_INITIAL_RTR_ADVERTISEMENTS;
  private lastSentAt = -Infinity;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly minMs: number;

  constructor(
    private readonly config: RouterAdvertiserConfig,
    private readonly deps: RouterAdvertiserDeps,
  ) {
    const bad = (m: string): never => {
      throw new BootlabError('BL_CONFIG_INVALID', `router advertisements: ${m}`);
    };
    const max = config.maxIntervalMs;
    if (!(Number.isFinite(max) && max >= 4000 && max <= 1_800_000)) bad(`the interval ${max / 1000} s is not 4 s to 1800 s (RFC 4861 MaxRtrAdvInterval)`);
    this.minMs = config.minIntervalMs ?? (max >= 9000 ? Math.round(max * 0.33) : max);
    if (config.minIntervalMs !== undefined && !(this.minMs >= 3000 && this.minMs <= 0.75 * max)) bad(`the minimum interval ${this.minMs / 1000} s is not 3 s to 0.75 × ${max / 1000} s`);
    const life = config.routerLifetimeSeconds ?? 0;
    if (!(Number.isInteger(life) && (life === 0 || (life * 1000 >= max && life <= 9000)))) bad(`router lifetime ${life} s is neither 0 nor ${Math.ceil(max / 1000)} s to 9000 s`);
    if (config.prefixes.length === 0) bad('no prefix to advertise');
    for (const p of config.prefixes) {
      if (!parseIpv6(p.prefix) || !(Number.isInteger(p.length) && p.length >= 1 && p.length <= 128)) bad(`prefix ${p.prefix}/${p.length} is not an IPv6 prefix`);
      // SLAAC forms an address from a /64 only (RFC 4862 §5.5.3 with RFC 4291's 64-bit interface ids).
      // RFC 4862 §5.5.3: hosts ignore a prefix preferred for longer than it is valid.
      if ((p.preferredSeconds ?? 14400) > (p.validSeconds ?? 86400)) bad(`prefix ${p.prefix}/${p.length}: preferred lifetime ${p.preferredSeconds ?? 14400} s is longer than the valid lifetime ${p.validSeconds ?? 86400} s`);
      if ((p.autonomous ?? true) && p.length !== 64) bad(`prefix ${p.prefix}/${p.length}: hosts form addresses (A flag) from a /64 only`);
    }
    this.clock = deps.clock ?? WALL;
    this.now = deps.now ?? Date.now;
  }

  /** The advertisement as it goes on the wire (before the kernel's checksum). */
  advertisement(routerLifetimeSeconds = this.config.routerLifetimeSeconds ?? 0): RouterAdvert {
    const c = this.config;
    const options: NdOption[] = [];
    if (c.sourceLinkLayer) options.push({ kind: 'source-link-layer', address: c.sourceLinkLayer });
    if (c.mtu !== undefined) options.push({ kind: 'mtu', mtu: c.mtu });
    for (const p of c.prefixes) {
      options.push({ kind: 'prefix', prefix: p.prefix, length: p.length, onLink: true, autonomous: p.autonomous ?? true, validSeconds: p.validSeconds ?? 86400, preferredSeconds: p.preferredSeconds ?? 14400 });
    }
    // Hop limit, reachable time and retrans timer 0: "unspecified", hosts keep their own.
    return { curHopLimit: 0, managed: c.managed, other: c.other, routerLifetimeSeconds, reachableTimeMs: 0, retransTimerMs: 0, options };
  }

  async start(): Promise<void> {
    // Fails here, with the reason, before any timer runs: a bad config never half-starts.
    encodeRouterAdvert(this.advertisement());
    const port = await (this.deps.openPort ?? openRawIcmp6)({ interface: this.config.interface, accept: [ICMP6_ROUTER_SOLICIT], join: [ALL_ROUTERS] });
    this.port = port;
    port.onProblem((detail) => this.emit({ type: 'ra.problem', detail }));
    port.onMessage((bytes, from) => this.solicit(bytes, from));
    this.advertise('initial');
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.periodic);
    this.clock.clearTimeout(this.solicited);
    this.periodic = this.solicited = undefined;
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    // §6.2.5: a router that stops tells hosts to drop it as a default router at once.
    if ((this.config.routerLifetimeSeconds ?? 0) > 0) port.send(encodeRouterAdvert(this.advertisement(0)), ALL_NODES);
    await port.close();
  }

  private solicit(bytes: Uint8Array, from: Icmp6From): void {
    // §6.1.1: a solicitation that crossed a router, or does not parse, is discarded.
    if (from.hopLimit !== 255) return this.drop('hop-limit', `from ${from.address} with hop limit ${from.hopLimit}`);
    const d = decodeRouterSolicit(bytes);
    if (!d.ok) return this.drop(d.error.code, `from ${from.address}: ${d.error.message}`);
    if (from.address === '::' && d.value.options.some((o) => o.kind === 'source-link-layer')) return this.drop('malformed', 'unspecified source with a link-layer address');
    this.stats.solicits++;
    this.emit({ type: 'ra.solicit', address: from.address });
    if (this.solicited !== undefined) return;
    const soonest = this.lastSentAt + MIN_DELAY_BETWEEN_RAS_MS;
    const at = Math.max(this.now() + this.deps.random.float() * MAX_RA_DELAY_TIME_MS, soonest);
    this.solicited = this.clock.setTimeout(() => {
      this.solicited = undefined;
      this.advertise('solicited');
    }, Math.max(0, at - this.now()));
  }

  private advertise(why: 'initial' | 'periodic' | 'solicited'): void {
    if (!this.port) return;
    this.port.send(encodeRouterAdvert(this.advertisement()), ALL_NODES);
    this.stats.sent++;
    this.lastSentAt = this.now();
    const ra = this.advertisement();
    const flags = [ra.managed ? 'M' : '', ra.other ? 'O' : ''].join('') || 'no M/O';
    const prefixes = this.config.prefixes.map((p) => `${p.prefix}/${p.length}`).join(' ');
    this.emit({ type: 'ra.sent', address: ALL_NODES, detail: `${why}, ${flags}, ${prefixes}, router lifetime ${ra.routerLifetimeSeconds} s` });
    // §6.2.4: the next unsolicited advertisement is scheduled anew after every multicast one.
    this.clock.clearTimeout(this.periodic);
    let next = this.minMs + this.deps.random.float() * (this.config.maxIntervalMs - this.minMs);
    if (this.initialLeft > 0) {
      this.initialLeft--;
      next = Math.min(next, MAX_INITIAL_RTR_ADVERT_INTERVAL_MS);
    }
    this.periodic = this.clock.setTimeout(() => this.advertise('periodic'), next);
  }

  private drop(reason: string, detail: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    this.emit({ type: 'ra.dropped', detail: `${reason}: ${detail}` });
  }

  private emit(e: RouterAdvertEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not stop the advertisements.
    }
  }
}
