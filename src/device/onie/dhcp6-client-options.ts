import { Dhcp6Option, type Dhcp6OptionEntry } from '../../protocol/dhcp6/message.js';
import { encodeOpaqueList, encodeVendorClass } from '../../protocol/dhcp6/options.js';
import type { DeviceIdentity } from '../identity.js';
import { oniePlatform } from '../identity.js';

const ONIE_ENTERPRISE = 42623;

/**
 * What an ONIE switch says about itself over DHCPv6 (ONIE's own discovery has no DHCPv6
 * yet; this follows the shape of ONIE PR #1136): the same user class and vendor class it
 * sends over DHCPv4, carried in options 15 and 16, and a request for the boot file URL.
 */
export function onieDhcp6ClientOptions(id: DeviceIdentity): { options: Dhcp6OptionEntry[]; request: number[] } {
  return {
    options: [
      { code: Dhcp6Option.USER_CLASS, data: encodeOpaqueList(['onie_dhcp_user_class']) },
      { code: Dhcp6Option.VENDOR_CLASS, data: encodeVendorClass(ONIE_ENTERPRISE, [`onie_vendor:${oniePlatform(id)}`]) },
    ],
    request: [Dhcp6Option.BOOTFILE_URL, Dhcp6Option.DNS_SERVERS],
  };
}

/** DUID-LL (RFC 8415 §11.4): type 3, hardware type 1 (Ethernet), the MAC. */
export function duidFromMac(mac: string): Uint8Array {
  return Uint8Array.from([0, 3, 0, 1, ...mac.split(':').map((b) => parseInt(b, 16))]);
}
