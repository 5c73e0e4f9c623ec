import { getOption } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { bootFileOf, isProxyOffer, nextServerOf, PXE_BOOT_SERVER_PORT, subOptions, vendorClassIs, type BootPlan } from './boot-plan.js';

/**
 * EDK2 UEFI PXE's reading of DHCPv4 offers (NetworkPkg/UefiPxeBcDxe: PxeBcParseDhcp4Packet,
 * PxeBcCacheDhcp4Offer, PxeBcSelectDhcp4Offer, PxeBcHandleDhcp4Offer, and the boot
 * prompt / menu step after them), restated as data and pure functions.
 *
 * An offer is a PXE offer when 60 starts with "PXEClient"; only then is 43 read. With a
 * discovery sub-option (43.6–43.10) it is PXE10; with all MTFTP ones (43.1–43.5) WfM11a,
 * which is dropped (no multicast download); a PXE offer with neither is BINL: the boot
 * file must be asked for on port 4011. An offer without PXEClient is DHCP-only. Offers
 * with yiaddr 0.0.0.0 are proxy offers.
 */
export type Edk2PxeOfferType = 'dhcp-only' | 'dhcp-pxe10' | 'dhcp-binl' | 'proxy-pxe10' | 'proxy-binl' | 'bootp';

export interface Edk2PxeSelection {
  /** The offer whose address the firmware REQUESTs. */
  offer: Dhcp4Packet;
  type: Edk2PxeOfferType;
  /** The proxy offer it pairs the address with, when the priority rule chose one. */
  proxy?: { offer: Dhcp4Packet; type: 'proxy-pxe10' | 'proxy-binl' } | undefined;
}

const DISCOVER_SUBOPTIONS = [6, 7, 8, 9, 10];
const MTFTP_SUBOPTIONS = [1, 2, 3, 4, 5];

/** The offer's type, or undefined for one EDK2 drops (WfM11a; BOOTP without a file). */
export function classifyEdk2PxeOffer(p: Dhcp4Packet): Edk2PxeOfferType | undefined {
  const proxy = isProxyOffer(p);
  if (getOption(p, 53) === undefined) return bootFileOf(p) !== undefined ? 'bootp' : undefined;
  const pxe = vendorClassIs(p, 'PXEClient');
  const vendor = pxe ? subOptions(p, 43) : new Map<number, Uint8Array>();
  if (DISCOVER_SUBOPTIONS.some((t) => vendor.has(t))) return proxy ? 'proxy-pxe10' : 'dhcp-pxe10';
  if (MTFTP_SUBOPTIONS.every((t) => vendor.has(t))) return undefined;
  if (pxe) return proxy ? 'proxy-binl' : 'dhcp-binl';
  return 'dhcp-only';
}

/**
 * The offers EDK2 keeps, in arrival order: every offer with an address, every proxy
 * BINL offer, the first proxy PXE10 offer; other proxy offers are dropped.
 */
function cached(offers: readonly Dhcp4Packet[]): Array<{ offer: Dhcp4Packet; type: Edk2PxeOfferType }> {
  const kept: Array<{ offer: Dhcp4Packet; type: Edk2PxeOfferType }> = [];
  for (const offer of offers) {
    const type = classifyEdk2PxeOffer(offer);
    if (type === undefined) continue;
    if (type === 'bootp' && kept.some((k) => k.type === 'bootp')) continue;
    if (isProxyOffer(offer) && type !== 'proxy-binl' && !(type === 'proxy-pxe10' && !kept.some((k) => k.type === 'proxy-pxe10'))) continue;
    kept.push({ offer, type });
  }
  return kept;
}

/**
 * EDK2's default priority (the one its LoadFile boot path uses): DHCP PXE10; DHCP-only
 * with a proxy PXE10; DHCP BINL; DHCP-only with a proxy BINL; DHCP-only with a boot file;
 * BOOTP with a boot file. Undefined when none of them is there.
 */
export function selectEdk2PxeOffer(offers: readonly Dhcp4Packet[]): Edk2PxeSelection | undefined {
  const kept = cached(offers);
  const first = (type: Edk2PxeOfferType) => kept.find((k) => k.type === type);
  const dhcpPxe10 = first('dhcp-pxe10');
  if (dhcpPxe10) return dhcpPxe10;
  const dhcpOnly = first('dhcp-only');
  const proxyPxe10 = first('proxy-pxe10');
  if (dhcpOnly && proxyPxe10) return { ...dhcpOnly, proxy: { offer: proxyPxe10.offer, type: 'proxy-pxe10' } };
  const binl = first('dhcp-binl');
  if (binl) return binl;
  const proxyBinl = first('proxy-binl');
  if (dhcpOnly && proxyBinl) return { ...dhcpOnly, proxy: { offer: proxyBinl.offer, type: 'proxy-binl' } };
  const withFile = kept.find((k) => k.type === 'dhcp-only' && bootFileOf(k.offer) !== undefined);
  if (withFile) return withFile;
  const bootp = first('bootp');
  return bootp && bootFileOf(bootp.offer) !== undefined ? bootp : undefined;
}

