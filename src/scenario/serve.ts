import { BootlabError, EnvironmentError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { DatagramPeer } from '../net/datagram-port.js';
import { Dhcp4Server } from '../net/dhcp4/server.js';
import { HttpImageServer } from '../net/http-image-server.js';
import { ProxyDhcpServer } from '../net/dhcp4/proxy-server.js';
import { Dhcp6Server } from '../net/dhcp6/server.js';
import { TftpServer } from '../net/tftp/server.js';
import { RouterAdvertiser } from '../net/icmp6/router-advertiser.js';
import { ScaledClock } from '../clock.js';
import { bindUdp, hearingBroadcasts, LIMITED_BROADCAST, needsBroadcastEar, type DatagramPortFactory } from '../net/datagram-port.js';
import { describeFaults, faultyPorts, type FaultPlan } from '../net/faults.js';
import { SeededRandom } from '../random.js';
import type { ServePlan } from './serve-config.js';
import { publish } from './server-events.js';

/** DHCP events shown even without per-exchange output. */
const ALWAYS_SHOWN = new Set(['dhcp.pool-exhausted', 'dhcp.lease-file', 'dhcp6.pool-exhausted']);

export interface Serving {
  dhcp?: DatagramPeer;
  proxy?: { dhcp: DatagramPeer; bootServer?: DatagramPeer };
  dhcp6?: { address: string; port: number; groups?: string[] };
  tftp?: DatagramPeer;
  http?: { address: string; port: number };
  /** The same services' IPv6 listeners (serve --bind6). */
  tftp6?: DatagramPeer;
  http6?: { address: string; port: number };
  /** Router advertisements on this interface. */
  ra?: { interface: string };
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
  // The service being started, so a refused bind says whose port it was and which flag moves it.
  let starting: Starting = { service: 'serve', portFlag: '' };
  try {
    const serving: Serving = { stop };
    const random = new SeededRandom(plan.seed);
    const clock = new ScaledClock(1);
    /** Sockets of one service, wrapped in its configured faults (announced, never silent). */
    const ports = (service: string, faults: FaultPlan | undefined, base: DatagramPortFactory = bindUdp) => {
      if (!faults) return base === bindUdp ? {} : { openPort: base };
      bus.emit({ type: 'serve.faults', message: `${service}: injecting faults: ${describeFaults(faults)} (seed ${plan.seed})` });
      return { openPort: faultyPorts(base, faults, random.fork(service), clock) };
    };
    /** Port 67 bound to a unicast address hears broadcasts on a second socket (say so: it is a second bind). */
    const dhcpPorts = (service: string, bind: { address: string; port: number }): DatagramPortFactory => {
      if (!needsBroadcastEar(bind.address)) return bindUdp;
      bus.emit({ type: 'serve.bind', message: `${service}: ${bind.address}:${bind.port} takes unicasts, ${LIMITED_BROADCAST}:${bind.port} takes broadcasts (a socket bound to a unicast address hears none); replies leave from ${bind.address}` });
      const ear = hearingBroadcasts(bindUdp);
      // Only the DHCP port: proxyDHCP's boot server (4011) is asked by unicast.
      return (o) => (o.port === bind.port && o.address === bind.address ? ear(o) : bindUdp(o));
    };
    const shown = (type: string): boolean => exchanges || ALWAYS_SHOWN.has(type);
    if (plan.http) {
      // Refusals and drops are shown even with --quiet: they are what a flood looks like.
      const http = new HttpImageServer(plan.http, { onEvent: publish.http(bus, () => exchanges), onConnectionEvent: publish.httpConnection(bus) });
      starting = { service: plan.http.tls ? 'HTTPS' : 'HTTP', portFlag: '--http-port' };
      serving.http = await http.start();
      stops.push(() => http.stop());
      if (plan.bind6) {
        // Its own listener and budgets on the same port: an IPv6 client never waits behind IPv4 ones.
        const http6 = new HttpImageServer({ ...plan.http, bind: { address: plan.bind6, port: serving.http.port } }, { onEvent: publish.http(bus, () => exchanges), onConnectionEvent: publish.httpConnection(bus) });
        starting = { service: plan.http.tls ? 'HTTPS' : 'HTTP', portFlag: '--http-port' };
        serving.http6 = await http6.start();
        stops.push(() => http6.stop());
      }
    }
    if (plan.dhcp) {
      const dhcp = new Dhcp4Server(plan.dhcp, { onEvent: publish.dhcp(bus, 'DHCP', shown), ...ports('DHCP', plan.dhcp.faults, dhcpPorts('DHCP', plan.dhcp.bind)) });
      starting = { service: 'DHCP', portFlag: '--dhcp-port' };
      serving.dhcp = await dhcp.start();
      stops.push(() => dhcp.stop());
    }
    if (plan.proxy) {
      const proxy = new ProxyDhcpServer(plan.proxy, { onEvent: publish.dhcp(bus, 'proxyDHCP', shown), ...ports('proxyDHCP', undefined, dhcpPorts('proxyDHCP', plan.proxy.bind)) });
      starting = { service: 'proxyDHCP', portFlag: '--dhcp-port' };
      serving.proxy = await proxy.start();
      stops.push(() => proxy.stop());
    }
    if (plan.dhcp6) {
      const dhcp6 = new Dhcp6Server(plan.dhcp6, { onEvent: publish.dhcp(bus, 'DHCPv6', shown) });
      starting = { service: 'DHCPv6', portFlag: '--dhcp6-port' };
      serving.dhcp6 = await dhcp6.start();
      stops.push(() => dhcp6.stop());
    }
    if (plan.ra) {
      // After DHCPv6: a client the M flag sends there finds it listening.
      const ra = new RouterAdvertiser(plan.ra, {
        clock,
        random: random.fork('ra'),
        // A helper that cannot send is shown even with --quiet: no advertisement, no DHCPv6 boot.
        onEvent: publish.ra(bus, (type) => exchanges || type === 'ra.problem'),
      });
      await ra.start();
      serving.ra = { interface: plan.ra.interface };
      stops.push(() => ra.stop());
    }
    if (plan.tftp) {
      const tftp = new TftpServer(plan.tftp, { onEvent: publish.tftp(bus, (type) => exchanges || type === 'tftp.failed'), ...ports('TFTP', plan.tftp.faults) });
      starting = { service: 'TFTP', portFlag: '--tftp-port' };
      serving.tftp = await tftp.start();
      stops.push(() => tftp.stop());
      if (plan.bind6) {
        const tftp6 = new TftpServer({ ...plan.tftp, bind: { address: plan.bind6, port: serving.tftp.port } }, { onEvent: publish.tftp(bus, (type) => exchanges || type === 'tftp.failed'), ...ports('TFTP', plan.tftp.faults) });
        starting = { service: 'TFTP', portFlag: '--tftp-port' };
        serving.tftp6 = await tftp6.start();
        stops.push(() => tftp6.stop());
      }
    }
    return serving;
  } catch (e) {
    await stop();
    throw explain(e, starting);
  }
}

interface Starting {
  service: string;
  /** The flag that picks this service's port ('' when none does). */
  portFlag: string;
}

/**
 * A socket the OS refused is the machine's state, not the input (EnvironmentError, exit 3):
 * say which service, which address:port and what to do, without a stack.
 */
function explain(e: unknown, at: Starting): unknown {
  if (e instanceof BootlabError || !(e instanceof Error)) return e;
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number; path?: string };
  const where = err.port !== undefined ? `${err.address ?? ''}:${err.port}` : (err.path ?? '');
  const other = (example: number): string => (at.portFlag ? `pick another ${at.portFlag} (e.g. ${at.portFlag} ${example})` : 'pick another port');
  if (err.code === 'EACCES' && (err.syscall === 'bind' || err.syscall === 'listen')) {
    return new EnvironmentError('BL_SERVE_BIND', `${at.service}: cannot bind ${where}: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; run as root or ${other(alternativePort(err.port))}`, { cause: e });
  }
  if (err.code === 'EADDRINUSE') return new EnvironmentError('BL_SERVE_BIND', `${at.service}: cannot bind ${where}: another process is using it; stop it or ${other(alternativePort(err.port))}`, { cause: e });
  if (err.code === 'EADDRNOTAVAIL') return new EnvironmentError('BL_SERVE_BIND', `${at.service}: cannot bind ${where}: no interface has that address (check --bind)`, { cause: e });
  if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'ENOTDIR') return new BootlabError('BL_SERVE_FILE', `${at.service}: ${err.message}`);
  return e;
}

/** A port to suggest instead: 8080 / 8443 for HTTP(S), 10000 above other privileged ports, else the next one. */
function alternativePort(port: number | undefined): number {
  if (port === undefined || port === 80) return 8080;
  if (port === 443) return 8443;
  if (port < 1024) return port + 10000;
  return port < 65535 ? port + 1 : port - 1;
}
