import { idText } from '../protocol/lldp/ids.js';
import { portDescriptionOf, systemNameOf, type Lldpdu } from '../protocol/lldp/lldpdu.js';

/**
 * The cabling check: what each planned port heard over LLDP against what the rack plan
 * says should be at the cable's other end. Pure and linear: every lookup goes through a Map
 * built once, so a fleet of thousands of ports costs a few passes over the input.
 */

/** A neighbour as a plan names it: its chassis id or system name (or both), and its port. */
export interface NeighbourRef {
  /** The chassis id as text: a MAC (aa:bb:cc:dd:ee:ff, any case) or the id's text. */
  chassisId?: string;
  systemName?: string;
  /** The neighbour's port: its Port ID's text, or (lldpd's default) its port description. */
  port: string;
}

export interface PlannedLink {
  device: string;
  /** The local port of `device` the cable leaves from. */
  port: string;
  expected: NeighbourRef;
}

/** Where a neighbour system sits, so that a swapped rack can be told from a wrong partner. */
export interface NeighbourPlacement {
  chassisId?: string;
  systemName?: string;
  rack: string;
  /** Its position in the rack (a U number or a role such as "tor-a"): equal across racks. */
  position: string;
}

export interface CablingPlan {
  links: readonly PlannedLink[];
  placements?: readonly NeighbourPlacement[];
}

/** One LLDPDU decoded on a device's port. */
export interface ObservedNeighbour {
  device: string;
  port: string;
  lldpdu: Lldpdu;
}

/** What an LLDPDU says about its sender, as text. */
export interface SeenNeighbour {
  chassisId: string;
  systemName?: string;
  port: string;
  portDescription?: string;
}

interface FindingBase {
  device: string;
  port: string;
  expected: NeighbourRef;
}

export type CablingFinding =
  | (FindingBase & { kind: 'ok'; seen: SeenNeighbour })
  /** Nothing was heard on the port. */
  | (FindingBase & { kind: 'missing-link' })
  /**
   * Heard a neighbour that neither the plan for this port nor a swap explains. `plannedFor`
   * names the port the plan gives that neighbour to, when it has one (a cable moved to
   * another device); without it the neighbour is planned nowhere.
   */
  | (FindingBase & { kind: 'wrong-partner'; seen: SeenNeighbour; plannedFor?: { device: string; port: string } })
  /** This port hears `swappedWith`'s planned partner and `swappedWith` hears this one's. */
  | (FindingBase & { kind: 'cable-swap'; seen: SeenNeighbour; swappedWith: string })
  /** The partner heard is the planned one's counterpart in another rack (see isSwappedRack). */
  | (FindingBase & { kind: 'swapped-rack'; seen: SeenNeighbour; expectedRack: string; seenRack: string; position: string });

export function seenNeighbour(du: Lldpdu): SeenNeighbour {
  const systemName = systemNameOf(du);
  const portDescription = portDescriptionOf(du);
  return { chassisId: normalChassis(idText(du.chassisId)), ...(systemName !== undefined ? { systemName } : {}), port: idText(du.portId), ...(portDescription !== undefined ? { portDescription } : {}) };
}

/** MACs compare in any case and with - or :; other ids as they are. */
function normalChassis(id: string): string {
  return /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(id) ? id.toLowerCase().replace(/-/g, ':') : id;
}

/** The keys a system is known by: its chassis id and its system name, each when known. */
function systemKeys(s: { chassisId?: string | undefined; systemName?: string | undefined }): string[] {
  const keys: string[] = [];
  if (s.chassisId !== undefined) keys.push(`c\0${normalChassis(s.chassisId)}`);
  if (s.systemName !== undefined) keys.push(`n\0${s.systemName}`);
  return keys;
}

function sameSystem(ref: NeighbourRef, seen: SeenNeighbour): boolean {
  if (ref.chassisId === undefined && ref.systemName === undefined) return false;
  if (ref.chassisId !== undefined && normalChassis(ref.chassisId) !== normalChassis(seen.chassisId)) return false;
  return ref.systemName === undefined || ref.systemName === seen.systemName;
}

