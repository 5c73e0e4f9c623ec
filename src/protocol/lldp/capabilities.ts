/**
 * The System Capabilities bit maps (IEEE 802.1AB-2016 Table 8-4), bit 0 first. The TLV keeps
 * the two 16-bit maps as numbers so reserved bits survive a round trip; these name them.
 */
export const LLDP_CAPABILITIES = [
  'other',
  'repeater',
  'bridge',
  'wlan-access-point',
  'router',
  'telephone',
  'docsis-cable-device',
  'station-only',
  'c-vlan-component',
  's-vlan-component',
  'two-port-mac-relay',
] as const;

export type LldpCapability = (typeof LLDP_CAPABILITIES)[number];

/** The named bits set in a map, in bit order (reserved bits 11..15 are not named). */
export function capabilityNames(map: number): LldpCapability[] {
  return LLDP_CAPABILITIES.filter((_, bit) => (map & (1 << bit)) !== 0);
}

export function capabilityMap(names: readonly LldpCapability[]): number {
  return names.reduce((m, n) => m | (1 << LLDP_CAPABILITIES.indexOf(n)), 0);
}
