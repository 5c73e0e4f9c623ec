import { BootlabError, EncodeError } from '../../errors.js';
import { getOption, readString, readUserClasses } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { relayAgentIds } from '../../protocol/dhcp4/relay-agent-info.js';
import { encodeOptionValues, mergeOptionValues } from './option-values.js';
import type { Dhcp4ClassRule, Dhcp4OptionValues } from './server-config.js';

/** What one class of client gets, encoded once at construction so a reply only copies bytes. */
export interface ReplyProfile {
  className?: string;
  options: Map<number, Uint8Array>;
  force: readonly number[];
  header: { siaddr: string; file: string; sname: string };
}

const ZERO = '0.0.0.0';

/**
 * Which class a request belongs to: match rules in data (vendor class prefix, user class,
 * architecture, iPXE, MAC pattern, client id, option 82 circuit-id and remote-id), shared by the DHCP server and the proxy.
 */
export class ClassRules {
  private readonly base: ReplyProfile;
  private readonly rules: Array<{ rule: Dhcp4ClassRule; profile: ReplyProfile; macPatterns?: RegExp[] }>;
  /** Some rule matches on option 82: only then is it decoded per request. */
  private readonly byRelay: boolean;

  constructor(input: { options?: Dhcp4OptionValues; classes?: Dhcp4ClassRule[]; subnetMask?: string }) {
    const global = input.options ?? {};
    this.base = profile(input.subnetMask, global, undefined, []);
    this.rules = (input.classes ?? []).map((rule) => ({
      rule,
      profile: profile(input.subnetMask, mergeOptionValues(global, rule.options), rule.name, rule.force ?? []),
      ...(rule.match.mac ? { macPatterns: rule.match.mac.map(macPattern) } : {}),
    }));
    this.byRelay = this.rules.some(({ rule }) => rule.match.circuitId !== undefined || rule.match.remoteId !== undefined);
  }

  /** The first rule whose conditions all hold, or the global options. */
  classify(req: Dhcp4Packet): ReplyProfile {
    if (this.rules.length === 0) return this.base;
    const vendorClass = optionText(req, 60);
    const userClassData = getOption(req, 77);
    // iPXE sends its class raw, ONIE RFC 3004-style: accept either reading.
    const userClasses = userClassData ? [...readUserClasses(userClassData), readString(userClassData)] : [];
    const archData = getOption(req, 93);
    const arches = archData ? u16List(archData) : [];
    const clientId = getOption(req, 61);
    const clientIdHex = clientId ? Buffer.from(clientId).toString('hex') : undefined;
    const relayIds = this.byRelay ? relayAgentIds(req) : {};
    for (const { rule, profile, macPatterns } of this.rules) {
      const m = rule.match;
      if (m.vendorClassPrefix !== undefined && !(vendorClass?.startsWith(m.vendorClassPrefix) ?? false)) continue;
      if (m.userClass !== undefined && !userClasses.includes(m.userClass)) continue;
      if (m.arch !== undefined && !arches.some((a) => m.arch!.includes(a))) continue;
      if (m.ipxe !== undefined && m.ipxe !== (getOption(req, 175) !== undefined)) continue;
      if (macPatterns !== undefined && !macPatterns.some((re) => re.test(req.chaddr))) continue;
      if (m.clientId !== undefined && m.clientId.toLowerCase() !== clientIdHex) continue;
      if (m.circuitId !== undefined && m.circuitId !== relayIds.circuitId) continue;
      if (m.remoteId !== undefined && m.remoteId !== relayIds.remoteId) continue;
      return profile;
    }
    return this.base;
  }}

function profile(subnetMask: string | undefined, values: Dhcp4OptionValues, className: string | undefined, force: readonly number[]): ReplyProfile {
  let options: Map<number, Uint8Array>;
  try {
    options = encodeOptionValues({ ...(subnetMask !== undefined ? { subnetMask } : {}), ...stripUndefined(values) });
  } catch (e) {
    if (e instanceof EncodeError) {
      throw new BootlabError('BL_CONFIG_INVALID', `DHCP server config: ${className ? `class ${className}` : 'options'}: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return {
    ...(className !== undefined ? { className } : {}),
    options,
    force,
    header: { siaddr: values.nextServer ?? ZERO, file: values.bootFile ?? '', sname: values.serverName ?? '' },
  };
}

function u16List(data: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

/** `52:54:00:*:*:*` → a case-insensitive RegExp over the lower-case chaddr text. */
function macPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.toLowerCase().split(':').map((o) => (o === '*' ? '[0-9a-f]{2}' : o)).join(':')}$`);
}

function optionText(p: Dhcp4Packet, code: number): string | undefined {
  const data = getOption(p, code);
  return data ? readString(data) : undefined;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
