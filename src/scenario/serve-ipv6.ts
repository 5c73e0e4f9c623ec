import { isIPv6 } from 'node:net';
import type { networkInterfaces } from 'node:os';
import { BootlabError } from '../errors.js';
import type { RouterAdvertiserConfig } from '../net/icmp6/router-advertiser.js';
import { formatIpv6, parseIpv6 } from '../protocol/dhcp6/options.js';
import { parseDuration } from './dhcp-schema.js';

/** `bootlab serve`'s IPv6 lab flags. */
export interface Ipv6Flags {
  /** HTTP and TFTP also listen on this IPv6 address (default :: once DHCPv6 or RAs run). */
  bind6?: string;
  /** Advertise this on-link prefix (repeatable), e.g. 2001:db8:1::/64. */
  raPrefix?: string[];
  /** M flag: addresses from DHCPv6. */
  raManaged?: boolean;
  /** O flag: other configuration from DHCPv6. */
  raOther?: boolean;
  /** MaxRtrAdvInterval (seconds or a duration). */
  raInterval?: string;
  /** Router lifetime (seconds or a duration; 0: not a default router). */
  raRouterLifetime?: string;
}

/**
 * A lab's boot firmware that missed the answer to its solicitation hears the next
 * advertisement within a minute; radvd's 600 s suits routers, not machines that boot now.
 */
export const DEFAULT_RA_INTERVAL_MS = 60_000;

/** The router advertiser's config and the IPv6 listen address for HTTP and TFTP. */
export function planIpv6(
  flags: Ipv6Flags,
  ctx: { iface: string | undefined; interfaces: ReturnType<typeof networkInterfaces>; dhcp6: boolean },
): { ra?: RouterAdvertiserConfig; bind6?: string } {
  const out: { ra?: RouterAdvertiserConfig; bind6?: string } = {};
  const prefixes = flags.raPrefix ?? [];
  if (prefixes.length === 0) {
    const stray = flags.raManaged ? 'ra-managed' : flags.raOther ? 'ra-other' : flags.raInterval !== undefined ? 'ra-interval' : flags.raRouterLifetime !== undefined ? 'ra-router-lifetime' : undefined;
    if (stray) throw new BootlabError('BL_CLI_INPUT', `--${stray} without --ra-prefix: router advertisements start only with a prefix to advertise`);
  } else {
    if (ctx.iface === undefined) throw new BootlabError('BL_CLI_INPUT', '--ra-prefix needs --interface: router advertisements go out on one link');
    const maxIntervalMs = flags.raInterval !== undefined ? seconds('ra-interval', flags.raInterval) * 1000 : DEFAULT_RA_INTERVAL_MS;
    if (maxIntervalMs < 4000 || maxIntervalMs > 1_800_000) throw new BootlabError('BL_CLI_INPUT', `--ra-interval ${flags.raInterval}: must be 4 s to 1800 s (RFC 4861 MaxRtrAdvInterval)`);
    const life = flags.raRouterLifetime !== undefined ? seconds('ra-router-lifetime', flags.raRouterLifetime) : 0;
    if (life !== 0 && (life * 1000 < maxIntervalMs || life > 9000)) {
      throw new BootlabError('BL_CLI_INPUT', `--ra-router-lifetime ${flags.raRouterLifetime}: must be 0 or from the interval (${maxIntervalMs / 1000} s) to 9000 s`);
    }
    const mac = ctx.interfaces[ctx.iface]?.find((a) => a.mac && a.mac !== '00:00:00:00:00:00')?.mac;
    out.ra = {
      interface: ctx.iface,
      prefixes: prefixes.map(parsePrefix),
      managed: flags.raManaged === true,
      other: flags.raOther === true,
      maxIntervalMs,
      routerLifetimeSeconds: life,
      ...(mac ? { sourceLinkLayer: mac } : {}),
    };
  }
  if (flags.bind6 !== undefined) {
    if (!isIPv6(flags.bind6) || flags.bind6.includes('%')) throw new BootlabError('BL_CLI_INPUT', `--bind6 ${flags.bind6}: expected an IPv6 address such as :: or 2001:db8:1::1`);
    out.bind6 = flags.bind6;
  } else if (ctx.dhcp6 || out.ra) {
    // An IPv6 lab's boot file URLs point at IPv6 addresses: serve them without being asked.
    out.bind6 = '::';
  }
  return out;
}

function parsePrefix(text: string): RouterAdvertiserConfig['prefixes'][number] {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(text);
  const bytes = m ? parseIpv6(m[1]!) : undefined;
  const length = m ? Number(m[2]) : NaN;
  if (!m || !bytes || !(length >= 1 && length <= 128)) throw new BootlabError('BL_CLI_INPUT', `--ra-prefix ${text}: expected PREFIX/LENGTH, e.g. 2001:db8:1::/64`);
  for (let bit = length; bit < 128; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) throw new BootlabError('BL_CLI_INPUT', `--ra-prefix ${text}: has bits set past /${length} (did you mean ${formatIpv6(masked(bytes, length))}/${length}?)`);
  }
  // SLAAC needs a /64; other lengths are advertised on-link only, for DHCPv6 (M) to address.
  return { prefix: formatIpv6(bytes), length, autonomous: length === 64 };
}

function masked(bytes: Uint8Array, length: number): Uint8Array {
  return bytes.map((b, i) => (i * 8 >= length ? 0 : i * 8 + 8 <= length ? b : b & (0xff << (8 - (length - i * 8)))));
}

function seconds(name: string, value: string): number {
  let ms: number;
  try {
    ms = /^\d+$/.test(value) ? Number(value) * 1000 : parseDuration(value);
  } catch {
    throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: expected seconds or a duration like 30s, 10m`);
  }
  if (ms % 1000 !== 0) throw new BootlabError('BL_CLI_INPUT', `--${name} ${value}: must be whole seconds`);
  return ms / 1000;
}
