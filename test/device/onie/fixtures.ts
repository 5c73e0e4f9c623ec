import type { DeviceIdentity } from '../../../src/device/identity.js';

/** ONIE's reference VM (machine/kvm_x86_64): lower-case MAC from eth0. */
export const kvmIdentity: DeviceIdentity = {
  serial: 'VM-1234567890',
  mac: '52:54:00:13:34:01',
  vendorId: 42623,
  arch: 'x86_64',
  machine: 'kvm_x86_64',
  machineRev: 0,
  switchAsic: 'qemu',
  onieVersion: '2025.02.00.01',
  buildDate: '2025-02-20T10:00+0000',
  firmware: 'uefi',
  partitionType: 'gpt',
  kernelVersion: '5.4.86',
  configVersion: 1,
  partNumber: 'KVM-0001',
  productName: 'kvm',
};

/** An EEPROM-backed whitebox: upper-case MAC as onie-syseeprom prints it. */
export const accton: DeviceIdentity = {
  serial: 'AS7326-2035A01234',
  mac: '80:A2:35:5C:11:00',
  vendorId: 259,
  arch: 'x86_64',
  machine: 'accton_as7326_56x',
  machineRev: 1,
  switchAsic: 'bcm',
  onieVersion: '2020.11.00.05',
  buildDate: '2021-03-02T11:12+0800',
  firmware: 'bios',
  partitionType: 'gpt',
  kernelVersion: '4.9.95',
  configVersion: 1,
  partNumber: 'FP3ZZ7632014A',
  productName: '7326-56X-O-AC-F',
};

/** onie.md §1.6: the 12 default names for kvm_x86_64, in ONIE's order. */
export const KVM_NAMES = [
  'onie-installer-x86_64-kvm_x86_64-r0',
  'onie-installer-x86_64-kvm_x86_64-r0.bin',
  'onie-installer-x86_64-kvm_x86_64',
  'onie-installer-x86_64-kvm_x86_64.bin',
  'onie-installer-kvm_x86_64',
  'onie-installer-kvm_x86_64.bin',
  'onie-installer-x86_64-qemu',
  'onie-installer-x86_64-qemu.bin',
  'onie-installer-x86_64',
  'onie-installer-x86_64.bin',
  'onie-installer',
  'onie-installer.bin',
];
