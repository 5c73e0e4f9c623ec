import { z } from 'zod';
import { dhcpOptionsSchema, ipv4Schema, macSchema } from './dhcp-schema.js';
import { MAX_POWER_ON_CONCURRENCY } from './concurrency-limit.js';
import { outagesSchema } from './faults-schema.js';

/**
 * The rack plan and the rollout: racks behind DHCP relays, what the inventory says sits at
 * each position and how it is cabled, and the waves a bring-up powers on with their gates.
 * What is physically there is the position's `device`; what the inventory expects is
 * `expect` (default: that device's own serial and MAC), so a swapped label or an RMA
 * replacement is written as a position whose device does not match its record.
 */

const NAME = /^[A-Za-z0-9._-]+$/;
const name = (what: string) => z.string().regex(NAME, `${what} is letters, digits, . _ -`);

/** A switch port at the other end of a cable: `switch:port`, e.g. `r1-tor-a:Ethernet1`. */
export const endpointSchema = z.string().regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9._/-]+$/, 'a switch port as switch:port, e.g. r1-tor-a:Ethernet1');

const cidrSchema = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(8|9|[12]\d|30)$/, 'an IPv4 subnet like 10.1.1.0/24 (prefix 8 to 30)');

export const positionSchema = z
  .object({
    /** Its place in the rack: a U number or a role, e.g. U12 or leaf-a. */
    position: name('a position'),
    /** The id of the device physically in this position. */
    device: z.string().min(1),
    /** The inventory's record for the position; default: the device's own serial and MAC. */
    expect: z.object({ serial: z.string().min(1).optional(), mac: macSchema.optional() }).strict().optional(),
    /** The switch port its management port is cabled to: the relay's circuit-id for it. */
    mgmt: endpointSchema,
    /** Its front-panel ports and the switch port each is cabled to: what LLDP is checked against. */
    uplinks: z.record(z.string().regex(/^[A-Za-z0-9._/-]+$/, 'a port name'), endpointSchema).default({}),
  })
  .strict();

/**
 * Positions filled from a device template, one per device in fleet order: the template's
 * next `count` devices no rack has placed yet (default: all of them). The patterns take
 * {n}, numbered from `start` within this fill: `position: U{n:02}`, `mgmt: r1-mgmt:Gi1/{n}`.
 */
export const positionFillSchema = z
  .object({
    template: z.string().min(1),
    count: z.number().int().positive().optional(),
    start: z.number().int().nonnegative().default(1),
    position: z.string().min(1),
    mgmt: z.string().min(1),
    uplinks: z.record(z.string().regex(/^[A-Za-z0-9._/-]+$/, 'a port name'), z.string().min(1)).default({}),
  })
  .strict();

export const rackSchema = z
  .object({
    name: name('a rack name'),
    /** The rack's management subnet; the relay's giaddr is `gateway` in it. */
    subnet: cidrSchema,
    /** Default: the subnet's first address. */
    gateway: ipv4Schema.optional(),
    relay: z
      .object({
        /** Option 82 remote-id (default: the rack's name). Circuit-id is each position's mgmt port. */
        remoteId: z.string().min(1).max(255).optional(),
        /** Fault: the relay drops everything in these windows (its switch reloading). */
        down: outagesSchema,
      })
      .strict()
      .default({ down: [] }),
    positions: z.array(positionSchema).default([]),
    /** Positions filled from templates, after those written out. */
    fill: z.array(positionFillSchema).default([]),
    /** Devices on the rack's segment that the plan does not hold (an unknown box, cabled in). */
    unplanned: z.array(z.object({ device: z.string().min(1), mgmt: endpointSchema }).strict()).default([]),
    /**
     * Fault: a DHCP server nobody planned on the rack's management segment (a vendor's
     * demo box, a laptop's dnsmasq). It hears the devices' broadcasts directly, not
     * through the relay, and offers its own addresses and options, `{http}` filled as
     * for the run's server.
     */
    rogueDhcp: z
      .object({
        /**
         * Its server identifier (option 54). ONIE probes and fetches from the server that
         * leased it, so it is a loopback address: a run sends to nothing else.
         */
        address: ipv4Schema.refine((a) => a.startsWith('127.'), 'a loopback address (127.x.y.z): devices probe the server that leased them, and a run sends only to loopback').default('127.0.0.250'),
        pool: z.object({ start: ipv4Schema, end: ipv4Schema }).strict().default({ start: '192.168.1.100', end: '192.168.1.199' }),
        subnetMask: ipv4Schema.default('255.255.255.0'),
        options: dhcpOptionsSchema.default({}),
      })
      .strict()
      .optional(),
    /** Fault: cables crossed at these pairs of switch ports (what the LLDP check must catch). */
    cableSwaps: z.array(z.tuple([endpointSchema, endpointSchema])).default([]),
    /**
     * What the cabling check must find, by switch port (`r1-tor-a:Ethernet1: cable-swap`);
     * every planned link not listed must be ok.
     */
    expect: z
      .object({ cabling: z.record(endpointSchema, z.enum(['ok', 'missing-link', 'wrong-partner', 'cable-swap', 'swapped-rack'])).default({}) })
      .strict()
      .default({ cabling: {} }),
  })
  .strict();

const rate = z.number().min(0).max(1, 'a rate is between 0 and 1 (0.95 is 95 %)');

export const waveSchema = z
  .object({
    name: name('a wave name'),
    /** Racks whose devices (planned and unplanned) this wave powers on. */
    racks: z.array(z.string()).default([]),
    /** Devices this wave powers on, by id (those outside racks, or part of a rack). */
    devices: z.array(z.string()).default([]),
    /** Devices booting at once in this wave (default: powerOn.concurrency). */
    concurrency: z.number().int().positive().max(MAX_POWER_ON_CONCURRENCY).optional(),
    /** What must hold before the next wave starts. */
    gate: z
      .object({
        /** Installed devices / devices of the wave (default 1: all). */
        installRate: rate.default(1),
        /** Attestation passes / devices of the wave; checked when given. */
        attestRate: rate.optional(),
        /** Every planned link of the wave's devices is ok (default true). */
        cablingClean: z.boolean().default(true),
      })
      .strict()
      .default({ installRate: 1, cablingClean: true }),
  })
  .strict();

export const rolloutSchema = z
  .object({
    waves: z.array(waveSchema).min(1),
    /** The wave whose gate must fail and halt the rollout; absent: every gate must pass. */
    expect: z.object({ haltedAt: z.string().optional() }).strict().default({}),
  })
  .strict();

export type RackSpec = z.output<typeof rackSchema>;
export type WaveSpec = z.output<typeof waveSchema>;
export type RolloutSpec = z.output<typeof rolloutSchema>;
export const INVENTORY_VERDICTS = ['admitted', 'unknown-device', 'serial-mismatch', 'mac-mismatch', 'wrong-position', 'unknown-port', 'not-seen'] as const;
export type InventoryVerdict = (typeof INVENTORY_VERDICTS)[number];
