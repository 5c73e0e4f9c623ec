import type { Random } from '../random.js';
import type { DeviceIdentity } from './identity.js';

/**
 * A plausible x86 whitebox switch. Scenario files override any field; the serial and
 * MAC default to values drawn from the device's seeded random stream, so a fleet gets
 * distinct, reproducible identities.
 */
export function defaultIdentity(random: Random, overrides: Partial<DeviceIdentity> = {}): DeviceIdentity {
  const macBytes = [0x02, 0x42, random.u32() & 0xff, random.u32() & 0xff, random.u32() & 0xff, random.u32() & 0xff];
  const serial = `BL${(random.u32() % 1_000_000_000).toString().padStart(9, '0')}`;
  const base: DeviceIdentity = {
    serial,
    // EEPROM-backed platforms print the base MAC upper-case (onie-syseeprom uses %02X).
    mac: macBytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':'),
    vendorId: 259,
    arch: 'x86_64',
    machine: 'accton_as7326_56x',
    machineRev: 0,
    switchAsic: 'bcm',
    onieVersion: '2025.02.00.01',
    buildDate: '2025-02-20T10:00+0000',
    firmware: 'uefi',
    partitionType: 'gpt',
    kernelVersion: '6.1.38',
    configVersion: 1,
    partNumber: 'FP3ZZ7632014A',
    productName: 'AS7326-56X',
  };
  const merged = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}
