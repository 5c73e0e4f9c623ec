import { BootlabError } from '../../errors.js';
import { getOption } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { ClassRules, type ReplyProfile } from './class-rules.js';
import { mergeOptionValues } from './option-values.js';
import type { Dhcp4ClassRule, Dhcp4OptionValues } from './server-config.js';

/**
 * A proxy's reservation: one host (by MAC, or by option 61) and its own boot options —
 * dnsmasq's per-host dhcp-boot. A proxy gives no addresses, so a reservation holds none;
 * its options go over the host's class rule, field by field (global < class < host).
 */
export interface ProxyDhcpReservation {
  mac?: string;
  /** Option 61 as hex, type byte included (iPXE: `01` + MAC; EDK2 sends none). */
  clientId?: string;
  options: Dhcp4OptionValues;
}

/**
 * What a proxy may say: boot information only. The lease options (mask, router, DNS...)
 * are the address server's, and two servers giving them would disagree.
 */
const BOOT_OPTIONS: ReadonlySet<keyof Dhcp4OptionValues> = new Set([
  'nextServer',
  'bootFile',
  'serverName',
  'tftpServerName',
  'bootFileName',
  'pxeDiscoveryControl',
  'pxeBootServers',
  'pxeBootMenu',
  'pxeMenuPrompt',
] satisfies Array<keyof Dhcp4OptionValues>);

/** The profile for one PXE request, and which reservation (if any) shaped it. */
export interface ProxySelection {
  profile: ReplyProfile;
  host?: string;
}

/** Class rules and reservations of a proxy: which boot information one PXE client gets. */
export class ProxyRules {
  private readonly all: ClassRules;
  private readonly byMac = new Map<string, ClassRules>();
  private readonly byId = new Map<string, ClassRules>();

  constructor(input: { options?: Dhcp4OptionValues; classes: Dhcp4ClassRule[]; reservations?: ProxyDhcpReservation[] }) {
    const problem = findProxyRuleProblem(input);
    if (problem) throw new BootlabError('BL_CONFIG_INVALID', `proxyDHCP config: ${problem.path.join('.')}: ${problem.why}`);
    const global = input.options ?? {};
    this.all = new ClassRules({ options: global, classes: input.classes });
    for (const r of input.reservations ?? []) {
      // Encoded once per host: every class's options with the host's on top.
      const rules = new ClassRules({
        options: mergeOptionValues(global, r.options),
        classes: input.classes.map((c) => ({ ...c, options: mergeOptionValues(c.options, r.options) })),
      });
      if (r.clientId !== undefined) this.byId.set(r.clientId.toLowerCase(), rules);
      if (r.mac !== undefined) this.byMac.set(r.mac.toLowerCase(), rules);
    }
  }

  /** By option 61 first, then by MAC (as the full server finds reservations); else the class rules alone. */
  select(req: Dhcp4Packet): ProxySelection {
    const id = this.byId.size > 0 ? getOption(req, 61) : undefined;
    const idHex = id ? Buffer.from(id).toString('hex') : undefined;
    const byId = idHex !== undefined ? this.byId.get(idHex) : undefined;
    if (byId) return { profile: byId.classify(req), host: `client id ${idHex}` };
    const byMac = this.byMac.get(req.chaddr);
    if (byMac) return { profile: byMac.classify(req), host: req.chaddr };
    return { profile: this.all.classify(req) };
  }
}

/** True when the profile names something to boot (a file, option 67, or PXE option 43). */
export function hasBootInformation(p: ReplyProfile): boolean {
  return p.header.file !== '' || p.options.has(67) || p.options.has(43);
}

/** One thing wrong in a proxy's rules: where (a path into the config) and why. */
export interface ProxyRuleProblem {
  path: Array<string | number>;
  why: string;
}

/**
 * The first setting a proxy cannot honour, or undefined. `bootlab serve` reports it at its
 * line in the config file; the server refuses to start on it.
 */
export function findProxyRuleProblem(input: { options?: Dhcp4OptionValues; classes: Dhcp4ClassRule[]; reservations?: ProxyDhcpReservation[] }): ProxyRuleProblem | undefined {
  const bootOnly = (path: Array<string | number>, values: Dhcp4OptionValues): ProxyRuleProblem | undefined => {
    for (const [key, value] of Object.entries(values) as Array<[keyof Dhcp4OptionValues, unknown]>) {
      if (value === undefined) continue;
      if (key === 'ipxeNoProxyWait') {
        return { path: [...path, key], why: 'tells iPXE not to wait for proxyDHCP offers, so it has no place in a proxy (leave it out, also on the address server)' };
      }
      if (!BOOT_OPTIONS.has(key)) return { path: [...path, key], why: `a proxy sends boot information only (${[...BOOT_OPTIONS].join(', ')}); ${key} is the address server's` };
    }
    return undefined;
  };
  const global = bootOnly(['options'], input.options ?? {});
  if (global) return global;
  for (const [i, c] of input.classes.entries()) {
    const p = bootOnly(['classes', i, 'options'], c.options);
    if (p) return p;
    if (c.force?.length) return { path: ['classes', i, 'force'], why: 'a proxy always sends its boot options; force is for the full server' };
  }
  for (const [i, r] of (input.reservations ?? []).entries()) {
    const at = ['reservations', i];
    if (r.mac === undefined && r.clientId === undefined) return { path: at, why: 'needs mac or clientId' };
    if (r.mac !== undefined && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(r.mac)) return { path: [...at, 'mac'], why: `'${r.mac}' is not a MAC address` };
    if (r.clientId !== undefined && !/^([0-9a-fA-F]{2})+$/.test(r.clientId)) return { path: [...at, 'clientId'], why: `'${r.clientId}' is not hex` };
    if ('address' in r && (r as { address?: unknown }).address !== undefined) {
      return { path: [...at, 'address'], why: 'a proxy gives no addresses; reserve the address on the DHCP server that leases it' };
    }
    const p = bootOnly([...at, 'options'], r.options);
    if (p) return p;
  }
  return undefined;
}