/**
 * After the ACK: a BINL offer (DHCP or proxy) sends a REQUEST to port 4011 and fails
 * with PXE-E16 when nobody answers; a DHCP-only offer without a proxy must carry a boot
 * file (PXE-E53 otherwise); a PXE10 offer goes through the boot prompt and menu (43.6
 * bit 3 with a boot file: boot it; no menu: "remote boot cancelled").
 */
export function edk2PxeBootPlan(selection: Edk2PxeSelection, ack: Dhcp4Packet): BootPlan {
  const binl = (offer: Dhcp4Packet, why: string): BootPlan => ({
    kind: 'ask-boot-server',
    server: nextServerOf(offer) ?? '0.0.0.0',
    port: PXE_BOOT_SERVER_PORT,
    why,
    ifNoAnswer: { kind: 'fail', message: 'PXE-E16: No offer received.' },
  });
  switch (selection.type) {
    case 'dhcp-binl':
      return binl(selection.offer, 'BINL offer: PXEClient in 60 without PXE options in 43');
    case 'dhcp-pxe10':
      return pxe10Plan(ack, 'dhcp');
    case 'bootp':
      return bootFrom(selection.offer, 'dhcp');
    default:
      if (selection.proxy?.type === 'proxy-binl') return binl(selection.proxy.offer, 'proxy BINL offer');
      if (selection.proxy?.type === 'proxy-pxe10') return pxe10Plan(selection.proxy.offer, 'proxy');
      return bootFrom(ack, 'dhcp');
  }
}

function bootFrom(p: Dhcp4Packet, from: 'dhcp' | 'proxy', server = nextServerOf(p)): BootPlan {
  const file = bootFileOf(p);
  if (file === undefined || server === undefined) return { kind: 'fail', message: 'PXE-E53: No boot filename received.' };
  return { kind: 'boot', server, file, from };
}

/** PXE 2.1's prompt and menu step as EDK2 runs it with nobody at the keyboard. */
function pxe10Plan(p: Dhcp4Packet, from: 'dhcp' | 'proxy'): BootPlan {
  const vendor = subOptions(p, 43);
  const control = vendor.get(6)?.[0] ?? 0;
  const useFileNow = (control & 0x08) !== 0;
  if (useFileNow && bootFileOf(p) !== undefined) {
    // With bit 3 set, the first listed boot server (43.8) is the one to read from.
    const servers = vendor.get(8);
    const listed = servers && servers.length >= 7 && servers[2]! > 0 ? [...servers.subarray(3, 7)].join('.') : undefined;
    return bootFrom(p, from, listed !== undefined && listed !== '0.0.0.0' ? listed : nextServerOf(p));
  }
  const prompt = vendor.get(10);
  if (prompt && prompt[0] === 255) return { kind: 'fail', message: 'waits at the PXE boot menu for a key (43.10 timeout 255)' };
  // No prompt, or its timeout runs out: the menu's first item, if there is a menu.
  const menu = vendor.get(9);
  const type = menu && menu.length >= 2 ? (menu[0]! << 8) | menu[1]! : 0;
  if (type === 0) return { kind: 'fail', message: 'PXE-E21: Remote boot cancelled.' };
  return {
    kind: 'ask-boot-server',
    server: bootServerFor(vendor, type) ?? '255.255.255.255',
    port: PXE_BOOT_SERVER_PORT,
    why: `PXE boot menu item ${type}`,
    ifNoAnswer: { kind: 'fail', message: 'PXE-E18: Server response timeout.' },
  };
}

/** The first address 43.8 lists for boot server `type`. */
function bootServerFor(vendor: Map<number, Uint8Array>, type: number): string | undefined {
  const list = vendor.get(8);
  for (let i = 0; list && i + 3 <= list.length; ) {
    const t = (list[i]! << 8) | list[i + 1]!;
    const n = list[i + 2]!;
    if (t === type && n > 0 && i + 7 <= list.length) return [...list.subarray(i + 3, i + 7)].join('.');
    i += 3 + 4 * n;
  }
  return undefined;
}
