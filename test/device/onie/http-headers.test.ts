import { describe, expect, it } from 'vitest';
import { onieRequestHeaders, onieUserAgent } from '../../../src/device/onie/http-headers.js';
import { accton } from './fixtures.js';

describe('onie HTTP identity', () => {
  it('glues kernel release and ONIE version together in the User-Agent', () => {
    expect(onieUserAgent(accton, { sysname: 'Linux', release: '4.9.95' })).toBe('onie/1.0 (Linux-4.9.952020.11.00.05; BusyBox-v1.25.1)');
  });

  it('sends the nine ONIE-* headers in wget_run order, the security key empty when unset', () => {
    const h = onieRequestHeaders(accton, { operation: 'onie-update' });
    expect(Object.entries(h)).toEqual([
      ['ONIE-SERIAL-NUMBER', 'AS7326-2035A01234'],
      ['ONIE-ETH-ADDR', '80:A2:35:5C:11:00'],
      ['ONIE-VENDOR-ID', '259'],
      ['ONIE-MACHINE', 'accton_as7326_56x'],
      ['ONIE-MACHINE-REV', '1'],
      ['ONIE-ARCH', 'x86_64'],
      ['ONIE-SECURITY-KEY', ''],
      ['ONIE-OPERATION', 'onie-update'],
      ['ONIE-VERSION', '2020.11.00.05'],
    ]);
    expect(onieRequestHeaders(accton, { operation: 'os-install', securityKey: 'k3y' })['ONIE-SECURITY-KEY']).toBe('k3y');
  });
});
