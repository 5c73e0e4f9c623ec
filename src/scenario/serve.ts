import type { EventBus } from '../event-bus.js';
import type { DatagramPeer } from '../net/datagram-port.js';
import { Dhcp4Server } from '../net/dhcp4/server.js';
import { HttpImageServer } from '../net/http-image-server.js';
import { ProxyDhcpServer } from '../net/dhcp4/proxy-server.js';
import { Dhcp6Server } from '../net/dhcp6/server.js';
import type { ServePlan } from './serve-config.js';

/** DHCP events shown even without per-exchange output. */
const ALWAYS_SHOWN = new Set(['dhcp.pool-exhausted', 'dhcp.lease-file']);

export interface Serving {
  dhcp?: DatagramPeer;
  proxy?: { dhcp: DatagramPeer; bootServer?: DatagramPeer };
  dhcp6?: { address: string; port: number };
  http?: { address: string; port: number };
  stop(): Promise<void>;
}

/**
 * Starts the services a plan configures, publishing every exchange on the bus: the same
 * server classes a scenario run starts, bound to real addresses for real machines.
 */
export async function startServe(plan: ServePlan, bus: EventBus, opts: { exchanges?: boolean } = {}): Promise<Serving> {
  // Without per-exchange output (serve --quiet) a lease costs no log work at all; what an
  // operator must always see (an exhausted pool, the lease file) still comes through.
  const exchanges = opts.exchanges ?? true;
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const serving: Serving = { stop };
    if (plan.http) {
      const http = new HttpImageServer(plan.http, {
        onEvent: (e) =>
          exchanges &&
          bus.emit({
            type: e.type,
            message: `HTTP ${e.remote} ${e.method} ${e.path} ${e.status} ${e.bytes}${e.userAgent ? ` "${e.userAgent}"` : ''}${
              Object.keys(e.onieHeaders).length ? ` ${Object.entries(e.onieHeaders).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''
            }`,
            data: { ...e },
          }),
      });
      serving.http = await http.start();
      stops.push(() => http.stop());
    }
    if (plan.dhcp) {
      const dhcp = new Dhcp4Server(plan.dhcp, {
        onEvent: (e) =>
          (exchanges || ALWAYS_SHOWN.has(e.type)) &&
          bus.emit({
            type: e.type,
            message: `DHCP ${e.type.slice(5)}${e.mac ? ` ${e.mac}` : ''}${e.address ? ` ${e.address}` : ''}${e.className ? ` [${e.className}]` : ''}${
              e.detail ? `: ${e.detail}` : ''
            }`,
            data: { ...e },
          }),
      });
      serving.dhcp = await dhcp.start();
      stops.push(() => dhcp.stop());
    }
    if (plan.proxy) {
      const proxy = new ProxyDhcpServer(plan.proxy, {
        onEvent: (e) =>
          (exchanges || ALWAYS_SHOWN.has(e.type)) &&
          bus.emit({ type: e.type, message: `proxyDHCP ${e.type.slice(5)}${e.mac ? ` ${e.mac}` : ''}${e.className ? ` [${e.className}]` : ''}${e.detail ? `: ${e.detail}` : ''}`, data: { ...e } }),
      });
      serving.proxy = await proxy.start();
      stops.push(() => proxy.stop());
    }
    if (plan.dhcp6) {
      const dhcp6 = new Dhcp6Server(plan.dhcp6, {
        onEvent: (e) =>
          (exchanges || e.type === 'dhcp6.pool-exhausted') &&
          bus.emit({ type: e.type, message: `DHCPv6 ${e.type.slice(6)}${e.client ? ` ${e.client}` : ''}${e.address ? ` ${e.address}` : ''}${e.className ? ` [${e.className}]` : ''}${e.detail ? `: ${e.detail}` : ''}`, data: { ...e } }),
      });
      serving.dhcp6 = await dhcp6.start();
      stops.push(() => dhcp6.stop());
    }
    return serving;
  } catch (e) {
    await stop();
    throw e;
  }
}
