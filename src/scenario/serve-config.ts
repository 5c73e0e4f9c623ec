import { networkInterfaces } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { BootlabError } from '../errors.js';
import type { Dhcp4ServerConfig } from '../net/dhcp4/server.js';
import type { ProxyDhcpConfig } from '../net/dhcp4/proxy-server.js';
import type { Dhcp6ServerConfig } from '../net/dhcp6/server.js';
import type { HttpImageServerConfig } from '../net/http-image-server.js';
import type { HttpLimits } from '../net/http-limits.js';
import { DEFAULT_INTERFACE_WAIT_MS, interfaceIpv4, systemInterfaceLookup, tableLookup, type InterfaceLookup, type InterfaceTable, type InterfaceWait } from '../net/interface-address.js';
import { readHttpTls } from './serve-http-tls.js';
import type { TftpServerConfig } from '../net/tftp/server.js';
import type { RouterAdvertiserConfig } from '../net/icmp6/router-advertiser.js';
import { planIpv6, type Ipv6Flags } from './serve-ipv6.js';
import { parseIpv6 } from '../protocol/dhcp6/options.js';
import {
  dhcpClassSchema,
  dhcpOptionsSchema,
  serveReservationSchema,
  dhcpSubnetSchema,
  durationSchema,
  ipv4Schema,
  leaseDurationSchema,
  parseDuration,
  toClassRule,
  toOptionValues,
  toSubnet,
} from './dhcp-schema.js';
import { faultsSchema, toFaultPlan } from './faults-schema.js';
import { parseYamlFile, readYamlText, type FailAt } from './yaml-file.js';
import { planProxy, planReservations } from './serve-proxy.js';
import { checkDhcpRange, checkInstallerUrl, checkServeDir } from './serve-checks.js';
import type { FaultPlan } from '../net/faults.js';

/**
 * `bootlab serve` configuration: a YAML file, flags, or both (flags win). It maps onto
 * exactly the server configs a scenario run uses, so serve and run share every line of
 * protocol code.
 */
const rangeSchema = z
  .string()
  .regex(/^[\d.]+-[\d.]+$/, 'expected START-END, e.g. 10.0.0.100-10.0.0.200')
  .transform((r) => {
    const [start, end] = r.split('-') as [string, string];
    return { start, end };
  })
  .pipe(z.object({ start: ipv4Schema, end: ipv4Schema }));

