import { decodeLldpFrame, encodeLldpFrame } from '../protocol/lldp/frame.js';
import type { CablingPlan, ObservedNeighbour, PlannedLink } from './cabling.js';

/** A planned device's front-panel ports and the switch port (`switch:port`) each is cabled to. */
export interface DeviceUplinks {
  device: string;
  rack: string;
  position: string;
  ports: Readonly<Record<string, string>>;
}

/** An installed device as its NOS announces itself over LLDP. */
export interface Announcer {
  id: string;
  mac: string;
}

/** The plan as the switches see it: each switch port expects one device's port. */
export function cablingPlanOf(uplinks: readonly DeviceUplinks[], placements: CablingPlan['placements']): CablingPlan {
  const links: PlannedLink[] = [];
  for (const u of uplinks) {
    for (const [port, endpoint] of Object.entries(u.ports)) {
      const [sw, swPort] = splitEndpoint(endpoint);
      links.push({ device: sw, port: swPort, expected: { systemName: u.device, port } });
    }
  }
  return { links, ...(placements ? { placements } : {}) };
}

/**
 * What each switch port hears once the devices' NOS runs lldpd: every installed device
 * sends an LLDPDU (chassis = its MAC, port = the port's name, system name = its id) out of
 * each of its uplinks, and the cable as really laid — the plan with `swaps` applied —
 * carries it to a switch port. The frames are encoded to bytes and decoded back with the
 * codec, as a switch's agent would read them off the wire.
 */
export function heardOnSwitches(uplinks: readonly DeviceUplinks[], swaps: ReadonlyArray<readonly [string, string]>, installed: ReadonlyMap<string, Announcer>): ObservedNeighbour[] {
  // Switch port → the device port whose cable really ends there.
  const wire = new Map<string, { device: string; port: string }>();
  for (const u of uplinks) for (const [port, endpoint] of Object.entries(u.ports)) wire.set(endpoint, { device: u.device, port });
  for (const [a, b] of swaps) {
    const atA = wire.get(a);
    const atB = wire.get(b);
    wire.delete(a);
    wire.delete(b);
    if (atB) wire.set(a, atB);
    if (atA) wire.set(b, atA);
  }
  const observed: ObservedNeighbour[] = [];
  for (const [endpoint, end] of wire) {
    const sender = installed.get(end.device);
    if (!sender) continue;
    const frame = encodeLldpFrame({
      source: sender.mac,
      lldpdu: {
        chassisId: { kind: 'mac', mac: sender.mac.toLowerCase() },
        portId: { kind: 'text', subtype: 'interface-name', text: end.port },
        ttlSeconds: 120,
        tlvs: [
          { kind: 'port-description', text: end.port },
          { kind: 'system-name', text: sender.id },
        ],
      },
    });
    const decoded = decodeLldpFrame(frame);
    // Our own encoder's output: a decode failure is a bug in the codec, not input to report.
    if (!decoded.ok) throw decoded.error;
    const [sw, swPort] = splitEndpoint(endpoint);
    observed.push({ device: sw, port: swPort, lldpdu: decoded.value.lldpdu });
  }
  return observed;
}

export function splitEndpoint(endpoint: string): [string, string] {
  const i = endpoint.indexOf(':');
  return [endpoint.slice(0, i), endpoint.slice(i + 1)];
}
