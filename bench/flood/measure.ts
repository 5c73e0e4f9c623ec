/**
 * One attack against one server: a fresh lab (two namespaces on a veth pair), the server
 * in a pids cgroup under the fd limit, every peer started and ready first, then the
 * legitimate client's idle attempts, then the flood with the legitimate client timed
 * through it, the server's processes sampled from start to end.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab } from '../../test/interop/netns.js';
import type { AttackResult } from './attackers.js';
import type { Job } from './agent.js';
import type { AttackPlan, Peer } from './attacks.js';
import { createPidsGroup } from './cgroup.js';
import { sleep } from './pace.js';
import { Sampler, usage, type Usage } from './sample.js';
import { NET, type BenchServer, type Site } from './servers.js';

export interface Attempt {
  phase: 'idle' | 'flood';
  ok: boolean;
  ms: number;
  error?: string;
}

export interface RunResult {
  legit: Map<string, Attempt[]>;
  attacks: AttackResult[];
  before: Usage;
  peak: Usage;
  /** Set when the server was gone by the end of the flood. */
  exited?: string;
}

const agentPath = fileURLToPath(new URL('./agent.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
/** Extra time a peer may take past its flood before it is killed. */
const GRACE_MS = 30_000;

interface Agent {
  child: ChildProcess;
  lines: string[];
  waitFor(line: string, ms: number): Promise<void>;
  signal(): void;
  done: Promise<void>;
}

function startAgent(lab: Lab, ns: string, job: Job, limitMs: number): Agent {
  // Peers run at the bench's own fd limit (Node raises its soft limit to the hard one).
  const child = lab.spawn(ns, [process.execPath, '--import', tsx, agentPath, JSON.stringify(job)]);
  const lines: string[] = [];
  const waiting = new Map<string, () => void>();
  let rest = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      waiting.get(l)?.();
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve();
      else reject(new Error(`${job.role} peer exited ${code}: ${err.trim().replace(/\s+/g, ' ').slice(-500)}`));
    }),
  );
  done.catch(() => undefined);
  return {
    child,
    lines,
    done,
    waitFor: (line, ms) =>
      lines.includes(`"${line}"`)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${job.role} peer: no "${line}" within ${ms} ms: ${err.slice(-300)}`)), ms);
            waiting.set(`"${line}"`, () => {
              clearTimeout(timer);
              resolve();
            });
            done.then(
              () => reject(new Error(`${job.role} peer ended before "${line}"`)),
              (e: unknown) => reject(e),
            ).finally(() => clearTimeout(timer));
          }),
    signal: () => void child.kill('SIGUSR1'),
  };
}

const parsed = <T>(a: Agent, key: string): T[] =>
  a.lines.filter((l) => l.startsWith(`{"${key}"`)).map((l) => (JSON.parse(l) as Record<string, T>)[key]!);

async function addAddresses(lab: Lab): Promise<void> {
  const ip = (ns: string, ...args: string[]) => lab.exec(ns, ['ip', ...args]);
  await ip(lab.client.ns, 'addr', 'add', `${NET.attacker}/${NET.prefix}`, 'dev', lab.client.dev);
  await ip(lab.server.ns, '-6', 'addr', 'add', `${NET.v6.server}/64`, 'dev', lab.server.dev, 'nodad');
  await ip(lab.server.ns, '-6', 'addr', 'add', `${NET.v6.serverLl}/64`, 'dev', lab.server.dev, 'nodad');
  await ip(lab.client.ns, '-6', 'addr', 'add', `${NET.v6.legitLl}/64`, 'dev', lab.client.dev, 'nodad');
  await ip(lab.client.ns, '-6', 'addr', 'add', `${NET.v6.attackerLl}/64`, 'dev', lab.client.dev, 'nodad');
  await ip(lab.client.ns, '-6', 'addr', 'add', `${NET.v6.freshLl}/64`, 'dev', lab.client.dev, 'nodad');
}

export async function measure(plan: AttackPlan, server: BenchServer, opts: { root: string; nofile: number; maxPids: number; serveArgs: string[] }): Promise<RunResult> {
  const lab = await createLab({ serverAddress: NET.server, clientAddress: NET.legit, prefix: NET.prefix });
  const group = await createPidsGroup(opts.maxPids);
  let sampler: Sampler | undefined;
  try {
    await addAddresses(lab);
    const site: Site = { lab, group, root: opts.root, nofile: opts.nofile, serveArgs: opts.serveArgs };
    const child = await server.start(plan.id, site);
    sampler = new Sampler(child.pid!, () => group.pids());
    const limit = plan.floodMs + 60_000 + GRACE_MS;
    const nsOf = (p: Peer): string => (p.ns === 'server' ? lab.server.ns : lab.client.ns);
    const helpers = plan.helpers(lab.client.dev, lab.server.dev).map((p) => startAgent(lab, nsOf(p), p.job, limit));
    const probes = plan.legit(server.name, lab.client.dev);
    const legit = probes.map((p) =>
      startAgent(lab, lab.client.ns, { role: 'legit', probe: p.probe, idleAttempts: 10, attempts: 10_000, durationMs: plan.floodMs - 1500, gapMs: 150, timeoutMs: p.timeoutMs }, limit),
    );
    const attackers = plan.attackers(lab.client.dev, lab.server.dev).map((p) => startAgent(lab, nsOf(p), p.job, limit));
    const everyone = [...helpers, ...legit, ...attackers];
    await Promise.all(everyone.map((a) => a.waitFor('ready', 30_000)));
    for (const h of helpers) h.signal();
    await sleep(200);
    // Idle: one legitimate client at a time, so they do not time each other.
    for (const l of legit) {
      l.signal();
      await l.waitFor('idle-done', 60_000);
    }
    const before = await usage(child.pid!, await group.pids());
    for (const a of attackers) a.signal();
    await Promise.all(attackers.map((a) => a.waitFor('flooding', 60_000)));
    // The flood builds up for a second before the legitimate client is timed in it.
    await sleep(1000);
    for (const l of legit) l.signal();
    await Promise.all([...legit, ...attackers].map((a) => a.done));
    const peak = await sampler.stop();
    const exited = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : undefined;
    child.kill('SIGTERM');
    return {
      legit: new Map(probes.map((p, i) => [p.label, parsed<Attempt>(legit[i]!, 'attempt')])),
      attacks: attackers.flatMap((a) => parsed<AttackResult>(a, 'attack')),
      before,
      peak,
      ...(exited ? { exited } : {}),
    };
  } finally {
    await sampler?.stop();
    await group.destroy();
    await lab.destroy();
  }
}
