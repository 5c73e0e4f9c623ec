import { z } from 'zod';
import type { Dhcp4ClassRule, Dhcp4OptionValues } from '../net/dhcp4/server.js';
import type { Dhcp4Reservation, Dhcp4Subnet } from '../net/dhcp4/server-config.js';

/** Pieces of the scenario schema that `bootlab serve` config files share. */

export const ipv4Schema = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'expected a dotted IPv4 address');
/** A dotted IPv4 address (already matched by ipv4Schema) as the unsigned number ranges compare. */
export function ipv4Number(text: string): number {
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export const macSchema = z.string().regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, 'expected a MAC address like 52:54:00:12:34:56');
/** Node's timers hold a signed 32-bit millisecond count; a longer wait fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Option 51 is an unsigned 32-bit count of seconds. */
export const MAX_LEASE_MS = (2 ** 32 - 1) * 1000;

const durationText = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'expected a duration like 500ms, 20s, 2m, 1h or 7d')])
  .transform((v) => (typeof v === 'number' ? v * 1000 : parseDuration(v)));

/** A wait that some timer holds (a deadline, a pause, a retransmission): at most MAX_TIMER_MS. */
export const durationSchema = durationText.refine((ms) => ms <= MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days): the longest wait a timer can hold`);

/** A lease time: sent as option 51 and compared with the clock, never held by a timer. */
export const leaseDurationSchema = durationText
  .refine((ms) => ms >= 1000, 'a lease lasts at least 1s')
  .refine((ms) => ms <= MAX_LEASE_MS, `at most ${MAX_LEASE_MS / 1000}s (option 51 is a 32-bit count of seconds)`);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in `500ms`, `20s`, `2m`, `1h`, `7d`. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new RangeError(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** A URL template: `{http}` becomes the run's HTTP server `host:port` once it is listening. */
export const urlTemplateSchema = z.string().min(1);

export const dhcpOptionsSchema = z
  .object({
    router: z.array(ipv4Schema).optional(),
    dns: z.array(ipv4Schema).optional(),
    domainName: z.string().optional(),
    hostname: z.string().optional(),
    logServer: z.array(ipv4Schema).optional(),
    wwwServer: z.array(z.string()).optional(),
    tftpServerName: z.string().optional(),
    bootFileName: urlTemplateSchema.optional(),
    tftpServerAddresses: z.array(ipv4Schema).optional(),
    defaultUrl: urlTemplateSchema.optional(),
    onie: z.object({ installerUrl: urlTemplateSchema.optional(), updaterUrl: urlTemplateSchema.optional() }).strict().optional(),
    nextServer: z.string().optional(),
    bootFile: z.string().optional(),
    serverName: z.string().optional(),
    pxeDiscoveryControl: z.number().int().min(0).max(255).optional(),
    pxeBootServers: z.array(z.object({ type: z.number().int().min(0).max(0xffff), addresses: z.array(ipv4Schema).min(1) }).strict()).optional(),
    pxeBootMenu: z.array(z.object({ type: z.number().int().min(0).max(0xffff), description: z.string().max(255) }).strict()).optional(),
    pxeMenuPrompt: z.object({ timeout: z.number().int().min(0).max(255), text: z.string() }).strict().optional(),
    ipxeNoProxyWait: z.boolean().optional(),
  })
  .strict();

/** Option 82's circuit-id or remote-id as its relay sends it (text, at most 255 bytes). */
const circuitIdSchema = z.string().min(1).max(255);

/**
 * dnsmasq's dhcp-host: a fixed address for one MAC or one option 61 (hex, type byte
 * first), or Kea's circuit-id reservation: for whatever sits at one switch port.
 */
export const dhcpReservationSchema = z
  .object({
    mac: macSchema.optional(),
    clientId: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'clientId is the hex of option 61, e.g. 00534e2d3432').optional(),
    /** The relay's option 82 circuit-id (text): the address goes with the switch port. */
    circuitId: circuitIdSchema.optional(),
    address: ipv4Schema,
  })
  .strict()
  .refine((r) => r.mac !== undefined || r.clientId !== undefined || r.circuitId !== undefined, 'a reservation needs mac, clientId or circuitId');

/**
 * `bootlab serve`'s reservations: an address for the full server, or boot options for
 * proxyDHCP (which leases nothing); planServe checks which one the mode needs.
 */
export const serveReservationSchema = z
  .object({
    mac: macSchema.optional(),
    clientId: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'clientId is the hex of option 61, e.g. 00534e2d3432').optional(),
    /** The relay's option 82 circuit-id (text): the address goes with the switch port (DHCP server only). */
    circuitId: circuitIdSchema.optional(),
    address: ipv4Schema.optional(),
    options: dhcpOptionsSchema.optional(),
  })
  .strict()
  .refine((r) => r.mac !== undefined || r.clientId !== undefined || r.circuitId !== undefined, 'a reservation needs mac, clientId or circuitId');

export function toReservation(r: z.output<typeof dhcpReservationSchema>): Dhcp4Reservation {
  return plainData(r, (s) => s) as Dhcp4Reservation;
}

/** A subnet served to requests relayed from it. */
export const dhcpSubnetSchema = z
  .object({
    subnet: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/(\d|[12]\d|3[0-2])$/, 'expected an IPv4 CIDR like 10.9.0.0/24'),
    range: z
      .string()
      .regex(/^[\d.]+-[\d.]+$/, 'expected START-END')
      .transform((r) => ({ start: r.split('-')[0]!, end: r.split('-')[1]! })),
    leaseTime: leaseDurationSchema.optional(),
    options: dhcpOptionsSchema.default({}),
    reservations: z.array(dhcpReservationSchema).default([]),
  })
  .strict();

export function toSubnet(n: z.output<typeof dhcpSubnetSchema>): Dhcp4Subnet {
  return {
    subnet: n.subnet,
    pool: n.range,
    ...(n.leaseTime !== undefined ? { leaseSeconds: Math.max(1, Math.round(n.leaseTime / 1000)) } : {}),
    options: toOptionValues(n.options),
    reservations: n.reservations.map(toReservation),
  };
}

export const dhcpClassSchema = z
  .object({
    name: z.string().min(1),
    match: z
      .object({
        vendorClassPrefix: z.string().optional(),
        userClass: z.string().optional(),
        arch: z.array(z.number().int().min(0).max(0xffff)).optional(),
        ipxe: z.boolean().optional(),
        mac: z.array(z.string().regex(/^([0-9a-fA-F]{2}|\*)(:([0-9a-fA-F]{2}|\*)){5}$/, 'expected a MAC or a pattern like 52:54:00:*:*:*')).optional(),
        clientId: z.string().regex(/^([0-9a-fA-F]{2})+$/, 'clientId is the hex of option 61').optional(),
        /** The relay's option 82 circuit-id (text), e.g. leaf1:Ethernet4: dnsmasq's dhcp-circuitid. */
        circuitId: circuitIdSchema.optional(),
        /** The relay's option 82 remote-id (text): dnsmasq's dhcp-remoteid. */
        remoteId: circuitIdSchema.optional(),
      })
      .strict()
      .refine((m) => Object.values(m).some((v) => v !== undefined), 'a match needs at least one condition'),
    options: dhcpOptionsSchema,
    force: z.array(z.number().int().min(1).max(254)).optional(),
  })
  .strict();


/**
 * Schema output → server config: drops the keys zod leaves `undefined` (the server's
 * types are exact) and applies `fill` to every string (scenario URL templates).
 */
export function toOptionValues(o: z.output<typeof dhcpOptionsSchema>, fill: (s: string) => string = (s) => s): Dhcp4OptionValues {
  return plainData(o, fill) as Dhcp4OptionValues;
}

export function toClassRule(c: z.output<typeof dhcpClassSchema>, fill: (s: string) => string = (s) => s): Dhcp4ClassRule {
  return plainData(c, fill) as Dhcp4ClassRule;
}

function plainData(value: unknown, fill: (s: string) => string): unknown {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) => (typeof v === 'string' ? fill(v) : v));
}
