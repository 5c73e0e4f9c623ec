import { getOption } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { bootFileOf, isProxyOffer, vendorClassIs, type BootPlan } from './boot-plan.js';

/**
 * EDK2 UEFI HTTP Boot's reading of DHCPv4 offers (NetworkPkg/HttpBootDxe:
 * HttpBootParseDhcp4Packet, HttpBootSelectDhcpOffer), restated. An HTTP offer has 60
 * starting with "HTTPClient" and must carry a boot URI (67, else `file`), or it is
 * dropped; the URI's host is an IPv4 address (IpUri) or a name (NameUri); an offer with
 * option 6 is a DNS offer. A proxy offer (no address) counts only if it is an HTTP offer.
 */
export type HttpBootOfferType =
  | 'dhcp-ip-uri'
  | 'dhcp-ip-uri-dns'
  | 'dhcp-name-uri'
  | 'dhcp-name-uri-dns'
  | 'dhcp-only'
  | 'dhcp-dns'
  | 'proxy-ip-uri'
  | 'proxy-name-uri';

export interface HttpBootSelection {
  offer: Dhcp4Packet;
  /** The offer whose URI is booted, when it is not `offer` itself. */
  uriFrom?: Dhcp4Packet | undefined;
}

export function classifyHttpBootOffer(p: Dhcp4Packet): HttpBootOfferType | undefined {
  const proxy = isProxyOffer(p);
  const dns = getOption(p, 6) !== undefined;
  if (!vendorClassIs(p, 'HTTPClient')) return proxy ? undefined : dns ? 'dhcp-dns' : 'dhcp-only';
  const host = uriHost(bootFileOf(p));
  if (host === undefined) return undefined;
  const ip = /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
  if (proxy) return ip ? 'proxy-ip-uri' : 'proxy-name-uri';
  if (ip) return dns ? 'dhcp-ip-uri-dns' : 'dhcp-ip-uri';
  return dns ? 'dhcp-name-uri-dns' : 'dhcp-name-uri';
}

/**
 * The "corporate" priority (no URI configured in the firmware): an IP URI offer; a name
 * URI offer with DNS; DHCP-only with a proxy IP URI; a DNS offer with a proxy IP URI; a
 * DNS offer with a proxy name URI; a DNS offer with a name URI offer. First of a kind wins.
 */
export function selectHttpBootOffer(offers: readonly Dhcp4Packet[]): HttpBootSelection | undefined {
  const kept = offers.flatMap((offer) => {
    const type = classifyHttpBootOffer(offer);
    return type === undefined ? [] : [{ offer, type }];
  });
  const first = (type: HttpBootOfferType) => kept.find((k) => k.type === type)?.offer;
  const alone = first('dhcp-ip-uri') ?? first('dhcp-ip-uri-dns') ?? first('dhcp-name-uri-dns');
  if (alone) return { offer: alone };
  const pairs: Array<[HttpBootOfferType, HttpBootOfferType]> = [
    ['dhcp-only', 'proxy-ip-uri'],
    ['dhcp-dns', 'proxy-ip-uri'],
    ['dhcp-dns', 'proxy-name-uri'],
    ['dhcp-dns', 'dhcp-name-uri'],
  ];
  for (const [lease, uri] of pairs) {
    const offer = first(lease);
    const uriFrom = first(uri);
    if (offer && uriFrom) return { offer, uriFrom };
  }
  return undefined;
}

/** The URI it then fetches; its host is the server. */
export function httpBootPlan(selection: HttpBootSelection, ack: Dhcp4Packet): BootPlan {
  const source = selection.uriFrom ?? ack;
  const file = bootFileOf(source) ?? bootFileOf(selection.offer);
  const host = uriHost(file);
  if (file === undefined || host === undefined) return { kind: 'fail', message: 'Error: Could not retrieve NBP file size from HTTP server.' };
  return { kind: 'boot', server: host, file, from: selection.uriFrom && isProxyOffer(selection.uriFrom) ? 'proxy' : 'dhcp' };
}

function uriHost(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  const m = /^https?:\/\/(\[[^\]]+\]|[^/:?#]+)/i.exec(uri);
  return m ? m[1] : undefined;
}
