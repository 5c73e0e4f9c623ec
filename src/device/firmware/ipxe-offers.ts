import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { bootFileOf, isProxyOffer, PXE_BOOT_SERVER_PORT, serverIdOf, subOptions, vendorClassIs, type BootPlan, type OfferWindow } from './boot-plan.js';

/**
 * iPXE's DHCP discovery (src/net/udp/dhcp.c, config/dhcp.h), restated: every offer is
 * looked at in arrival order. One with an address is the DHCP offer if its priority
 * (175.1) is at least the current one's, so a later equal offer replaces an earlier one.
 * Any offer with a server id and 60 = PXEClient is also the ProxyDHCP offer (the DHCP
 * server's own offer included). iPXE leaves discovery once it has a DHCP offer and
 * either that offer says 175.176 (no ProxyDHCP), or it has a ProxyDHCP offer, or more
 * than 2 s have passed since the first DISCOVER.
 */
export interface IpxeDiscovery {
  offer?: Dhcp4Packet;
  proxy?: Dhcp4Packet;
  noProxyDhcp: boolean;
}

/** DHCP_DISC_PROXY_TIMEOUT_SEC: how long iPXE waits for ProxyDHCP offers after a DHCP offer. */
export const IPXE_PROXY_WAIT_MS = 2000;
/** DHCP_REQ_PROXY_TIMEOUT_SEC: how long a ProxyDHCPREQUEST to port 4011 may go unanswered. */
export const IPXE_PROXY_REQUEST_WAIT_MS = 2000;

const EB_PRIORITY = 1;
const EB_NO_PXEDHCP = 176;

export function ipxeDiscovery(offers: readonly Dhcp4Packet[]): IpxeDiscovery {
  const state: IpxeDiscovery & { priority: number; proxyPriority: number } = { noProxyDhcp: false, priority: 0, proxyPriority: 0 };
  for (const p of offers) {
    const eb = subOptions(p, 175);
    const priorityByte = eb.get(EB_PRIORITY)?.[0];
    const priority = priorityByte === undefined ? 0 : (priorityByte << 24) >> 24;
    if (!isProxyOffer(p) && priority >= state.priority) {
      state.offer = p;
      state.priority = priority;
      state.noProxyDhcp = (eb.get(EB_NO_PXEDHCP)?.[0] ?? 0) !== 0;
    }
    if (serverIdOf(p) !== undefined && vendorClassIs(p, 'PXEClient') && priority >= state.proxyPriority) {
      state.proxy = p;
      state.proxyPriority = priority;
    }
  }
  const { offer, proxy, noProxyDhcp } = state;
  return { ...(offer ? { offer } : {}), ...(proxy ? { proxy } : {}), noProxyDhcp };
}

/** The offer iPXE REQUESTs now, or undefined while it keeps waiting (for any offer, or for ProxyDHCP). */
export function selectIpxeOffer(offers: readonly Dhcp4Packet[], when: OfferWindow): Dhcp4Packet | undefined {
  const d = ipxeDiscovery(offers);
  if (!d.offer) return undefined;
  return d.noProxyDhcp || d.proxy || when.elapsedMs > IPXE_PROXY_WAIT_MS ? d.offer : undefined;
}

/**
 * After the ACK. With a ProxyDHCP offer (and no 175.176): if it has PXE options (a
 * next-server and a boot file, or a 43.9 menu) iPXE uses it as is; otherwise it sends a
 * ProxyDHCPREQUEST to its server on port 4011, and when nobody answers in 2 s it goes on
 * with the DHCP ACK alone — no failure. The ProxyDHCP boot file wins over the ACK's.
 */
export function ipxeBootPlan(offers: readonly Dhcp4Packet[], ack: Dhcp4Packet): BootPlan {
  const d = ipxeDiscovery(offers);
  const fromAck = bootFrom(ack, 'dhcp');
  if (!d.proxy || d.noProxyDhcp) return fromAck;
  if (hasPxeOptions(d.proxy)) {
    if (bootFileOf(d.proxy) === undefined) return { kind: 'ask-boot-server', server: '255.255.255.255', port: 67, why: 'PXE boot menu (43.9)', ifNoAnswer: fromAck };
    return bootFrom(d.proxy, d.proxy === d.offer ? 'dhcp' : 'proxy');
  }
  return { kind: 'ask-boot-server', server: serverIdOf(d.proxy)!, port: PXE_BOOT_SERVER_PORT, why: 'ProxyDHCP offer without PXE options', ifNoAnswer: fromAck };
}

/** dhcp_has_pxeopts: a next-server with a boot file name, or a PXE boot menu. */
function hasPxeOptions(p: Dhcp4Packet): boolean {
  return (p.siaddr !== '0.0.0.0' && bootFileOf(p) !== undefined) || subOptions(p, 43).has(9);
}

function bootFrom(p: Dhcp4Packet, from: 'dhcp' | 'proxy'): BootPlan {
  const file = bootFileOf(p);
  if (file === undefined) return { kind: 'fail', message: 'iPXE: no filename or root path specified' };
  // A URL names its own server; a bare name is read over TFTP from next-server (siaddr).
  const url = /^[a-z]+:\/\/([^/:]+)/i.exec(file);
  return { kind: 'boot', server: url ? url[1]! : p.siaddr, file, from };
}
