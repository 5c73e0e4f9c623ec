import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capabilityNames } from '../../../src/protocol/lldp/capabilities.js';
import { decodeLldpFrame, encodeLldpFrame, LLDP_NEAREST_BRIDGE } from '../../../src/protocol/lldp/frame.js';
import { findTlv, systemNameOf } from '../../../src/protocol/lldp/lldpdu.js';

/** One frame a real lldpd sent (test/fixtures/lldp/README.md says how it was captured). */
const frame = Buffer.from(readFileSync(new URL('../../fixtures/lldp/lldpd-frame.hex', import.meta.url), 'utf8').trim(), 'hex');

/** lldpd 1.0.16 on Linux: what it could be, and that it is (IP forwarding off) a station. */
const CAPS_SUPPORTED = ['bridge', 'wlan-access-point', 'router', 'station-only'];
const CAPS_ENABLED = ['station-only'];

describe('an LLDPDU captured from lldpd', () => {
  const r = decodeLldpFrame(frame);

  it('decodes to the chassis, port, name and TTL lldpd was given', () => {
    if (!r.ok) throw r.error;
    const { destination, source, lldpdu } = r.value;
    expect(destination).toBe(LLDP_NEAREST_BRIDGE);
    expect(source).toBe('02:b1:00:00:00:01');
    expect(lldpdu.chassisId).toEqual({ kind: 'mac', mac: '02:b1:00:00:00:01' });
    expect(lldpdu.portId).toEqual({ kind: 'text', subtype: 'interface-name', text: 'bl-lldp0' });
    expect(systemNameOf(lldpdu)).toBe('bootlab-fixture-agent');
    expect(findTlv(lldpdu, 'system-description')?.text).toBe('bootlab fixture: lldpd in a network namespace');
    // lldpd's default: a 30 s interval × a hold of 4.
    expect(lldpdu.ttlSeconds).toBe(120);
  });

  it('decodes its capabilities and management address', () => {
    if (!r.ok) throw r.error;
    const caps = findTlv(r.value.lldpdu, 'system-capabilities');
    expect(caps && capabilityNames(caps.supported)).toEqual(CAPS_SUPPORTED);
    expect(caps && capabilityNames(caps.enabled)).toEqual(CAPS_ENABLED);
    const addresses = r.value.lldpdu.tlvs.filter((t) => t.kind === 'management-address');
    expect(addresses.map((a) => [a.address, a.interfaceNumbering])).toEqual([
      [{ family: 'ipv4', address: '192.0.2.1' }, 'if-index'],
      // lldpd announces the port's IPv6 link-local address too.
      [{ family: 'ipv6', address: 'fe80::b1:ff:fe00:1' }, 'if-index'],
    ]);
    expect(findTlv(r.value.lldpdu, 'port-description')?.text).toBe('bl-lldp0');
  });

  it('re-encodes byte for byte, lldpd\'s organizationally specific TLVs included', () => {
    if (!r.ok) throw r.error;
    expect(r.value.lldpdu.tlvs.some((t) => t.kind === 'org-specific')).toBe(true);
    expect(encodeLldpFrame(r.value).toString('hex')).toBe(frame.toString('hex'));
  });
});