/** lldpd sends its MAC as Port ID and the interface name as description; either may be planned. */
function samePort(port: string, seen: SeenNeighbour): boolean {
  return port === seen.port || port === seen.portDescription;
}

const matches = (ref: NeighbourRef, seen: SeenNeighbour): boolean => sameSystem(ref, seen) && samePort(ref.port, seen);

const portKey = (device: string, port: string): string => `${device}\0${port}`;

export function checkCabling(plan: CablingPlan, observed: readonly ObservedNeighbour[]): CablingFinding[] {
  // What each local port heard, in arrival order.
  const heard = new Map<string, SeenNeighbour[]>();
  for (const o of observed) {
    const k = portKey(o.device, o.port);
    const list = heard.get(k);
    if (list) list.push(seenNeighbour(o.lldpdu));
    else heard.set(k, [seenNeighbour(o.lldpdu)]);
  }
  // Which planned links expect a given neighbour port (by each key of its system): to find
  // whose partner a stray is. Keyed by system and port, so a switch that half the fleet is
  // cabled to is many short lists, not one long one.
  const byNeighbourPort = new Map<string, PlannedLink[]>();
  for (const l of plan.links) {
    for (const k of systemKeys(l.expected)) {
      const key = portKey(k, l.expected.port);
      const list = byNeighbourPort.get(key);
      if (list) list.push(l);
      else byNeighbourPort.set(key, [l]);
    }
  }
  const placement = new Map<string, NeighbourPlacement>();
  for (const p of plan.placements ?? []) for (const k of systemKeys(p)) placement.set(k, p);
  const placementOf = (s: { chassisId?: string | undefined; systemName?: string | undefined }): NeighbourPlacement | undefined => {
    for (const k of systemKeys(s)) {
      const p = placement.get(k);
      if (p) return p;
    }
    return undefined;
  };

  /** The planned link (other than `self`) whose expected neighbour is `seen`, if any. */
  const plannedLinkFor = (seen: SeenNeighbour, self: PlannedLink): PlannedLink | undefined => {
    const ports = seen.portDescription === undefined ? [seen.port] : [seen.port, seen.portDescription];
    for (const k of systemKeys(seen)) {
      for (const p of ports) {
        // One cable per neighbour port: this list has one link unless the plan repeats itself.
        for (const l of byNeighbourPort.get(portKey(k, p)) ?? []) if (l !== self && matches(l.expected, seen)) return l;
      }
    }
    return undefined;
  };

  /**
   * A swapped rack: the neighbour heard sits at the same position as the planned partner
   * but in a different rack, and it is heard on the port the plan names. That is what a
   * cable (or a whole device) moved between two racks of the same layout looks like; a
   * neighbour at another position, or on another port, is a wrong partner instead.
   */
  const isSwappedRack = (expected: NeighbourRef, seen: SeenNeighbour): { expectedRack: string; seenRack: string; position: string } | undefined => {
    const want = placementOf(expected);
    const got = placementOf(seen);
    if (!want || !got || want.rack === got.rack || want.position !== got.position || !samePort(expected.port, seen)) return undefined;
    return { expectedRack: want.rack, seenRack: got.rack, position: want.position };
  };

  return plan.links.map((link): CablingFinding => {
    const base = { device: link.device, port: link.port, expected: link.expected };
    const seenList = heard.get(portKey(link.device, link.port)) ?? [];
    const first = seenList[0];
    if (first === undefined) return { ...base, kind: 'missing-link' };
    // On a shared segment a port hears several systems; the planned one among them is enough.
    const good = seenList.find((s) => matches(link.expected, s));
    if (good) return { ...base, kind: 'ok', seen: good };
    const other = plannedLinkFor(first, link);
    if (other && other.device === link.device) {
      const theirs = heard.get(portKey(other.device, other.port)) ?? [];
      if (theirs.some((s) => matches(link.expected, s))) return { ...base, kind: 'cable-swap', seen: first, swappedWith: other.port };
    }
    const rack = isSwappedRack(link.expected, first);
    if (rack) return { ...base, kind: 'swapped-rack', seen: first, ...rack };
    return { ...base, kind: 'wrong-partner', seen: first, ...(other ? { plannedFor: { device: other.device, port: other.port } } : {}) };
  });
}
