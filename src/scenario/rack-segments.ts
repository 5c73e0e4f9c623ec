import type { Clock } from '../clock.js';
import type { EventBus } from '../event-bus.js';
import { Dhcp4RelayAgent, type Dhcp4RelayStats } from '../net/dhcp4/relay-agent.js';
import { Dhcp4Server } from '../net/dhcp4/server.js';
import type { Dhcp4Subnet } from '../net/dhcp4/server-config.js';
import type { DatagramPeer } from '../net/datagram-port.js';
import { getOption } from '../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../protocol/dhcp4/packet.js';
import { relayAgentIds } from '../protocol/dhcp4/relay-agent-info.js';
import { Inventory, type AdmissionVerdict } from '../rack/inventory.js';
import type { RackPlan, ResolvedRack } from '../rack/plan.js';
import { toOptionValues } from './dhcp-schema.js';
import { scheduleOutages } from './outage-windows.js';

/** The DHCP server's subnets for a rack plan: one per rack, its positions' MACs reserved. */
export function rackSubnets(plan: RackPlan): Dhcp4Subnet[] {
  return plan.racks.map((r) => ({
    subnet: r.subnet,
    pool: r.pool,
    options: { subnetMask: r.subnetMask, router: [r.gateway] },
    reservations: r.reservations,
  }));
}

export interface RackRelayReport {
  rack: string;
  stats: Dhcp4RelayStats;
}

/**
 * The racks' segments in a run: one real relay agent per rack between its devices and the
 * run's DHCP server (giaddr = the rack's gateway, option 82 = the device's management
 * port and the rack's remote-id), the inventory check the server admits requests by, and
 * each relay's outage windows on the run's clock; and a rack's rogue DHCP server, which its
 * devices' broadcasts reach beside the relay.
 */
export class RackSegments {
  private readonly relays = new Map<string, { rack: ResolvedRack; agent: Dhcp4RelayAgent; address: DatagramPeer }>();
  private readonly rogues = new Map<string, { server: Dhcp4Server; address: DatagramPeer }>();
  private readonly rackByGateway = new Map<string, string>();
  private readonly inventory: Inventory;
  /**
   * The run's placed devices' MACs (lower case) → the inventory's latest verdict. Only
   * those are kept: a peer flooding a relay from new MACs must not grow it.
   */
  private readonly verdicts = new Map<string, AdmissionVerdict>();
  private readonly placedMacs = new Set<string>();
  private readonly cancels: Array<() => void> = [];

