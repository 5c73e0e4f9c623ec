import { describe, expect, it } from 'vitest';
import { onieDefaultFilenames } from '../../../src/device/onie/default-filenames.js';
import { KVM_NAMES, accton, kvmIdentity } from './fixtures.js';

describe('onieDefaultFilenames', () => {
  it('gives the kvm list of onie.md §1.6 in ONIE order', () => {
    expect(onieDefaultFilenames(kvmIdentity, 'onie-installer')).toEqual(KVM_NAMES);
  });

  it('uses the revision, machine and silicon vendor of an EEPROM-style identity', () => {
    expect(onieDefaultFilenames(accton, 'onie-installer')).toEqual([
      'onie-installer-x86_64-accton_as7326_56x-r1',
      'onie-installer-x86_64-accton_as7326_56x-r1.bin',
      'onie-installer-x86_64-accton_as7326_56x',
      'onie-installer-x86_64-accton_as7326_56x.bin',
      'onie-installer-accton_as7326_56x',
      'onie-installer-accton_as7326_56x.bin',
      'onie-installer-x86_64-bcm',
      'onie-installer-x86_64-bcm.bin',
      'onie-installer-x86_64',
      'onie-installer-x86_64.bin',
      'onie-installer',
      'onie-installer.bin',
    ]);
  });

  it('uses the same twelve names with the onie-updater prefix', () => {
    const names = onieDefaultFilenames(kvmIdentity, 'onie-updater');
    expect(names).toHaveLength(12);
    expect(names[0]).toBe('onie-updater-x86_64-kvm_x86_64-r0');
    expect(names[6]).toBe('onie-updater-x86_64-qemu');
    expect(names[11]).toBe('onie-updater.bin');
  });
});
