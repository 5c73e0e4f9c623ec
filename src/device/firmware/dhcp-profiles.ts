import type { Dhcp4OptionEntry, Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import type { BootPlan, OfferWindow } from './boot-plan.js';
import { edk2PxeBootPlan, selectEdk2PxeOffer } from './edk2-pxe-offers.js';
import { httpBootPlan, selectHttpBootOffer } from './http-boot-offers.js';
import { ipxeBootPlan, selectIpxeOffer } from './ipxe-offers.js';

/**
 * How a boot firmware's DHCP client behaves, as far as a server can tell: the options of
 * its DISCOVER in wire order, its broadcast flag, its retransmission schedule, which
 * offer it takes and what it does next. Option lists are the real clients'
 * (test/fixtures/dhcp4 captures: EDK2 UEFI PXE, EDK2 UEFI HTTP Boot and iPXE under
 * OVMF/QEMU, a BIOS PXE ROM); offer choice follows each firmware's code (see
 * edk2-pxe-offers.ts, http-boot-offers.ts, ipxe-offers.ts).
 */
export interface FirmwareDhcpProfile {
  name: string;
  /** Options after 53, in the firmware's order. `uuid` is the SMBIOS UUID for option 97. */
  discoverOptions(id: { mac: string; uuid?: Uint8Array }): Dhcp4OptionEntry[];
  broadcast: boolean;
  /** Wait after each DISCOVER (and REQUEST) before sending again, in ms. */
  retransmitMs: readonly number[];
  /** The offer it REQUESTs given those seen so far (acquireLease's `selectOffer`); undefined: keep listening. */
  selectOffer(offers: readonly Dhcp4Packet[], when: OfferWindow): Dhcp4Packet | undefined;
  /** What it does after the ACK, from every offer it saw, the one it took, and the ACK. */
  bootPlan(exchange: { offers: readonly Dhcp4Packet[]; offer: Dhcp4Packet; ack: Dhcp4Packet }): BootPlan;
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const ZERO_UUID = new Uint8Array(16);
const machineId = (uuid: Uint8Array = ZERO_UUID): Uint8Array => Uint8Array.from([0, ...uuid]);

/** PXE 2.1 §2.2.4: DISCOVER retransmits at 4, 8, 16 and 32 s; EDK2 follows it. */
const PXE_SCHEDULE = [4000, 8000, 16000, 32000];

/** EDK2 UEFI PXE (NetworkPkg/UefiPxeBcDxe), x64. */
export const edk2UefiPxe: FirmwareDhcpProfile = {
  name: 'edk2-uefi-pxe',
  discoverOptions: ({ uuid }) => [
    { code: 57, data: u16(1472) },
    { code: 55, data: hex('0102030405060c0d0f111216171c28292a2b3233363a3b3c4243618081828384858687') },
    { code: 97, data: machineId(uuid) },
    { code: 94, data: hex('010300') },
    { code: 93, data: u16(7) },
    { code: 60, data: text('PXEClient:Arch:00007:UNDI:003000') },
  ],
  broadcast: true,
  retransmitMs: PXE_SCHEDULE,
  // EDK2's DHCP driver keeps every offer until a DISCOVER's wait runs out, then picks by type.
  selectOffer: (offers, when) => (when.windowEnded ? selectEdk2PxeOffer(offers)?.offer : undefined),
  bootPlan: ({ offers, ack }) => {
    const selection = selectEdk2PxeOffer(offers);
    return selection ? edk2PxeBootPlan(selection, ack) : { kind: 'fail', message: 'PXE-E16: No offer received.' };
  },
};

/** EDK2 UEFI HTTP Boot (NetworkPkg/HttpBootDxe), x64. */
export const edk2UefiHttpBoot: FirmwareDhcpProfile = {
  name: 'edk2-uefi-http',
  discoverOptions: ({ uuid }) => [
    { code: 57, data: u16(1472) },
    { code: 55, data: hex('0102030405060c0d0f111216171c28292a2b3233363a3b3ceb4361') },
    { code: 97, data: machineId(uuid) },
    { code: 94, data: hex('010300') },
    { code: 93, data: u16(16) },
    { code: 60, data: text('HTTPClient:Arch:00016:UNDI:003000') },
  ],
  broadcast: true,
  retransmitMs: PXE_SCHEDULE,
  // Like UEFI PXE, the choice is made when a DISCOVER's wait runs out.
  selectOffer: (offers, when) => (when.windowEnded ? selectHttpBootOffer(offers)?.offer : undefined),
  bootPlan: ({ offers, ack }) => {
    const selection = selectHttpBootOffer(offers);
    return selection ? httpBootPlan(selection, ack) : { kind: 'fail', message: 'Error: Could not retrieve NBP file size from HTTP server.' };
  },
};

/** iPXE (snponly.efi build under OVMF): 77 "iPXE", 175 feature flags, 61 = 01 + MAC. */
export const ipxeEfi: FirmwareDhcpProfile = {
  name: 'ipxe-efi',
  discoverOptions: ({ mac, uuid }) => [
    { code: 57, data: u16(1472) },
    { code: 93, data: u16(7) },
    { code: 94, data: hex('01030a') },
    { code: 60, data: text('PXEClient:Arch:00007:UNDI:003010') },
    { code: 77, data: text('iPXE') },
    { code: 55, data: hex('010306070c0f111a2b3c4243778081828384858687afcb') },
    // The feature flags of the captured build (which protocols and commands it has).
    { code: 175, data: hex('b105011af41000eb03010000170101240101130101110101270101290101150101120101') },
    { code: 61, data: Uint8Array.from([1, ...mac.split(':').map((b) => parseInt(b, 16))]) },
    { code: 97, data: machineId(uuid) },
  ],
  broadcast: false,
  // iPXE starts at 1 s and doubles up to 10 s (its DHCP_MIN/MAX_TIMEOUT).
  retransmitMs: [1000, 2000, 4000, 8000, 10000],
  selectOffer: selectIpxeOffer,
  bootPlan: ({ offers, ack }) => ipxeBootPlan(offers, ack),
};

/** iPXE's BIOS build (undionly.kpxe chain-loaded from a PXE ROM). */
export const ipxeBios: FirmwareDhcpProfile = {
  ...ipxeEfi,
  name: 'ipxe-bios',
  discoverOptions: (id) =>
    ipxeEfi.discoverOptions(id).map((o) =>
      o.code === 93
        ? { code: 93, data: u16(0) }
        : o.code === 94
          ? { code: 94, data: hex('010201') }
          : o.code === 60
            ? { code: 60, data: text('PXEClient:Arch:00000:UNDI:002001') }
            : o.code === 175
              ? { code: 175, data: hex('b105018086100eeb03010000170101220101130101110101270101190101290101100102210101150101180101120101') }
              : o,
    ),
};

/** A legacy BIOS PXE ROM (UNDI 2.1): the short request list of the captured client. */
export const biosPxe: FirmwareDhcpProfile = {
  name: 'bios-pxe',
  discoverOptions: ({ uuid }) => [
    { code: 97, data: machineId(uuid) },
    { code: 55, data: hex('01032b42433c') },
    { code: 60, data: text('PXEClient:Arch:00000:UNDI:002001') },
    { code: 93, data: u16(0) },
    { code: 94, data: hex('010201') },
  ],
  broadcast: false,
  retransmitMs: PXE_SCHEDULE,
  // PXE 2.1 ROMs classify offers the way the spec says, as EDK2 does.
  selectOffer: edk2UefiPxe.selectOffer,
  bootPlan: edk2UefiPxe.bootPlan,
};

export const FIRMWARE_DHCP_PROFILES: readonly FirmwareDhcpProfile[] = [edk2UefiPxe, edk2UefiHttpBoot, ipxeEfi, ipxeBios, biosPxe];
