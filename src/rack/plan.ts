import type { RackSpec } from '../scenario/rack-schema.js';
import { ipv4Number } from '../scenario/dhcp-schema.js';
import type { InventoryRecord } from './inventory.js';
import type { DeviceUplinks } from './lldp-fabric.js';

type Fail = (path: (string | number)[], message: string) => never;

/** Where one device sits: its rack, position (none for an unplanned one) and the relay port it hangs off. */
export interface DevicePlacement {
  rack: string;
  position?: string;
  /** Option 82 circuit-id: the switch port its management port is cabled to. */
  circuitId: string;
}

/** One rack, resolved: its subnet's numbers and the addresses reserved for its positions. */
export interface ResolvedRack {
  spec: RackSpec;
  /** Index in `racks`, for messages that point at the file. */
  index: number;
  subnet: string;
  gateway: string;
  remoteId: string;
  /** The DHCP pool of the rack's subnet: the addresses after the positions' reservations. */
  pool: { start: string; end: string };
  subnetMask: string;
  reservations: Array<{ mac: string; address: string }>;
}

export interface RackPlan {
  racks: ResolvedRack[];
  /** Device id → where it is (planned or unplanned). */
  placement: Map<string, DevicePlacement>;
  records: InventoryRecord[];
  uplinks: DeviceUplinks[];
  /** Devices at the same position in two racks compare as a swapped rack in the cabling check. */
  placements: Array<{ systemName: string; rack: string; position: string }>;
}

/**
 * The rack plan, checked against the fleet: every device it places exists and is placed
 * once, positions and switch ports are unique, each subnet holds its gateway and a
 * reservation per position. `identityOf` gives a device's own serial and MAC, the
 * inventory's default record for its position.
 */
export function resolveRackPlan(racks: readonly RackSpec[], deviceIds: ReadonlySet<string>, identityOf: (id: string) => { serial: string; mac: string }, fail: Fail): RackPlan {
  const placement = new Map<string, DevicePlacement>();
  const records: InventoryRecord[] = [];
  const uplinks: DeviceUplinks[] = [];
  const placements: RackPlan['placements'] = [];
  const resolved: ResolvedRack[] = [];
  const names = new Set<string>();
  const subnets: Array<{ lo: number; hi: number; rack: string }> = [];
  const mgmtPorts = new Map<string, string>();
  const uplinkPorts = new Map<string, string>();
  const place = (device: string, where: DevicePlacement, path: (string | number)[]): void => {
    if (!deviceIds.has(device)) fail(path, `no device "${device}" in devices`);
    const other = placement.get(device);
    if (other) fail(path, `device ${device} is already placed in rack ${other.rack}${other.position ? ` at ${other.position}` : ''}`);
    placement.set(device, where);
  };
  const claimMgmt = (endpoint: string, owner: string, path: (string | number)[]): void => {
    const other = mgmtPorts.get(endpoint);
    if (other) fail(path, `switch port ${endpoint} is already the management port of ${other}`);
    mgmtPorts.set(endpoint, owner);
  };

  racks.forEach((r, i) => {
    const at = ['racks', i];
    if (names.has(r.name)) fail([...at, 'name'], `duplicate rack name "${r.name}"`);
    names.add(r.name);
    const [base, prefixText] = r.subnet.split('/') as [string, string];
    const prefix = Number(prefixText);
    const size = 2 ** (32 - prefix);
    const network = ipv4Number(base);
    if (base.split('.').some((o) => Number(o) > 255)) fail([...at, 'subnet'], `${r.subnet}: an octet is above 255`);
    if (network % size !== 0) fail([...at, 'subnet'], `${r.subnet} is not a network address (the host bits are not zero)`);
    const lo = network;
    const hi = network + size - 1;
    const clash = subnets.find((s) => s.lo <= hi && lo <= s.hi);
    if (clash) fail([...at, 'subnet'], `${r.subnet} overlaps rack ${clash.rack}'s subnet`);
    subnets.push({ lo, hi, rack: r.name });
    const gateway = r.gateway ?? ipText(lo + 1);
    const g = ipv4Number(gateway);
    if (g <= lo || g >= hi) fail([...at, 'gateway'], `${gateway} is not a host address of ${r.subnet}`);
    // Hosts are lo+1 .. hi-1 less the gateway: positions first, in order, then the pool.
    const hosts = function* (): Generator<number> {
      for (let a = lo + 1; a < hi; a++) if (a !== g) yield a;
    };
    const free = hosts();
    const reservations: ResolvedRack['reservations'] = [];
    const positions = new Set<string>();
    r.positions.forEach((p, j) => {
      const pat = [...at, 'positions', j];
      if (positions.has(p.position)) fail([...pat, 'position'], `duplicate position "${p.position}" in rack ${r.name}`);
      positions.add(p.position);
      place(p.device, { rack: r.name, position: p.position, circuitId: p.mgmt }, [...pat, 'device']);
      claimMgmt(p.mgmt, `${r.name}/${p.position}`, [...pat, 'mgmt']);
      const own = identityOf(p.device);
      const record: InventoryRecord = { rack: r.name, position: p.position, circuitId: p.mgmt, serial: p.expect?.serial ?? own.serial, mac: (p.expect?.mac ?? own.mac).toLowerCase() };
      records.push(record);
      const next = free.next();
      if (next.done) fail([...pat], `rack ${r.name}'s subnet ${r.subnet} has no address left for position ${p.position}`);
      reservations.push({ mac: record.mac, address: ipText(next.value) });
      for (const [port, endpoint] of Object.entries(p.uplinks)) {
        const other = uplinkPorts.get(endpoint) ?? mgmtPorts.get(endpoint);
        if (other) fail([...pat, 'uplinks', port], `switch port ${endpoint} is already cabled to ${other}`);
        uplinkPorts.set(endpoint, `${p.device}:${port}`);
      }
      uplinks.push({ device: p.device, rack: r.name, position: p.position, ports: p.uplinks });
      placements.push({ systemName: p.device, rack: r.name, position: p.position });
    });
    r.unplanned.forEach((u, j) => {
      place(u.device, { rack: r.name, circuitId: u.mgmt }, [...at, 'unplanned', j, 'device']);
      claimMgmt(u.mgmt, u.device, [...at, 'unplanned', j, 'mgmt']);
    });
    const first = free.next();
    // Unplanned devices are refused by the inventory, so the pool only needs to exist.
    const poolStart = first.done ? reservations.at(-1)!.address : ipText(first.value);
    resolved.push({
      spec: r,
      index: i,
      subnet: r.subnet,
      gateway,
      remoteId: r.relay.remoteId ?? r.name,
      pool: { start: poolStart, end: ipText(hi - 1 === g ? hi - 2 : hi - 1) },
      subnetMask: ipText(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0),
      reservations,
    });
  });
  racks.forEach((r, i) =>
    r.cableSwaps.forEach((pair, j) => {
      pair.forEach((endpoint, k) => {
        if (!uplinkPorts.has(endpoint)) fail(['racks', i, 'cableSwaps', j, k], `switch port ${endpoint} has no planned cable (see positions[].uplinks)`);
      });
      if (pair[0] === pair[1]) fail(['racks', i, 'cableSwaps', j], 'a cable swap needs two different switch ports');
    }),
  );
  return { racks: resolved, placement, records, uplinks, placements };
}

export function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
