import type { Command } from 'commander';
import { EventBus } from '../event-bus.js';
import type { ServeFlags } from '../scenario/serve-config.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve DHCP, proxyDHCP, DHCPv6, TFTP and HTTP to real machines or a lab (each starts only when configured)')
    .option('--config <file>', 'YAML config file (flags override it)')
    .option('--interface <if>', "take the server id from this interface's IPv4 address (found without carrier, e.g. a bridge whose tap is not open yet)")
    .option('--interface-wait <time>', 'wait this long for --interface to get an IPv4 address: seconds, or 30s, 2m (default 30s; 0: exit at once)')
    .option('--bind <addr>', 'address to bind (default 0.0.0.0); with a unicast address DHCP also binds 255.255.255.255 on its port, so broadcasts arrive')
    .option('--server-id <ip>', 'DHCP server identifier (option 54)')
    .option('--dhcp-range <start-end>', 'start DHCP, leasing addresses START-END')
    .option('--dhcp-port <port>', 'DHCP server port (default 67)')
    .option('--client-port <port>', 'port replies go to (default 68)')
    .option('--subnet-mask <mask>', 'option 1 (default 255.255.255.0)')
    .option('--lease-time <time>', 'lease time: seconds, or 30m, 1h, 1d (default 1h)')
    .option('--lease-file <file>', 'persist leases here; a restarted server keeps every acknowledged lease')
    .option('--router <ip>', 'option 3 (repeatable)', collect)
    .option('--dns <ip>', 'option 6 (repeatable)', collect)
    .option('--default-url <url>', "option 114, ONIE's exact installer URL")
    .option('--onie-installer-url <url>', 'option 125 VIVSO, enterprise 42623 sub-option 1')
    .option('--next-server <ip>', 'BOOTP siaddr')
    .option('--boot-file <name>', 'BOOTP file field')
    .option('--boot-file-name <name>', 'option 67')
    .option('--reply-to <mode>', "broadcast (default: 255.255.255.255:68, or ciaddr / the relay) or source (answer to the sender's address and port: loopback labs)")
    .option('--proxy-dhcp', "proxyDHCP: answer PXE clients only, with boot information (--boot-file, or the --config file's dhcp classes and reservations) and no address, next to another DHCP server")
    .option('--boot-server-port <port>', 'with --proxy-dhcp: PXE clients get the boot file from this port (4011) instead of the offer')
    .option('--dhcp6-range <start-end>', 'start DHCPv6 on [::]:547, leasing IPv6 addresses START-END')
    .option('--dhcp6-port <port>', 'DHCPv6 server port (default 547)')
    .option('--dhcp6-boot-file-url <url>', 'DHCPv6 option 59 (boot file URL), for clients that ask for it')
    .option('--bind6 <addr>', 'HTTP and TFTP also listen on this IPv6 address (default :: with --dhcp6-range or --ra-prefix)')
    .option('--ra-prefix <prefix/len>', 'send router advertisements on --interface with this on-link prefix (repeatable; a /64 also gets the A flag for SLAAC)', collect)
    .option('--ra-managed', 'RA M flag: hosts get addresses from DHCPv6 (iPXE and EDK2 then start DHCPv6)')
    .option('--ra-other', 'RA O flag: hosts get other configuration (DNS, boot file URL) from DHCPv6')
    .option('--ra-interval <time>', 'longest time between unsolicited advertisements, 4s to 30m (default 60s); solicitations are answered at once')
    .option('--ra-router-lifetime <time>', 'advertise bootlab as a default router for this long (default 0: not a router)')
    .option('--tftp-root <dir>', 'start TFTP, serving this directory read-only')
    .option('--tftp-port <port>', 'TFTP port (default 69)')
    .option('--tftp-write-dir <dir>', 'accept TFTP uploads (WRQ) into this directory; existing files are never replaced')
    .option('--tftp-max-transfers <n>', 'TFTP transfers at once, in all (default 256); over it a request gets error 0 "server busy"')
    .option('--tftp-max-per-client <n>', 'TFTP transfers at once from one client address (default 16)')
    .option('--tftp-max-transfer-time <duration>', 'longest one TFTP transfer may run, seconds or e.g. 10m (default 10m)')
    .option('--tftp-busy-poll <us>', 'after sending DATA, poll for the ACK this many µs instead of sleeping (default 1000; 0 saves the CPU, costs lock-step speed)')
    .option('--http-root <dir>', 'start HTTP, serving this directory')
    .option('--http-port <port>', 'HTTP port (default 80, or 443 with --http-tls-cert)')
    .option('--http-tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --http-tls-key')
    .option('--http-tls-key <file>', 'PEM private key of --http-tls-cert')
    .option('--http-max-connections <n>', 'HTTP connections held at once; past it the longest-idle one makes room, or 503 (default 256)')
    .option('--http-max-per-client <n>', 'HTTP connections from one address (default 8)')
    .option('--http-idle-timeout <time>', 'close an HTTP connection when no byte moved for this long: seconds, or 30s, 2m (default 30s)')
    .option('-v, --verbose', 'also print requests that were dropped')
    .option('-q, --quiet', 'no line per exchange (like dnsmasq --quiet-dhcp); start, stop and errors only')
    .action(async (flags: ServeFlags & { verbose?: boolean; quiet?: boolean }) => {
      // Loaded on use, like the runner: other commands start without the servers' dependencies.
      const [{ planServe }, { startServe }] = await Promise.all([import('../scenario/serve-config.js'), import('../scenario/serve.js')]);
      const plan = await planServe(flags, undefined, {
        interfaceWait: { onWait: (message) => process.stdout.write(`${new Date().toISOString()} ${message}\n`) },
      });
      const bus = new EventBus();
      bus.subscribe((e) => {
        if ((e.type === 'dhcp.dropped' || e.type === 'ra.dropped') && !flags.verbose) return;
        process.stdout.write(`${new Date().toISOString()} ${e.message}\n`);
      });
      const serving = await startServe(plan, bus, { exchanges: !flags.quiet });
      const parts = [
        serving.dhcp ? `DHCP on ${serving.dhcp.address}:${serving.dhcp.port} (server id ${plan.dhcp!.serverId}, ${plan.dhcp!.pool.start}-${plan.dhcp!.pool.end})` : '',
        serving.proxy
          ? `proxyDHCP on ${serving.proxy.dhcp.address}:${serving.proxy.dhcp.port}${serving.proxy.bootServer ? ` and boot server on ${serving.proxy.bootServer.port}` : ''}`
          : '',
        serving.dhcp6 ? `DHCPv6 on [${serving.dhcp6.address}]:${serving.dhcp6.port}${serving.dhcp6.groups?.length ? ` (${serving.dhcp6.groups.join(' ')})` : ''}` : '',
        serving.ra ? `router advertisements on ${serving.ra.interface} (${plan.ra!.prefixes.map((p) => `${p.prefix}/${p.length}`).join(' ')}${plan.ra!.managed ? ' M' : ''}${plan.ra!.other ? ' O' : ''}, every ${plan.ra!.maxIntervalMs / 1000} s at most)` : '',
        serving.tftp
          ? `TFTP on ${serving.tftp.address}:${serving.tftp.port} serving ${plan.tftp!.root}${plan.tftp!.write ? `, uploads into ${plan.tftp!.write.dir}` : ''}`
          : '',
        serving.http ? `${plan.http!.tls ? 'HTTPS' : 'HTTP'} on ${serving.http.address}:${serving.http.port} serving ${plan.http!.root}` : '',
        serving.tftp6 ? `TFTP on [${serving.tftp6.address}]:${serving.tftp6.port}` : '',
        serving.http6 ? `${plan.http!.tls ? 'HTTPS' : 'HTTP'} on [${serving.http6.address}]:${serving.http6.port}` : '',
      ].filter(Boolean);
      process.stdout.write(`bootlab serve: ${parts.join(', ')}\n`);
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await serving.stop();
      process.stdout.write('bootlab serve: stopped\n');
    });
}
