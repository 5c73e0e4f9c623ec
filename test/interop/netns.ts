import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A server namespace and a client namespace joined by a veth pair, made by one test file
 * (or benchmark) and deleted by it. The server side has 10.213.N.1/24; the client side starts without
 * an address (DHCP gives it one). Nothing here sends to any other address.
 */
export interface Lab {
  n: number;
  server: { ns: string; dev: string; address: string };
  client: { ns: string; dev: string; mac: string; address?: string };
  exec(ns: string, argv: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): Promise<void>;
}

export const INSTALL_HINT = 'apt-get install -y --no-install-recommends iproute2 busybox isc-dhcp-client dnsmasq-base';

/** Fails (never skips) when the prerequisites are missing, naming what to install. */
export async function requireInterop(tools: string[], hint = INSTALL_HINT): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the interop suite needs root for network namespaces (run it as root, as CI does)');
  for (const tool of tools) {
    try {
      await run('sh', ['-c', `command -v ${tool}`], { timeout: 5000 });
    } catch {
      throw new Error(`${tool} is not installed: ${hint}`);
    }
  }
}

/**
 * `net` (benchmarks): a fixed /prefix with the client side addressed too, as perfdhcp
 * needs an address to relay from. Default: a random 10.213.N.0/24, client unaddressed.
 */
export async function createLab(net?: { serverAddress: string; clientAddress: string; prefix: number }): Promise<Lab> {
  const tag = randomBytes(3).toString('hex');
  const n = randomInt(1, 250);
  const server = { ns: `bl-s-${tag}`, dev: `bl-s${tag}`, address: net?.serverAddress ?? `10.213.${n}.1` };
  const mac = `02:00:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
  const client = { ns: `bl-c-${tag}`, dev: `bl-c${tag}`, mac, ...(net ? { address: net.clientAddress } : {}) };
  const children = new Set<ChildProcess>();
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  const destroy = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    await ip('netns', 'del', server.ns).catch(() => undefined);
    await ip('netns', 'del', client.ns).catch(() => undefined);
  };
  try {
    await ip('netns', 'add', server.ns);
    await ip('netns', 'add', client.ns);
    await ip('link', 'add', server.dev, 'type', 'veth', 'peer', 'name', client.dev, 'address', mac);
    await ip('link', 'set', server.dev, 'netns', server.ns);
    await ip('link', 'set', client.dev, 'netns', client.ns);
    await ip('-n', server.ns, 'addr', 'add', `${server.address}/${net?.prefix ?? 24}`, 'dev', server.dev);
    if (client.address) await ip('-n', client.ns, 'addr', 'add', `${client.address}/${net!.prefix}`, 'dev', client.dev);
    for (const side of [server, client]) {
      await ip('-n', side.ns, 'link', 'set', side.dev, 'up');
      await ip('-n', side.ns, 'link', 'set', 'lo', 'up');
      // A Node socket cannot be bound to an interface, so 255.255.255.255 needs a route
      // out of the veth; without it the broadcast reply fails with ENETUNREACH.
      await ip('-n', side.ns, 'route', 'add', '255.255.255.255/32', 'dev', side.dev);
    }
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    n,
    server,
    client,
    ...inNamespaces(children),
    destroy,
  };
}

/** Resolves with the child once a line matching `pattern` appears (bounded by `ms`). */
/** exec and spawn inside a lab's namespaces; spawned children are tracked so destroy() can kill them. */
function inNamespaces(children: Set<ChildProcess>): Pick<Lab, 'exec' | 'spawn'> {
  return {
    exec: (ns, argv, timeoutMs = 30_000) => run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, maxBuffer: 16 << 20 }),
    spawn(ns, argv, env) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
  };
}

export function waitForLine(child: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${seen}`)), ms);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = seen.split('\n').find((l) => pattern.test(l));
      if (m !== undefined) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${pattern}:\n${seen}`));
    });
  });
}

/**
 * Three namespaces for a relay: client ↔ veth ↔ relay ↔ veth ↔ server. The client's
 * segment is 10.214.N.0/24 (the relay holds .1, the client starts without an address);
 * the servers' segment is 10.215.N.0/24 (relay .1, server .2), and the server routes the
 * client segment through the relay so that it can answer the relay's giaddr. The relay
 * namespace does not forward packets: only the relay agent carries DHCP across.
 */
export interface RelayLab {
  n: number;
  client: { ns: string; dev: string; mac: string };
  relay: { ns: string; down: { dev: string; address: string }; up: { dev: string; address: string } };
  server: { ns: string; dev: string; address: string };
  exec(ns: string, argv: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }>;
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): Promise<void>;
}

export async function createRelayLab(): Promise<RelayLab> {
  const tag = randomBytes(3).toString('hex');
  const n = randomInt(1, 250);
  const mac = `02:00:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
  const client = { ns: `bl-c-${tag}`, dev: `bl-c${tag}`, mac };
  const relay = {
    ns: `bl-r-${tag}`,
    down: { dev: `bl-rd${tag}`, address: `10.214.${n}.1` },
    up: { dev: `bl-ru${tag}`, address: `10.215.${n}.1` },
  };
  const server = { ns: `bl-s-${tag}`, dev: `bl-s${tag}`, address: `10.215.${n}.2` };
  const children = new Set<ChildProcess>();
  const ip = (...args: string[]) => run('ip', args, { timeout: 10_000 });
  const destroy = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [client.ns, relay.ns, server.ns]) await ip('netns', 'del', ns).catch(() => undefined);
  };
  try {
    for (const ns of [client.ns, relay.ns, server.ns]) await ip('netns', 'add', ns);
    await ip('link', 'add', relay.down.dev, 'type', 'veth', 'peer', 'name', client.dev, 'address', mac);
    await ip('link', 'add', relay.up.dev, 'type', 'veth', 'peer', 'name', server.dev);
    await ip('link', 'set', client.dev, 'netns', client.ns);
    await ip('link', 'set', relay.down.dev, 'netns', relay.ns);
    await ip('link', 'set', relay.up.dev, 'netns', relay.ns);
    await ip('link', 'set', server.dev, 'netns', server.ns);
    await ip('-n', relay.ns, 'addr', 'add', `${relay.down.address}/24`, 'dev', relay.down.dev);
    await ip('-n', relay.ns, 'addr', 'add', `${relay.up.address}/24`, 'dev', relay.up.dev);
    await ip('-n', server.ns, 'addr', 'add', `${server.address}/24`, 'dev', server.dev);
    for (const [ns, dev] of [[client.ns, client.dev], [relay.ns, relay.down.dev], [relay.ns, relay.up.dev], [server.ns, server.dev]] as const) {
      await ip('-n', ns, 'link', 'set', dev, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The relay's broadcast replies leave on the client segment (a Node socket cannot pick an interface).
    await ip('-n', relay.ns, 'route', 'add', '255.255.255.255/32', 'dev', relay.down.dev);
    await ip('-n', client.ns, 'route', 'add', '255.255.255.255/32', 'dev', client.dev);
    await ip('-n', server.ns, 'route', 'add', `10.214.${n}.0/24`, 'via', relay.up.address);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    n,
    client,
    relay,
    server,
    ...inNamespaces(children),
    destroy,
  };
}
