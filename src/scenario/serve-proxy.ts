import type { z } from 'zod';
import { BootlabError } from '../errors.js';
import type { ProxyDhcpConfig } from '../net/dhcp4/proxy-server.js';
import { findProxyRuleProblem, type ProxyDhcpReservation } from '../net/dhcp4/proxy-rules.js';
import type { Dhcp4Reservation } from '../net/dhcp4/server-config.js';
import { toClassRule, toOptionValues, type dhcpClassSchema, type dhcpOptionsSchema, type serveReservationSchema } from './dhcp-schema.js';
import type { FailAt } from './yaml-file.js';

type ServeReservation = z.output<typeof serveReservationSchema>;

/** The parts of a config file's `dhcp:` section a proxy reads. */
export interface ProxyFileSection {
  options: z.output<typeof dhcpOptionsSchema>;
  classes: Array<z.output<typeof dhcpClassSchema>>;
  reservations: ServeReservation[];
  leaseFile?: string | undefined;
  subnets: unknown[];
  faults?: unknown;
}

/** Flag values planServe has already checked. */
export interface ProxyFlagValues {
  bind: { address: string; port: number };
  bootServerPort?: number | undefined;
  serverId: string;
  replyTo: 'broadcast' | 'source';
  clientPort: number;
  nextServer?: string | undefined;
  bootFile?: string | undefined;
  bootFileName?: string | undefined;
}

/**
 * `--proxy-dhcp`: the config's class rules, reservations (boot options per host) and
 * global boot options, then `--boot-file` as the rule for every other PXE client.
 * `fail` names the config file's line; without a file, the flags are all there is.
 */
export function planProxy(d: ProxyFileSection | undefined, f: ProxyFlagValues, fail: FailAt | undefined): ProxyDhcpConfig {
  const at = (path: Array<string | number>, why: string): never => {
    if (fail) return fail(['dhcp', ...path], why);
    throw new BootlabError('BL_CLI_INPUT', `--proxy-dhcp: dhcp.${path.join('.')}: ${why}`);
  };
  if (d?.leaseFile !== undefined) at(['leaseFile'], 'a proxy leases nothing, so it keeps no lease file');
  if (d && d.subnets.length > 0) at(['subnets'], 'a proxy serves no address pools; relayed PXE clients get boot information all the same');
  if (d?.faults !== undefined) at(['faults'], 'fault injection is not wired to proxyDHCP');
  d?.reservations.forEach((r, i) => {
    if (r.circuitId !== undefined) at(['reservations', i, 'circuitId'], 'a proxy gives no addresses: reserve by circuitId with the DHCP server (--dhcp-range), or give that port a class rule with match.circuitId');
  });
  const options = toOptionValues(d?.options ?? {});
  const classes = (d?.classes ?? []).map((c) => toClassRule(c));
  const reservations: ProxyDhcpReservation[] = (d?.reservations ?? []).map((r) => ({
    ...(r.mac !== undefined ? { mac: r.mac } : {}),
    ...(r.clientId !== undefined ? { clientId: r.clientId } : {}),
    ...(r.address !== undefined ? { address: r.address } : {}),
    options: toOptionValues(r.options ?? {}),
  }));
  const problem = findProxyRuleProblem({ options, classes, reservations });
  if (problem) at(problem.path, problem.why);
  if (f.bootFile !== undefined || f.bootFileName !== undefined) {
    // After the config's rules: the catch-all for PXE clients none of them matched.
    classes.push({
      name: 'pxe',
      match: { vendorClassPrefix: 'PXEClient' },
      options: {
        nextServer: f.nextServer ?? f.serverId,
        ...(f.bootFile !== undefined ? { bootFile: f.bootFile } : {}),
        ...(f.bootFileName !== undefined ? { bootFileName: f.bootFileName } : {}),
        pxeDiscoveryControl: 8,
      },
    });
  }
  if (classes.length === 0 && reservations.length === 0 && Object.keys(options).length === 0) {
    throw new BootlabError('BL_CLI_INPUT', '--proxy-dhcp needs --boot-file (or dhcp classes, reservations or options in a --config file)');
  }
  return {
    bind: f.bind,
    ...(f.bootServerPort !== undefined ? { bootServerBind: { address: f.bind.address, port: f.bootServerPort } } : {}),
    serverId: f.serverId,
    replyTo: f.replyTo,
    clientPort: f.clientPort,
    classes,
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(reservations.length > 0 ? { reservations } : {}),
    bootFileInOffer: f.bootServerPort === undefined,
  };
}

/** The full server's reservations: each pins an address; per-host boot options are the proxy's. */
export function planReservations(list: ServeReservation[], fail: FailAt | undefined): Dhcp4Reservation[] {
  return list.map((r, i) => {
    const at = (field: string, why: string): never => {
      if (fail) return fail(['dhcp', 'reservations', i, field], why);
      throw new BootlabError('BL_CLI_INPUT', `dhcp.reservations[${i}].${field}: ${why}`);
    };
    if (r.address === undefined) at('address', 'the DHCP server needs the address to reserve (boot options per host are for --proxy-dhcp; give this host a class rule with match.mac)');
    if (r.options !== undefined) at('options', 'per-host options are for --proxy-dhcp; with --dhcp-range give this host a class rule with match.mac');
    return {
      ...(r.mac !== undefined ? { mac: r.mac } : {}),
      ...(r.clientId !== undefined ? { clientId: r.clientId } : {}),
      ...(r.circuitId !== undefined ? { circuitId: r.circuitId } : {}),
      address: r.address!,
    };
  });
}