  private constructor(
    private readonly plan: RackPlan,
    private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {
    this.inventory = new Inventory(plan.records);
    for (const r of plan.racks) this.rackByGateway.set(r.gateway, r.spec.name);
  }

  /**
   * `macOf` gives each placed device's own MAC: what its relay port hears it by; `fill`
   * puts the run's HTTP address into a rogue server's `{http}` options.
   */
  static async start(
    plan: RackPlan,
    server: DatagramPeer,
    bind: string,
    macOf: (id: string) => string,
    fill: (text: string) => string,
    clock: Clock,
    bus: EventBus,
  ): Promise<RackSegments> {
    const segments = new RackSegments(plan, clock, bus);
    // The relay port a frame arrives on is where the device physically is: its placement.
    const circuitOf = new Map<string, string>();
    for (const [id, where] of plan.placement) {
      circuitOf.set(macOf(id).toLowerCase(), where.circuitId);
      segments.placedMacs.add(macOf(id).toLowerCase());
    }
    try {
      for (const rack of plan.racks) {
        const agent = new Dhcp4RelayAgent(
          { listen: { address: bind, port: 0 }, giaddr: rack.gateway, servers: [server], replyTo: 'source', agentIds: { circuitId: 'unplanned', remoteId: rack.remoteId } },
          {
            resolveIds: (req) => {
              const circuitId = circuitOf.get(req.chaddr.toLowerCase());
              return circuitId === undefined ? undefined : { circuitId, remoteId: rack.remoteId };
            },
            onEvent: (e) => {
              // An outage's drops are counted, not logged one by one: the window's own lines say it.
              if (e.type === 'relay.dropped' && e.detail.startsWith('relay-down:')) return;
              bus.emit({ type: e.type, message: `relay ${rack.spec.name} ${e.type.slice(6)}: ${e.detail}`, data: { rack: rack.spec.name, ...e } });
            },
          },
        );
        const address = await agent.start();
        segments.relays.set(rack.spec.name, { rack, agent, address });
        segments.scheduleOutages(rack, agent);
        if (rack.spec.rogueDhcp) segments.rogues.set(rack.spec.name, await startRogue(rack, rack.spec.rogueDhcp, bind, fill, bus));
      }
    } catch (e) {
      await segments.stop();
      throw e;
    }
    return segments;
  }

  /** Where a device sends its DHCP: its rack's relay, or undefined for a device outside the racks. */
  relayFor(deviceId: string): DatagramPeer | undefined {
    const where = this.plan.placement.get(deviceId);
    return where ? this.relays.get(where.rack)?.address : undefined;
  }

  /** Who else hears a device's DHCP broadcasts on its segment: its rack's rogue server, if any. */
  segmentPeersFor(deviceId: string): DatagramPeer[] {
    const where = this.plan.placement.get(deviceId);
    const rogue = where ? this.rogues.get(where.rack) : undefined;
    return rogue ? [rogue.address] : [];
  }

  /** The server's admission hook: requests relayed from a rack meet the inventory. */
  readonly admit = (req: Dhcp4Packet): { reason: string; detail: string } | undefined => {
    const rack = this.rackByGateway.get(req.giaddr);
    if (rack === undefined) return undefined;
    const v = this.inventory.check({ rack, circuitId: relayAgentIds(req).circuitId, mac: req.chaddr, serial: serialOf(req) });
    const mac = req.chaddr.toLowerCase();
    if (this.placedMacs.has(mac)) this.verdicts.set(mac, v);
    return v.verdict === 'admitted' ? undefined : { reason: v.verdict, detail: v.detail };
  };

  verdictFor(mac: string): AdmissionVerdict | undefined {
    return this.verdicts.get(mac.toLowerCase());
  }

  relayStats(): RackRelayReport[] {
    return [...this.relays.values()].map((r) => ({ rack: r.rack.spec.name, stats: r.agent.stats }));
  }

  async stop(): Promise<void> {
    for (const cancel of this.cancels) cancel();
    for (const r of this.relays.values()) await r.agent.stop().catch(() => undefined);
    for (const r of this.rogues.values()) await r.server.stop().catch(() => undefined);
  }

  private scheduleOutages(rack: ResolvedRack, agent: Dhcp4RelayAgent): void {
    const name = rack.spec.name;
    this.cancels.push(
      scheduleOutages(rack.spec.relay.down, this.clock, {
        down: (w) => {
          agent.suspend();
          this.bus.emit({ type: 'fault.relay-down', message: `relay ${name}: down (fault) for ${w.for} ms`, data: { rack: name } });
        },
        up: () => {
          agent.resume();
          this.bus.emit({ type: 'fault.relay-up', message: `relay ${name}: back up`, data: { rack: name } });
        },
      }),
    );
  }
}

type RogueSpec = NonNullable<ResolvedRack['spec']['rogueDhcp']>;

/**
 * A rack's rogue server: a plain DHCP server with its own pool and options, answering
 * whoever broadcasts on the segment. Its offers and ACKs are fault lines on the bus, not
 * the run's DHCP traffic, so the server's counts stay the run's own.
 */
async function startRogue(rack: ResolvedRack, spec: RogueSpec, bind: string, fill: (text: string) => string, bus: EventBus): Promise<{ server: Dhcp4Server; address: DatagramPeer }> {
  const name = rack.spec.name;
  const server = new Dhcp4Server(
    {
      bind: { address: bind, port: 0 },
      serverId: spec.address,
      replyTo: 'source',
      pool: { ...spec.pool, subnetMask: spec.subnetMask, leaseSeconds: 3600 },
      options: toOptionValues(spec.options, fill),
    },
    {
      onEvent: (e) => {
        if (e.type !== 'dhcp.offer' && e.type !== 'dhcp.ack') return;
        bus.emit({
          type: 'fault.rogue-dhcp',
          message: `rogue DHCP ${spec.address} on ${name}: ${e.type.slice(5).toUpperCase()} ${e.address ?? ''} to ${e.mac ?? '?'}`,
          data: { rack: name, server: spec.address, ...e },
        });
      },
    },
  );
  const address = await server.start();
  bus.emit({ type: 'fault.rogue-dhcp', message: `rogue DHCP ${spec.address} on ${name}'s segment (fault), pool ${spec.pool.start}-${spec.pool.end}`, data: { rack: name, server: spec.address } });
  return { server, address };
}

/** ONIE's option 61: type 0 then the serial number (RFC 2132 §9.14). */
function serialOf(req: Dhcp4Packet): string | undefined {
  const id = getOption(req, 61);
  if (!id || id.length < 2 || id[0] !== 0) return undefined;
  return Buffer.from(id.subarray(1)).toString('utf8');
}
