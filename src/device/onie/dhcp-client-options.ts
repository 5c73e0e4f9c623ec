import type { Dhcp4OptionEntry } from '../../protocol/dhcp4/packet.js';
import { stringOption, u16Option, u8ListOption, userClassOption } from '../../protocol/dhcp4/options.js';
import { encodeVivso, ONIE_ENTERPRISE_NUMBER, OnieVivsoCode } from '../../protocol/dhcp4/vivso.js';
import { oniePlatform, type DeviceIdentity } from '../identity.js';

/** ONIE's literal user class (docs: "set to the static string onie_dhcp_user_class"). */
export const ONIE_USER_CLASS = 'onie_dhcp_user_class';

/**
 * sd_dhcp4's request list: busybox udhcpc's defaults (1 3 6 12 15 28 42) plus
 * `-O 7 43 54 66 67 72 114 125`, in code order as udhcpc emits them. 150 is not asked
 * for (ONIE issue #1029), so a server that only answers requested options never sends it.
 */
export const ONIE_DISCOVERY_REQUEST_LIST: readonly number[] = [1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 125];

/** busybox udhcpc always announces IP_UDP_DHCP_SIZE (576) as its maximum message size. */
const UDHCPC_MAX_MESSAGE_SIZE = 576;

/**
 * The options ONIE's udhcpc puts after 53 (and 50/54) in every discovery DHCPv4 message
 * (`udhcpc_args` in lib/onie/functions), in the order udhcpc writes them: 57, 55, the
 * `-V` vendor class 60, then the `-x` options, which busybox keeps sorted by code
 * (61, 77, 125).
 */
export function onieDhcpClientOptions(id: DeviceIdentity): Dhcp4OptionEntry[] {
  return [
    u16Option(57, UDHCPC_MAX_MESSAGE_SIZE),
    u8ListOption(55, ONIE_DISCOVERY_REQUEST_LIST),
    stringOption(60, `onie_vendor:${oniePlatform(id)}`),
    // 0x00: the identifier is not a hardware address (RFC 2132 §9.14); ONIE uses the serial.
    { code: 61, data: new Uint8Array(Buffer.concat([Uint8Array.of(0), Buffer.from(id.serial, 'utf8')])) },
    userClassOption([ONIE_USER_CLASS]),
    {
      code: 125,
      data: encodeVivso([
        {
          enterprise: ONIE_ENTERPRISE_NUMBER,
          subOptions: [
            { code: OnieVivsoCode.MACHINE, data: new Uint8Array(Buffer.from(id.machine, 'utf8')) },
            { code: OnieVivsoCode.ARCH, data: new Uint8Array(Buffer.from(id.arch, 'utf8')) },
            { code: OnieVivsoCode.MACHINE_REV, data: new Uint8Array(Buffer.from(String(id.machineRev), 'utf8')) },
          ],
        },
      ]),
    },
  ];
}
