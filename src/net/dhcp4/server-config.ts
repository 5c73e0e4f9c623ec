import { BootlabError } from '../../errors.js';
import { parseIpv4 } from '../../protocol/dhcp4/packet.js';

/** What the server may tell a client, by meaning; each maps to one option or BOOTP field. */
export interface Dhcp4OptionValues {
  subnetMask?: string; // 1
  router?: string[]; // 3
  dns?: string[]; // 6
  hostname?: string; // 12
  domainName?: string; // 15
  broadcastAddress?: string; // 28
  logServer?: string[]; // 7
  ntpServers?: string[]; // 42
  wwwServer?: string[]; // 72
  tftpServerName?: string; // 66
  bootFileName?: string; // 67
  tftpServerAddresses?: string[]; // 150
  defaultUrl?: string; // 114
  /** Option 125, enterprise 42623, sub-options 1 and 2. */
  onie?: { installerUrl?: string; updaterUrl?: string };
  /** BOOTP siaddr header field. */
  nextServer?: string;
  /** BOOTP file header field. */
  bootFile?: string;
  /** BOOTP sname header field. */
  serverName?: string;
  /**
   * Option 43 for PXE clients: PXE_DISCOVERY_CONTROL (sub-option 6). 8 = "use the boot
   * file in this offer" (43 = 06 01 08 ff), so the ROM boots at once without a boot server.
   */
  pxeDiscoveryControl?: number;
  /** 43.8 PXE_BOOT_SERVERS: boot server type and its addresses. */
  pxeBootServers?: Array<{ type: number; addresses: string[] }>;
  /** 43.9 PXE_BOOT_MENU: items the ROM shows (type, description). */
  pxeBootMenu?: Array<{ type: number; description: string }>;
  /** 43.10 PXE_MENU_PROMPT: seconds before the first item boots (0 now, 255 never), and the prompt. */
  pxeMenuPrompt?: { timeout: number; text: string };
  /** Option 175.176 = 1: iPXE skips its wait for ProxyDHCP offers. */
  ipxeNoProxyWait?: boolean;
}

/** A fixed address for one client, found by its MAC or its option 61 (dnsmasq's dhcp-host). */
export interface Dhcp4Reservation {
  mac?: string;
  /** Option 61 as hex, type byte included (e.g. ONIE's `00` + hex of the serial number). */
  clientId?: string;
  /**
   * Option 82's circuit-id (text): the address belongs to the switch port, whoever is
   * cabled to it (Kea's circuit-id host identifier). Checked after clientId and MAC.
   */
  circuitId?: string;
  address: string;
}

export interface Dhcp4ClassRule {
  name: string;
  /** Every condition given must hold. */
  match: {
    /** Option 60 starts with this (`PXEClient`, `HTTPClient`, `onie_vendor:`). */
    vendorClassPrefix?: string;
    /** Option 77 holds this class, raw (iPXE's `iPXE`) or RFC 3004 length-prefixed (ONIE's). */
    userClass?: string;
    /** Option 93: any of the client's architectures is one of these (0 BIOS, 7 x64 UEFI, 16 x64 HTTP...). */
    arch?: number[];
    /** Option 175 present (it is iPXE): true; absent: false. */
    ipxe?: boolean;
    /** The client's MAC is one of these; `*` stands for any octet (`52:54:00:*:*:*`). */
    mac?: string[];
    /** Option 61 equals this hex. */
    clientId?: string;
    /** The relay's option 82 circuit-id (text) is this: the switch port the request came in on. */
    circuitId?: string;
    /** The relay's option 82 remote-id (text) is this: which relay, or which rack. */
    remoteId?: string;
  };
  /** Override (field by field) and extend the global options. */
  options: Dhcp4OptionValues;
  /** Option codes sent even when the client did not ask for them in option 55. */
  force?: number[];
}

export interface Dhcp4ServerConfig {
  /** Port 0 binds any free port. */
  bind: { address: string; port: number };
  /** Option 54, and the address clients select us by. */
  serverId: string;
  /**
   * 'source': unicast back to where the request came from (loopback runs).
   * 'broadcast': 255.255.255.255:clientPort, or giaddr:67 for a relayed request.
   */
  replyTo: 'broadcast' | 'source';
  /** Default 68. */
  clientPort?: number;
  pool: { start: string; end: string; subnetMask: string; leaseSeconds: number; reservations?: Dhcp4Reservation[] };
  options?: Dhcp4OptionValues;
  /** The first rule that matches applies. */
  classes?: Dhcp4ClassRule[];
  /** Leases survive a restart: every ACK waits until its lease is on disk (see lease-journal.ts). */
  leaseFile?: string;
  /**
   * More subnets, served to requests relayed from them (giaddr inside the subnet). `pool`
   * above is the server's own subnet, for clients on its link.
   */
  subnets?: Dhcp4Subnet[];
}

