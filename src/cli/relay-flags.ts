import { isIPv4 } from 'node:net';
import { BootlabError } from '../errors.js';
import type { Dhcp4RelayConfig } from '../net/dhcp4/relay-agent.js';

/** `bootlab relay` flags as commander hands them over (strings; repeatable ones as lists). */
export interface RelayFlags {
  server?: string[];
  listen?: string;
  circuitId?: string;
  remoteId?: string;
  maxHops?: string;
  upstreamPort?: string;
  downstreamPort?: string;
  clientPort?: string;
  trustOption82?: boolean;
  replyTo?: string;
}

export const RELAY_DEFAULTS = {
  circuitId: 'bootlab-relay',
  maxHops: 4,
  upstreamPort: 67,
  downstreamPort: 67,
  clientPort: 68,
} as const;

/**
 * Flags → relay config; BootlabError BL_CLI_INPUT (exit 2) naming the flag and its value
 * at the first one that cannot be used. The remote id defaults to the listen address, so
 * two relays with default flags still tell the server apart.
 */
export function planRelay(flags: RelayFlags): Dhcp4RelayConfig {
  const fail = (message: string): never => {
    throw new BootlabError('BL_CLI_INPUT', message);
  };
  const servers = flags.server ?? [];
  if (servers.length === 0) fail('relay needs a server: give --server IP (repeatable)');
  for (const s of servers) if (!isIpv4(s) || s === '0.0.0.0') fail(`--server ${s}: not an IPv4 address`);
  const listen = flags.listen ?? fail("relay needs --listen ADDR: the relay's IPv4 address on the clients' segment (it becomes giaddr)");
  if (!isIpv4(listen) || listen === '0.0.0.0' || listen === '255.255.255.255' || Number(listen.split('.')[0]) >= 224) {
    fail(`--listen ${listen}: needs a unicast IPv4 address of this host (servers answer to it as giaddr), not the wildcard or a broadcast/multicast address`);
  }
  const int = (name: string, value: string | undefined, min: number, max: number, fallback: number): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) fail(`--${name} ${value}: expected an integer in ${min}..${max}`);
    return Number(value);
  };
  const text = (name: string, value: string | undefined, fallback: string): string => {
    if (value === undefined) return fallback;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes === 0 || bytes > 253) fail(`--${name} '${value}': expected 1..253 bytes (option 82 holds both ids in 255)`);
    return value;
  };
  const replyTo = flags.replyTo ?? 'broadcast';
  if (replyTo !== 'broadcast' && replyTo !== 'source') return fail(`--reply-to ${replyTo}: expected broadcast or source`);
  const upstreamPort = int('upstream-port', flags.upstreamPort, 1, 65535, RELAY_DEFAULTS.upstreamPort);
  const circuitId = text('circuit-id', flags.circuitId, RELAY_DEFAULTS.circuitId);
  const remoteId = text('remote-id', flags.remoteId, listen);
  if (Buffer.byteLength(circuitId) + Buffer.byteLength(remoteId) + 4 > 255) fail(`--circuit-id and --remote-id: ${Buffer.byteLength(circuitId) + Buffer.byteLength(remoteId)} bytes together, option 82 holds at most 251`);
  return {
    listen: { address: listen, port: int('downstream-port', flags.downstreamPort, 0, 65535, RELAY_DEFAULTS.downstreamPort) },
    servers: servers.map((address) => ({ address, port: upstreamPort })),
    clientPort: int('client-port', flags.clientPort, 1, 65535, RELAY_DEFAULTS.clientPort),
    maxHops: int('max-hops', flags.maxHops, 1, 16, RELAY_DEFAULTS.maxHops),
    agentIds: { circuitId, remoteId },
    trustOption82: flags.trustOption82 === true,
    replyTo,
  };
}

function isIpv4(text: string): boolean {
  return isIPv4(text);
}