export const serveFileSchema = z
  .object({
    /** Interface whose IPv4 address becomes the server id (Node cannot bind a socket to an interface). */
    interface: z.string().optional(),
    /** Address the sockets bind; 0.0.0.0 so broadcasts reach the DHCP server. */
    bind: ipv4Schema.default('0.0.0.0'),
    /** Seed of the injected faults: the same seed drops the same datagrams. */
    seed: z.union([z.number().int(), z.string()]).default(1),
    dhcp: z
      .object({
        port: z.number().int().min(1).max(65535).default(67),
        clientPort: z.number().int().min(1).max(65535).default(68),
        serverId: ipv4Schema.optional(),
        /** Absent: no addresses are leased (with --proxy-dhcp, the classes and reservations feed the proxy). */
        range: rangeSchema.optional(),
        subnetMask: ipv4Schema.default('255.255.255.0'),
        leaseTime: leaseDurationSchema.default(3_600_000),
        leaseFile: z.string().optional(),
        options: dhcpOptionsSchema.default({}),
        classes: z.array(dhcpClassSchema).default([]),
        /** An address per host; with --proxy-dhcp, boot options per host instead. */
        reservations: z.array(serveReservationSchema).default([]),
        /** Further subnets, for requests that come through relays. */
        subnets: z.array(dhcpSubnetSchema).default([]),
        faults: faultsSchema.optional(),
      })
      .strict()
      .optional(),
    tftp: z
      .object({
        root: z.string().min(1),
        port: z.number().int().min(0).max(65535).default(69),
        /** Accept uploads (WRQ) into this directory; none: every write is refused. */
        writeDir: z.string().min(1).optional(),
        maxWriteBytes: z.number().int().positive().optional(),
        maxBlksize: z.number().int().min(8).max(65464).optional(),
        maxWindowsize: z.number().int().min(1).max(65535).optional(),
        /** Wait before a retransmission when the client sets no timeout option. */
        retransmit: durationSchema.optional(),
        /** µs to keep polling for an ACK after sending DATA instead of sleeping (0: off). */
        busyPoll: z.number().int().min(0).max(100_000).optional(),
        /** Transfers at once, in all and from one client address (over budget: error 0 "server busy"). */
        maxTransfers: z.number().int().min(1).max(1_000_000).optional(),
        maxTransfersPerClient: z.number().int().min(1).max(1_000_000).optional(),
        /** Longest one transfer may run in all. */
        maxTransferTime: durationSchema.refine((ms) => ms > 0, 'a transfer time limit must be longer than 0').optional(),
        faults: faultsSchema.optional(),
      })
      .strict()
      .optional(),
    http: z
      .object({
        root: z.string().min(1),
        /** Default 80, or 443 with TLS. */
        port: z.number().int().min(0).max(65535).optional(),
        /** Serve HTTPS with this PEM certificate (chain) and key. */
        tlsCert: z.string().min(1).optional(),
        tlsKey: z.string().min(1).optional(),
        maxConnections: z.number().int().positive().optional(),
        maxPerClient: z.number().int().positive().optional(),
        idleTimeout: durationSchema.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ServeFile = z.output<typeof serveFileSchema>;

/** Command-line flags of `bootlab serve`; each overrides the file's value. */
export interface ServeFlags {
  config?: string;
  interface?: string;
  /** How long to wait for --interface to get an IPv4 address (seconds or a duration; 0: do not wait). */
  interfaceWait?: string;
  bind?: string;
  serverId?: string;
  dhcpRange?: string;
  dhcpPort?: string;
  clientPort?: string;
  subnetMask?: string;
  leaseTime?: string;
  leaseFile?: string;
  router?: string[];
  dns?: string[];
  defaultUrl?: string;
  onieInstallerUrl?: string;
  nextServer?: string;
  bootFile?: string;
  bootFileName?: string;
  httpRoot?: string;
  httpPort?: string;
  /** HTTPS: PEM certificate (chain) and key files. */
  httpTlsCert?: string;
  httpTlsKey?: string;
  /** Budgets against floods and stalled peers (see DEFAULT_HTTP_LIMITS). */
  httpMaxConnections?: string;
  httpMaxPerClient?: string;
  httpIdleTimeout?: string;
  /** 'source' answers to the request's source address and port (loopback labs, tests). */
  replyTo?: string;
  /** proxyDHCP: answer PXE clients only, with boot information and no address. */
  proxyDhcp?: boolean;
  /** With --proxy-dhcp: leave the file out of the offer; PXE clients fetch it from this port (4011). */
  bootServerPort?: string;
  /** Start DHCPv6, leasing IPv6 addresses START-END. */
  dhcp6Range?: string;
  dhcp6Port?: string;
  /** Option 59, sent to DHCPv6 clients that ask for it. */
  dhcp6BootFileUrl?: string;
  /** Start TFTP, serving this directory read-only. */
  tftpRoot?: string;
  tftpPort?: string;
  /** Accept TFTP uploads into this directory. */
  tftpWriteDir?: string;
  /** µs of busy polling for ACKs after each DATA burst. */
  tftpBusyPoll?: string;
  /** TFTP transfers at once, in all. */
  tftpMaxTransfers?: string;
  /** TFTP transfers at once from one client address. */
  tftpMaxPerClient?: string;
  /** Longest one TFTP transfer may run (seconds or a duration). */
  tftpMaxTransferTime?: string;
}

/** The IPv6 lab flags (router advertisements, --bind6): see serve-ipv6.ts. */
export interface ServeFlags extends Ipv6Flags {}

/**
 * `bootlab serve` answers lock-step TFTP clients (PXE ROMs, busybox) from a polling loop
 * for 1 ms after each DATA burst: at LAN round trips this is the difference between
 * waiting on a thread wake-up per block and not (bench/tftp), for one busy core while
 * transfers run.
 */
export const DEFAULT_TFTP_BUSY_POLL_US = 1000;

export interface ServePlan {
  dhcp?: Dhcp4ServerConfig & { leaseFile?: string; faults?: FaultPlan };
  proxy?: ProxyDhcpConfig;
  dhcp6?: Dhcp6ServerConfig;
  tftp?: TftpServerConfig & { faults?: FaultPlan };
  http?: HttpImageServerConfig;
  /** Router advertisements, so IPv6 firmware starts DHCPv6 (M/O flags). */
  ra?: RouterAdvertiserConfig;
  /** HTTP and TFTP also listen here (IPv6), each with budgets of its own. */
  bind6?: string;
  /** Seed of the injected faults. */
  seed: number | string;
}

/** Builds the server configs from a config file and flags. A service starts only when configured. */
export async function planServe(
  flags: ServeFlags,
  interfaces: InterfaceTable | InterfaceLookup = systemInterfaceLookup(),
  opts: { interfaceWait?: Omit<InterfaceWait, 'waitMs'> } = {},
): Promise<ServePlan> {
  let file: Partial<ServeFile> = {};
  let baseDir = process.cwd();
  let failAt: FailAt | undefined;
  if (flags.config) {
    const parsed = parseYamlFile(await readYamlText(flags.config, 'config'), flags.config, serveFileSchema);
    file = parsed.value;
    failAt = parsed.fail;
    baseDir = dirname(resolve(flags.config));
  }
  const flag = (name: string, value: string | undefined): string | undefined => {
    if (value !== undefined && value.trim() === '') throw new BootlabError('BL_CLI_INPUT', `--${name} is empty`);
    return value;
  };
  const checked = <T>(name: string, schema: z.ZodType<T>, value: string | undefined): T | undefined => {
    if (flag(name, value) === undefined) return undefined;
    const r = schema.safeParse(value);
    if (!r.success) throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: ${r.error.issues[0]!.message}`);
    return r.data;
  };
  const int = (name: string, value: string | undefined): number | undefined =>
    checked(name, z.coerce.number().int().min(0).max(65535), value);

  const bind = checked('bind', ipv4Schema, flags.bind) ?? file.bind ?? '0.0.0.0';
  const iface = flags.interface ?? file.interface;
  const lookup = typeof interfaces === 'function' ? interfaces : tableLookup(() => interfaces);
  const interfaceWaitMs = flags.interfaceWait !== undefined ? parseDurationFlag('interface-wait', flags.interfaceWait, durationSchema) : DEFAULT_INTERFACE_WAIT_MS;
  // Looked up once, and only when a service needs the address: a wait is announced once.
  let ifaceAddress: Promise<string> | undefined;
  const interfaceAddress = (name: string): Promise<string> => (ifaceAddress ??= interfaceIpv4(name, lookup, { ...opts.interfaceWait, waitMs: interfaceWaitMs }));
  // A socket bound to a unicast address is the server's own address: the natural server id.
  const boundId = bind !== '0.0.0.0' ? bind : undefined;
  const plan: ServePlan = { seed: file.seed ?? 1 };

  const range = checked('dhcp-range', rangeSchema, flags.dhcpRange) ?? file.dhcp?.range;
  // Where a file value is named: its key, prefixed by the file.
  const key = (k: string): string => `${flags.config}: ${k}`;
  if (flags.bootServerPort !== undefined && !flags.proxyDhcp) {
    throw new BootlabError('BL_CLI_INPUT', `--boot-server-port ${flags.bootServerPort}: only with --proxy-dhcp (the PXE boot server is part of the proxy)`);
  }
  if (flags.proxyDhcp) {
    if (range) throw new BootlabError('BL_CLI_INPUT', '--proxy-dhcp and --dhcp-range both answer on port 67: a proxy runs next to another DHCP server');
    const serverId = checked('server-id', ipv4Schema, flags.serverId) ?? file.dhcp?.serverId ?? (iface ? await interfaceAddress(iface) : boundId);
    if (!serverId) throw new BootlabError('BL_CLI_INPUT', 'proxyDHCP needs a server id: give --server-id, --interface or --bind');
    plan.proxy = planProxy(
      file.dhcp,
      {
        bind: { address: bind, port: int('dhcp-port', flags.dhcpPort) ?? file.dhcp?.port ?? 67 },
        bootServerPort: int('boot-server-port', flags.bootServerPort),
        serverId,
        replyTo: checked('reply-to', z.enum(['broadcast', 'source']), flags.replyTo) ?? 'broadcast',
        clientPort: int('client-port', flags.clientPort) ?? file.dhcp?.clientPort ?? 68,
        nextServer: checked('next-server', ipv4Schema, flags.nextServer),
        bootFile: flag('boot-file', flags.bootFile),
        bootFileName: flag('boot-file-name', flags.bootFileName),
      },
      failAt,
    );
  } else if (file.dhcp && !range) {
    failAt!(['dhcp'], 'has no range: give dhcp.range (or --dhcp-range) to lease addresses, or --proxy-dhcp to serve only boot information next to another DHCP server');
  }
  if (range) {
    const d = file.dhcp;
    const serverId = checked('server-id', ipv4Schema, flags.serverId) ?? d?.serverId ?? (iface ? await interfaceAddress(iface) : boundId);
    if (!serverId) {
      throw new BootlabError('BL_CLI_INPUT', 'DHCP needs a server id: give --server-id, --interface to take its IPv4 address, or --bind');
    }
    const leaseTime = flags.leaseTime !== undefined ? parseDurationFlag('lease-time', flags.leaseTime, leaseDurationSchema) : (d?.leaseTime ?? 3_600_000);
    const options = toOptionValues(d?.options ?? {});
    if (flags.router) options.router = flags.router.map((r) => checked('router', ipv4Schema, r)!);
    if (flags.dns) options.dns = flags.dns.map((r) => checked('dns', ipv4Schema, r)!);
    if (flags.defaultUrl !== undefined) {
      checkInstallerUrl('--default-url', flag('default-url', flags.defaultUrl)!);
      options.defaultUrl = flags.defaultUrl;
    }
    if (flags.onieInstallerUrl !== undefined) {
      checkInstallerUrl('--onie-installer-url', flag('onie-installer-url', flags.onieInstallerUrl)!);
      options.onie = { ...options.onie, installerUrl: flags.onieInstallerUrl };
    }
    if (flags.nextServer !== undefined) options.nextServer = checked('next-server', ipv4Schema, flags.nextServer)!;
    if (flags.bootFile !== undefined) options.bootFile = flag('boot-file', flags.bootFile)!;
    if (flags.bootFileName !== undefined) options.bootFileName = flag('boot-file-name', flags.bootFileName)!;
    const subnetMask = checked('subnet-mask', ipv4Schema, flags.subnetMask) ?? d?.subnetMask ?? '255.255.255.0';
    checkDhcpRange(range, subnetMask, {
      range: flags.dhcpRange !== undefined ? '--dhcp-range' : key('dhcp.range'),
      mask: flags.subnetMask !== undefined ? '--subnet-mask' : d ? key('dhcp.subnetMask') : 'the default --subnet-mask',
    });
    const leaseFile = flags.leaseFile ?? (d?.leaseFile !== undefined ? pathFrom(baseDir, d.leaseFile) : undefined);
    plan.dhcp = {
      bind: { address: bind, port: int('dhcp-port', flags.dhcpPort) ?? d?.port ?? 67 },
      serverId,
      replyTo: checked('reply-to', z.enum(['broadcast', 'source']), flags.replyTo) ?? 'broadcast',
      clientPort: int('client-port', flags.clientPort) ?? d?.clientPort ?? 68,
      pool: {
        start: range.start,
        end: range.end,
        subnetMask,
        leaseSeconds: Math.max(1, Math.round(leaseTime / 1000)),
        reservations: planReservations(d?.reservations ?? [], failAt),
      },
      options,
      classes: (d?.classes ?? []).map((c) => toClassRule(c)),
      subnets: (d?.subnets ?? []).map(toSubnet),
      ...(leaseFile !== undefined ? { leaseFile } : {}),
      ...(d?.faults ? { faults: toFaultPlan(d.faults) } : {}),
    };
  } else if (!flags.proxyDhcp && (flags.dhcpPort || flags.defaultUrl || flags.onieInstallerUrl || flags.router || flags.dns)) {
    throw new BootlabError('BL_CLI_INPUT', 'DHCP options were given but no --dhcp-range: DHCP starts only with an address range');
  }

  if (flags.dhcp6Range !== undefined) {
    const [start, end] = flags.dhcp6Range.split('-');
    if (!start || !end || !parseIpv6(start) || !parseIpv6(end)) {
      throw new BootlabError('BL_CLI_INPUT', `--dhcp6-range ${flags.dhcp6Range}: expected START-END IPv6 addresses, e.g. 2001:db8::100-2001:db8::1ff`);
    }
    plan.dhcp6 = {
      bind: { address: '::', port: int('dhcp6-port', flags.dhcp6Port) ?? 547 },
      pool: { start, end, preferredSeconds: 3600, validSeconds: 7200 },
      ...(flags.dhcp6BootFileUrl !== undefined ? { options: { bootFileUrl: flags.dhcp6BootFileUrl } } : {}),
    };
  }

  const t = file.tftp;
  const tftpRoot = flags.tftpRoot !== undefined ? resolve(flag('tftp-root', flags.tftpRoot)!) : t ? pathFrom(baseDir, t.root) : undefined;
  if (tftpRoot !== undefined) {
    const writeDir = flags.tftpWriteDir !== undefined ? resolve(flag('tftp-write-dir', flags.tftpWriteDir)!) : t?.writeDir ? pathFrom(baseDir, t.writeDir) : undefined;
    await checkServeDir(flags.tftpRoot !== undefined ? '--tftp-root' : key('tftp.root'), tftpRoot);
    if (writeDir !== undefined) await checkServeDir(flags.tftpWriteDir !== undefined ? '--tftp-write-dir' : key('tftp.writeDir'), writeDir);
    plan.tftp = {
      root: tftpRoot,
      bind: { address: bind, port: int('tftp-port', flags.tftpPort) ?? t?.port ?? 69 },
      ...(writeDir !== undefined ? { write: { dir: writeDir, ...(t?.maxWriteBytes !== undefined ? { maxBytes: t.maxWriteBytes } : {}) } } : {}),
      ...(t?.maxBlksize !== undefined ? { maxBlksize: t.maxBlksize } : {}),
      ...(t?.maxWindowsize !== undefined ? { maxWindowsize: t.maxWindowsize } : {}),
      ...(t?.retransmit !== undefined ? { retransmitMs: t.retransmit } : {}),
      busyPollUs: checked('tftp-busy-poll', z.coerce.number().int().min(0).max(100_000), flags.tftpBusyPoll) ?? t?.busyPoll ?? DEFAULT_TFTP_BUSY_POLL_US,
      ...optional('maxTransfers', checked('tftp-max-transfers', z.coerce.number().int().min(1).max(1_000_000), flags.tftpMaxTransfers) ?? t?.maxTransfers),
      ...optional('maxTransfersPerClient', checked('tftp-max-per-client', z.coerce.number().int().min(1).max(1_000_000), flags.tftpMaxPerClient) ?? t?.maxTransfersPerClient),
      ...optional('maxTransferMs', flags.tftpMaxTransferTime !== undefined ? positiveDuration('tftp-max-transfer-time', flags.tftpMaxTransferTime) : t?.maxTransferTime),
      ...(t?.faults ? { faults: toFaultPlan(t.faults) } : {}),
    };
  } else if (flags.tftpPort || flags.tftpWriteDir || flags.tftpBusyPoll || flags.tftpMaxTransfers || flags.tftpMaxPerClient || flags.tftpMaxTransferTime) {
    const given = flags.tftpPort
      ? 'tftp-port'
      : flags.tftpWriteDir
        ? 'tftp-write-dir'
        : flags.tftpBusyPoll
          ? 'tftp-busy-poll'
          : flags.tftpMaxTransfers
            ? 'tftp-max-transfers'
            : flags.tftpMaxPerClient
              ? 'tftp-max-per-client'
              : 'tftp-max-transfer-time';
    throw new BootlabError('BL_CLI_INPUT', `--${given} without --tftp-root: TFTP starts only with a directory to serve`);
  }

  const httpRoot = flags.httpRoot ?? (file.http ? pathFrom(baseDir, file.http.root) : undefined);
  if (httpRoot) {
    const h = file.http;
    await checkServeDir(flags.httpRoot !== undefined ? '--http-root' : key('http.root'), resolve(httpRoot));
    const tls = await readHttpTls(
      flags.httpTlsCert !== undefined ? { flag: 'http-tls-cert', path: flag('http-tls-cert', flags.httpTlsCert)! } : h?.tlsCert ? { flag: 'http.tlsCert', path: pathFrom(baseDir, h.tlsCert) } : undefined,
      flags.httpTlsKey !== undefined ? { flag: 'http-tls-key', path: flag('http-tls-key', flags.httpTlsKey)! } : h?.tlsKey ? { flag: 'http.tlsKey', path: pathFrom(baseDir, h.tlsKey) } : undefined,
    );
    const positive = z.coerce.number().int().positive();
    const limits: Partial<HttpLimits> = {};
    const maxConnections = checked('http-max-connections', positive, flags.httpMaxConnections) ?? h?.maxConnections;
    const maxPerClient = checked('http-max-per-client', positive, flags.httpMaxPerClient) ?? h?.maxPerClient;
    const idleTimeoutMs = flags.httpIdleTimeout !== undefined ? parseDurationFlag('http-idle-timeout', flags.httpIdleTimeout, durationSchema) : h?.idleTimeout;
    if (maxConnections !== undefined) limits.maxConnections = maxConnections;
    if (maxPerClient !== undefined) limits.maxPerClient = maxPerClient;
    if (idleTimeoutMs !== undefined) {
      if (idleTimeoutMs < 1) throw new BootlabError('BL_CLI_INPUT', '--http-idle-timeout must be at least 1 ms');
      limits.idleTimeoutMs = idleTimeoutMs;
    }
    plan.http = {
      root: resolve(httpRoot),
      bind: { address: bind, port: int('http-port', flags.httpPort) ?? h?.port ?? (tls ? 443 : 80) },
      ...(Object.keys(limits).length ? { limits } : {}),
      ...(tls ? { tls } : {}),
    };
  } else if (flags.httpPort || flags.httpTlsCert || flags.httpTlsKey || flags.httpMaxConnections || flags.httpMaxPerClient || flags.httpIdleTimeout) {
    const given = flags.httpPort ? 'http-port' : flags.httpTlsCert ? 'http-tls-cert' : flags.httpTlsKey ? 'http-tls-key' : flags.httpMaxConnections ? 'http-max-connections' : flags.httpMaxPerClient ? 'http-max-per-client' : 'http-idle-timeout';
    throw new BootlabError('BL_CLI_INPUT', `--${given} without --http-root: HTTP starts only with a directory to serve`);
  }
  // IPv6 needs only a MAC for the RA's source option and, without --interface, the
  // interfaces that have IPv6 now: the table has both for every interface with carrier.
  const table: InterfaceTable = typeof interfaces === 'function' ? networkInterfaces() : interfaces;
  Object.assign(plan, planIpv6(flags, { iface, interfaces: table, dhcp6: plan.dhcp6 !== undefined }));
  if (plan.dhcp6) plan.dhcp6.multicastInterfaces = iface !== undefined ? [iface] : ipv6Interfaces(table);
  if (!plan.dhcp && !plan.proxy && !plan.dhcp6 && !plan.tftp && !plan.http && !plan.ra) {
    throw new BootlabError('BL_CLI_INPUT', 'nothing to serve: give --dhcp-range, --proxy-dhcp, --dhcp6-range, --ra-prefix, --tftp-root and/or --http-root (or a --config file with dhcp, tftp or http)');
  }
  return plan;
}

/** `{ key: value }` when the value is set, else nothing (exactOptionalPropertyTypes). */
function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: number });
}

function positiveDuration(name: string, value: string): number {
  const ms = parseDurationFlag(name, value, durationSchema);
  if (!(ms > 0)) throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: must be longer than 0`);
  return ms;
}

/** A flag's duration, held to the same schema as the file's field of that kind (a lease time or a timer's wait). */
function parseDurationFlag(name: string, value: string, schema: typeof durationSchema | typeof leaseDurationSchema): number {
  let ms: number;
  try {
    ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  } catch {
    throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: expected seconds or a duration like 1h, 30m, 600s`);
  }
  // The flag takes the file's rule, so the two can never disagree on what is too long.
  const r = schema.safeParse(ms / 1000);
  if (!r.success) throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: ${r.error.issues[0]!.message}`);
  return ms;
}

/** Interfaces that speak IPv6 (a link-local address at least), loopback aside: where DHCPv6 listens without --interface. */
function ipv6Interfaces(interfaces: InterfaceTable): string[] {
  return Object.entries(interfaces)
    .filter(([, list]) => list?.some((a) => a.family === 'IPv6' && !a.internal))
    .map(([name]) => name);
}

function pathFrom(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