export interface Dhcp4Subnet {
  /** CIDR, e.g. `10.9.0.0/24`. */
  subnet: string;
  pool: { start: string; end: string };
  /** Default: the primary pool's. */
  leaseSeconds?: number;
  /** Per-subnet options (a router, say): under the class rules, over the global options. */
  options?: Dhcp4OptionValues;
  reservations?: Dhcp4Reservation[];
}

export type Dhcp4ServerEventType =
  | 'dhcp.discover'
  | 'dhcp.offer'
  | 'dhcp.request'
  | 'dhcp.ack'
  | 'dhcp.nak'
  | 'dhcp.release'
  | 'dhcp.decline'
  | 'dhcp.inform'
  | 'dhcp.dropped'
  | 'dhcp.refused'
  | 'dhcp.pool-exhausted'
  | 'dhcp.lease-file';

export interface Dhcp4ServerEvent {
  type: Dhcp4ServerEventType;
  mac?: string;
  xid?: number;
  address?: string;
  className?: string;
  detail?: string;
}

/** Throws a BootlabError (BL_CONFIG_INVALID) naming the first wrong setting. */
export function validateServerConfig(c: Dhcp4ServerConfig): void {
  const bad = (path: string, why: string): never => {
    throw new BootlabError('BL_CONFIG_INVALID', `DHCP server config: ${path}: ${why}`);
  };
  const ip = (path: string, v: unknown): void => {
    if (typeof v !== 'string' || !parseIpv4(v)) bad(path, `'${String(v)}' is not a dotted IPv4 address`);
  };
  const port = (path: string, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) bad(path, `${String(v)} is not a port number`);
  };
  ip('bind.address', c.bind?.address);
  port('bind.port', c.bind?.port);
  ip('serverId', c.serverId);
  if (c.replyTo !== 'broadcast' && c.replyTo !== 'source') bad('replyTo', `must be 'broadcast' or 'source'`);
  if (c.clientPort !== undefined) port('clientPort', c.clientPort);
  ip('pool.start', c.pool?.start);
  ip('pool.end', c.pool?.end);
  ip('pool.subnetMask', c.pool?.subnetMask);
  if (!(Number.isInteger(c.pool.leaseSeconds) && c.pool.leaseSeconds > 0 && c.pool.leaseSeconds <= 0xffff_ffff)) {
    bad('pool.leaseSeconds', `${c.pool.leaseSeconds} is not a positive whole number of seconds`);
  }
  c.pool.reservations?.forEach((r, i) => {
    ip(`pool.reservations[${i}].address`, r.address);
    if (r.mac === undefined && r.clientId === undefined && r.circuitId === undefined) bad(`pool.reservations[${i}]`, 'needs mac, clientId or circuitId');
    if (r.mac !== undefined && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(r.mac)) bad(`pool.reservations[${i}].mac`, `'${r.mac}' is not a MAC address`);
    if (r.clientId !== undefined && !/^([0-9a-fA-F]{2})+$/.test(r.clientId)) bad(`pool.reservations[${i}].clientId`, `'${r.clientId}' is not hex`);
  });
  c.subnets?.forEach((n, i) => {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d|[12]\d|3[0-2])$/.exec(n.subnet);
    if (!m || !parseIpv4(m[1]!)) bad(`subnets[${i}].subnet`, `'${n.subnet}' is not an IPv4 CIDR like 10.9.0.0/24`);
    ip(`subnets[${i}].pool.start`, n.pool?.start);
    ip(`subnets[${i}].pool.end`, n.pool?.end);
  });
  c.classes?.forEach((rule, i) => {
    if (!rule.name) bad(`classes[${i}].name`, 'is empty');
    if (Object.values(rule.match).every((v) => v === undefined)) {
      bad(`classes[${i}].match`, 'needs at least one of vendorClassPrefix, userClass, arch, ipxe, mac, clientId, circuitId, remoteId');
    }
    rule.match.mac?.forEach((m, j) => {
      if (!/^([0-9a-fA-F]{2}|\*)(:([0-9a-fA-F]{2}|\*)){5}$/.test(m)) bad(`classes[${i}].match.mac[${j}]`, `'${m}' is not a MAC pattern`);
    });
    rule.match.arch?.forEach((a, j) => {
      if (!Number.isInteger(a) || a < 0 || a > 0xffff) bad(`classes[${i}].match.arch[${j}]`, `${a} is not an option 93 value`);
    });
    rule.force?.forEach((code, j) => {
      if (!Number.isInteger(code) || code < 1 || code > 254) bad(`classes[${i}].force[${j}]`, `${code} is not an option code`);
    });
  });
}
