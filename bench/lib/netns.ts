import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Two network namespaces joined by a veth pair, made for one benchmark run and deleted
 * afterwards. Benchmarks send traffic only to the addresses inside them.
 */
export interface Topology {
  server: { ns: string; dev: string; address: string };
  client: { ns: string; dev: string; address: string };
  prefix: number;
  exec(ns: string, argv: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }>;
  spawn(ns: string, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): Promise<void>;
}

export async function createTopology(net: { serverAddress: string; clientAddress: string; prefix: number }): Promise<Topology> {
  const tag = randomBytes(3).toString('hex');
  const server = { ns: `bl-bs-${tag}`, dev: `bl-vs-${tag}`, address: net.serverAddress };
  const client = { ns: `bl-bc-${tag}`, dev: `bl-vc-${tag}`, address: net.clientAddress };
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
    await ip('link', 'add', server.dev, 'type', 'veth', 'peer', 'name', client.dev);
    for (const side of [server, client]) {
      await ip('link', 'set', side.dev, 'netns', side.ns);
      await ip('-n', side.ns, 'addr', 'add', `${side.address}/${net.prefix}`, 'dev', side.dev);
      await ip('-n', side.ns, 'link', 'set', side.dev, 'up');
      await ip('-n', side.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    server,
    client,
    prefix: net.prefix,
    exec: (ns, argv, timeoutMs) => run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs, maxBuffer: 16 << 20 }),
    spawn(ns, argv, env) {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy,
  };
}

/** Fails with the package to install when a tool is missing: a benchmark never skips a reference. */
export async function requireTools(tools: Array<{ cmd: string; args: string[]; pkg: string }>): Promise<void> {
  const missing: string[] = [];
  for (const t of tools) {
    try {
      await run(t.cmd, t.args, { timeout: 10_000 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') missing.push(`${t.cmd} (apt-get install -y --no-install-recommends ${t.pkg})`);
    }
  }
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')}`);
  if (process.getuid?.() !== 0) throw new Error('network namespaces need root: run as root (CI does)');
}
