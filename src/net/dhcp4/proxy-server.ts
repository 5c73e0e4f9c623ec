import { Dhcp4MessageType, getOption, messageType, readString, stringOption } from '../../protocol/dhcp4/options.js';
import { decodeDhcp4, dhcp4Reply, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { BootlabError } from '../../errors.js';
import { bindUdp, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';
import type { ReplyProfile } from './class-rules.js';
import { hasBootInformation, ProxyRules, type ProxyDhcpReservation } from './proxy-rules.js';
import type { Dhcp4ClassRule, Dhcp4OptionValues, Dhcp4ServerEvent } from './server-config.js';

export type { ProxyDhcpReservation } from './proxy-rules.js';

/**
 * proxyDHCP (PXE spec; pxe-dhcp-tftp.md §2): next to someone else's DHCP server, answer
 * only PXE clients, with boot information and no address (yiaddr 0.0.0.0, no lease
 * options). A client whose proxy offer names no boot file asks the boot server on port
 * 4011 with a unicast REQUEST (or INFORM) and gets the file in the ACK.
 */
export interface ProxyDhcpConfig {
  /** Where PXE DISCOVERs arrive (port 67 on a real network). */
  bind: { address: string; port: number };
  /** The boot server step (port 4011); absent: proxy offers must name the file themselves. */
  bootServerBind?: { address: string; port: number };
  serverId: string;
  replyTo: 'broadcast' | 'source';
  clientPort?: number;
  /** Which PXE clients get what; the first rule that matches applies. */
  classes: Dhcp4ClassRule[];
  /** Boot information for every PXE client, under the class rules. */
  options?: Dhcp4OptionValues;
  /** One host's boot options over its class rule's (see proxy-rules.ts). */
  reservations?: ProxyDhcpReservation[];
  /**
   * true: the offer itself carries siaddr + file (boot at once). false: the offer carries
   * only the PXE identity, and the file comes from the 4011 boot server (dnsmasq's way
   * for UEFI clients).
   */
  bootFileInOffer: boolean;
}

export interface ProxyDhcpStats {
  received: number;
  offers: number;
  acks: number;
  dropped: Record<string, number>;
}

const PXE_CLIENT = 'PXEClient';
const BOOT_ITEM = 71;
const ZERO = '0.0.0.0';
/** TFTP server name and boot file name. */
const BOOT_FILE_OPTIONS = [66, 67] as const;

export class ProxyDhcpServer {
  readonly stats: ProxyDhcpStats = { received: 0, offers: 0, acks: 0, dropped: {} };
  private readonly rules: ProxyRules;
  private readonly serverIdData: Uint8Array;
  private ports: DatagramPort[] = [];

  constructor(
    private readonly config: ProxyDhcpConfig,
    private readonly deps: { onEvent?: (e: Dhcp4ServerEvent) => void; openPort?: DatagramPortFactory } = {},
  ) {
    this.rules = new ProxyRules({ classes: config.classes, ...(config.options ? { options: config.options } : {}), ...(config.reservations ? { reservations: config.reservations } : {}) });
    const id = config.serverId.split('.').map(Number);
    if (id.length !== 4 || id.some((n) => !(n >= 0 && n <= 255))) throw new BootlabError('BL_CONFIG_INVALID', `proxyDHCP serverId '${config.serverId}' is not an IPv4 address`);
    this.serverIdData = Uint8Array.from(id);
    if (!config.bootFileInOffer && !config.bootServerBind) {
      throw new BootlabError('BL_CONFIG_INVALID', 'proxyDHCP without bootFileInOffer needs bootServerBind (port 4011): clients would get no boot file');
    }
  }

  async start(): Promise<{ dhcp: DatagramPeer; bootServer?: DatagramPeer }> {
    const open = this.deps.openPort ?? bindUdp;
    const dhcp = await open({ ...this.config.bind, broadcast: this.config.replyTo === 'broadcast' });
    this.ports.push(dhcp);
    dhcp.onMessage((bytes, from) => this.receive(dhcp, bytes, from, 'proxy'));
    if (!this.config.bootServerBind) return { dhcp: dhcp.address() };
    const boot = await open({ ...this.config.bootServerBind });
    this.ports.push(boot);
    boot.onMessage((bytes, from) => this.receive(boot, bytes, from, 'boot-server'));
    return { dhcp: dhcp.address(), bootServer: boot.address() };
  }

  async stop(): Promise<void> {
    const ports = this.ports;
    this.ports = [];
    await Promise.all(ports.map((p) => p.close()));
  }

  private receive(port: DatagramPort, bytes: Uint8Array, from: DatagramPeer, role: 'proxy' | 'boot-server'): void {
    this.stats.received++;
    const d = decodeDhcp4(bytes);
    if (!d.ok) return this.drop(d.error.code, `${from.address}:${from.port}: ${d.error.message}`);
    const req = d.value;
    const vendorClass = getOption(req, 60);
    // Everything that is not a PXE client is the real DHCP server's business.
    if (req.op !== 'request' || !vendorClass || !(readString(vendorClass) ?? '').startsWith(PXE_CLIENT)) return this.drop('not-pxe', req.chaddr);
    const type = messageType(req);
    const { profile, host } = this.rules.select(req);
    // A PXE client no rule has a boot file for may be another boot server's: stay silent.
    if (!hasBootInformation(profile)) return this.drop('no-boot-rule', `${req.chaddr}: no class rule or reservation names a boot file for it`);
    const base = { mac: req.chaddr, xid: req.xid, ...(profile.className !== undefined ? { className: profile.className } : {}) };
    const by = host !== undefined ? `, reservation ${host}` : '';
    if (role === 'proxy' && type === Dhcp4MessageType.DISCOVER) {
      const offer = this.reply(req, Dhcp4MessageType.OFFER, profile, this.config.bootFileInOffer);
      this.stats.offers++;
      this.emit({ type: 'dhcp.offer', ...base, detail: this.config.bootFileInOffer ? `proxy, boot file ${bootFileOf(offer)}${by}` : `proxy, boot file from port 4011${by}` });
      return this.send(port, offer, this.destination(req, from));
    }
    if (role === 'boot-server' && (type === Dhcp4MessageType.REQUEST || type === Dhcp4MessageType.INFORM)) {
      const ack = this.reply(req, Dhcp4MessageType.ACK, profile, true);
      this.stats.acks++;
      this.emit({ type: 'dhcp.ack', ...base, detail: `boot server, boot file ${bootFileOf(ack)}${by}` });
      // The 4011 exchange is unicast both ways: the client has its address by now.
      return this.send(port, ack, from);
    }
    this.drop('unexpected-message-type', `${role} does not answer message type ${type}`);
  }

  private reply(req: Dhcp4Packet, type: Dhcp4MessageType, p: ReplyProfile, withFile: boolean): Dhcp4Packet {
    const options: Dhcp4OptionEntry[] = [
      { code: 53, data: Uint8Array.of(type) },
      { code: 54, data: this.serverIdData },
      stringOption(60, PXE_CLIENT),
    ];
    const uuid = getOption(req, 97);
    if (uuid) options.push({ code: 97, data: uuid });
    const vendor = p.options.get(43);
    const item = getOption(req, 43);
    // Echo the boot item (43.71) the client asked the boot server for; else the rule's 43.
    if (type === Dhcp4MessageType.ACK && item && item[0] === BOOT_ITEM) options.push({ code: 43, data: item });
    else if (vendor) options.push({ code: 43, data: vendor });
    // The boot file by option too (66, 67): a URL for iPXE, or a name longer than `file`.
    // Where the file comes from port 4011, the offer names none.
    for (const code of withFile ? BOOT_FILE_OPTIONS : []) {
      const data = p.options.get(code);
      if (data) options.push({ code, data });
    }
    return {
      ...dhcp4Reply(req),
      ciaddr: type === Dhcp4MessageType.ACK ? req.ciaddr : ZERO,
      // Older iPXE releases take a proxy's reply only with both siaddr and a file (else
      // they ask port 4011, or boot nothing): a rule without nextServer names the proxy, as dnsmasq does.
      siaddr: withFile ? (p.header.siaddr !== ZERO ? p.header.siaddr : this.config.serverId) : ZERO,
      sname: withFile ? p.header.sname : '',
      file: withFile ? p.header.file : '',
      options,
    };
  }

  private destination(req: Dhcp4Packet, from: DatagramPeer): DatagramPeer {
    if (this.config.replyTo === 'source') return from;
    if (req.giaddr !== ZERO) return { address: req.giaddr, port: 67 };
    return { address: '255.255.255.255', port: this.config.clientPort ?? 68 };
  }

  private send(port: DatagramPort, packet: Dhcp4Packet, to: DatagramPeer): void {
    port.send(encodeDhcp4(packet), to.address, to.port).catch((e: unknown) => this.drop('send-failed', e instanceof Error ? e.message : String(e)));
  }

  private drop(reason: string, detail: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    this.emit({ type: 'dhcp.dropped', detail: `${reason}: ${detail}` });
  }

  private emit(e: Dhcp4ServerEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not take the server down.
    }
  }
}

/** What the client will boot: option 67 when given (firmware prefers it), else the file field. */
function bootFileOf(p: Dhcp4Packet): string {
  const name = getOption(p, 67);
  return name ? readString(name) : p.file;
}
