import type { Command } from 'commander';
import { EnvironmentError } from '../errors.js';
import { planRelay, RELAY_DEFAULTS, type RelayFlags } from './relay-flags.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerRelayCommand(program: Command): void {
  program
    .command('relay')
    .description('a DHCPv4 relay agent (RFC 1542, RFC 3046): sets giaddr and option 82 on requests, forwards them to the servers, strips 82 from replies')
    .option('--server <ip>', 'DHCP server to forward requests to (repeatable: each gets every request)', collect)
    .option('--listen <addr>', "the relay's IPv4 address on the clients' segment: it listens there (broadcasts too) and sets it as giaddr")
    .option('--circuit-id <text>', `option 82 sub-option 1, Agent Circuit ID (default ${RELAY_DEFAULTS.circuitId})`)
    .option('--remote-id <text>', 'option 82 sub-option 2, Agent Remote ID (default the --listen address)')
    .option('--max-hops <n>', `drop requests that have crossed this many relays already, 1..16 (default ${RELAY_DEFAULTS.maxHops}, RFC 1542 §4.1.1)`)
    .option('--upstream-port <port>', `servers' port (default ${RELAY_DEFAULTS.upstreamPort})`)
    .option('--downstream-port <port>', `port the relay listens on (default ${RELAY_DEFAULTS.downstreamPort}; 0: any free port)`)
    .option('--client-port <port>', `port replies are delivered to (default ${RELAY_DEFAULTS.clientPort})`)
    .option('--trust-option82', 'forward requests that arrive with option 82 and giaddr 0 (a switch added it) instead of dropping them')
    .option('--reply-to <mode>', "broadcast (default: 255.255.255.255, or ciaddr once the client has an address) or source (to the request's sender: loopback labs)")
    .option('-q, --quiet', 'no line per relayed message; start, stop, drops and errors only')
    .action(async (flags: RelayFlags & { quiet?: boolean }) => {
      const config = planRelay(flags);
      // Loaded on use, like serve's servers: other commands start without them.
      const { Dhcp4RelayAgent } = await import('../net/dhcp4/relay-agent.js');
      const line = (text: string): void => {
        process.stdout.write(`${new Date().toISOString()} ${text}\n`);
      };
      const relay = new Dhcp4RelayAgent(config, {
        onEvent: (e) => {
          // Drops are shown even with --quiet: they are what a flood or a misconfiguration looks like.
          if (e.type === 'relay.dropped') line(`relay dropped ${e.detail}`);
          else if (!flags.quiet) line(`relay ${e.type === 'relay.request' ? 'up' : 'down'} ${e.detail}`);
        },
      });
      let bound: { address: string; port: number };
      try {
        bound = await relay.start();
      } catch (e) {
        throw bindError(e, config.listen);
      }
      const ids = config.agentIds;
      process.stdout.write(
        `bootlab relay: DHCP relay on ${bound.address}:${bound.port} (giaddr ${config.listen.address}) to ${config.servers.map((s) => `${s.address}:${s.port}`).join(' ')}, ` +
          `circuit-id ${ids.circuitId} remote-id ${ids.remoteId}, max hops ${config.maxHops}, replies to ${config.replyTo === 'source' ? 'the sender' : `port ${config.clientPort}`}` +
          `${config.trustOption82 ? ', option 82 from clients trusted' : ''}\n`,
      );
      await new Promise<void>((resolve) => {
        const done = (): void => resolve();
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await relay.stop();
      const s = relay.stats;
      const dropped = Object.entries(s.dropped).map(([k, v]) => `${k} ${v}`).join(', ');
      process.stdout.write(`bootlab relay: stopped (${s.relayedUp} up, ${s.relayedDown} down, ${dropped ? `dropped ${dropped}` : 'none dropped'})\n`);
    });
}

/** The machine, not the flags: exit 3 with what to do about it. */
function bindError(e: unknown, at: { address: string; port: number }): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const where = `${at.address}:${at.port}`;
  if (code === 'EACCES') return new EnvironmentError('BL_RELAY_BIND', `relay: cannot bind ${where}: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; run as root or pick another --downstream-port`, { cause: e });
  if (code === 'EADDRINUSE') return new EnvironmentError('BL_RELAY_BIND', `relay: cannot bind ${where}: another process is using it (a DHCP server or relay on this host?); stop it or pick another --downstream-port`, { cause: e });
  if (code === 'EADDRNOTAVAIL') return new EnvironmentError('BL_RELAY_BIND', `relay: cannot bind ${where}: no interface has that address (check --listen)`, { cause: e });
  return e;
}
