/**
 * Who a simulated switch is: the values ONIE reads from its EEPROM and build config
 * (machine.conf) and puts on the wire (DHCP 60/61/125, HTTP ONIE-* headers).
 */
export interface DeviceIdentity {
  /** Serial number (EEPROM TLV 0x23); DHCP option 61 is 0x00 followed by it. */
  serial: string;
  /** Management MAC, `aa:bb:cc:dd:ee:ff`. EEPROM platforms print it upper-case; the case is kept as given. */
  mac: string;
  /** IANA private enterprise number of the switch vendor (`onie_vendor_id`). */
  vendorId: number;
  /** CPU architecture, e.g. `x86_64` (no `_` or `-`). */
  arch: string;
  /** `<vendor>_<machine>`, e.g. `accton_as7326_56x`. */
  machine: string;
  machineRev: number;
  /** Switch silicon vendor short name (`bcm`, `mlnx`, `qemu`...). */
  switchAsic: string;
  onieVersion: string;
  /** `YYYY-MM-DDTHH:MM±zzzz` as gen-config writes it. */
  buildDate: string;
  firmware: 'uefi' | 'bios' | 'coreboot' | '';
  partitionType: 'gpt' | 'msdos';
  kernelVersion: string;
  configVersion: number;
  partNumber: string;
  productName: string;
}

/** `onie_platform`: `<arch>-<vendor>_<machine>-r<rev>`. */
export function oniePlatform(id: Pick<DeviceIdentity, 'arch' | 'machine' | 'machineRev'>): string {
  return `${id.arch}-${id.machine}-r${id.machineRev}`;
}
