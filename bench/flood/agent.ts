/**
 * One peer of the flood bench, started by run.ts inside a network namespace (sockets
 * cannot be moved between namespaces, so each peer is its own process there). The job is
 * the JSON in argv[2]; every result is one JSON line on stdout:
 *   {"attempt":{"ok":true,"ms":1.9}}   for each legitimate exchange
 *   {"attack":{"sent":7500,...}}       once, when an attacker is done
 * "ready" once the peer's sockets are open, "idle-done" after a legitimate client's idle
 * attempts, and "flooding" when an attacker's flood proper begins (after any fill stage). Every peer waits for SIGUSR1 before it starts (the legitimate client once
 * more before its flood phase), so run.ts can start them all first, then line them up.
 */
import { dhcp4DiscoverFlood, dhcp6SolicitFlood, httpFlood, joinDhcp6Group, tftpRrqFlood, type AttackResult, type Budget, type HttpAttack } from './attackers.js';
import { dhcp4Client, dhcp6Client, httpProbe, tftpProbe, type Probe } from './legit.js';
import { sleep } from './pace.js';

export type LegitProbe =
  | { kind: 'dhcp4'; mac: string; fresh: boolean }
  | { kind: 'dhcp6'; source: string; zone: string; duidHex: string; fresh: boolean }
  | { kind: 'tftp'; server: string; source: string; file: string; sha256: string }
  | { kind: 'http'; host: string; port: number; source: string; path: string; sha256: string };

export type Job =
  | { role: 'legit'; probe: LegitProbe; idleAttempts: number; attempts: number; durationMs: number; gapMs: number; timeoutMs: number }
  | { role: 'dhcp4-flood'; source: string; fill?: Budget; budget: Budget }
  | { role: 'dhcp6-flood'; source: string; zone: string; budget: Budget }
  | { role: 'tftp-flood'; server: string; source: string; file: string; budget: Budget }
  | ({ role: 'http-flood' } & HttpAttack)
  | { role: 'dhcp6-join'; zone: string; durationMs: number };

const out = (x: unknown): void => void process.stdout.write(`${JSON.stringify(x)}\n`);

/** Resolves on the next SIGUSR1; the listener is in place before `say` tells run.ts to send it. */
function go(say: string): Promise<void> {
  const signalled = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no go signal within 120 s after "${say}"`)), 120_000);
    process.once('SIGUSR1', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  out(say);
  return signalled;
}

async function attempts(probe: Probe, phase: 'idle' | 'flood', count: number, durationMs: number, gapMs: number): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < count && performance.now() - start < durationMs; i++) {
    const t = performance.now();
    try {
      await probe();
      out({ attempt: { phase, ok: true, ms: performance.now() - t } });
    } catch (e) {
      out({ attempt: { phase, ok: false, ms: performance.now() - t, error: e instanceof Error ? e.message : String(e) } });
    }
    await sleep(gapMs);
  }
}

async function legit(job: Extract<Job, { role: 'legit' }>): Promise<void> {
  const p = job.probe;
  let probe: Probe;
  let close = (): void => undefined;
  if (p.kind === 'dhcp4') ({ probe, close } = await dhcp4Client(p.mac, p.fresh, job.timeoutMs));
  else if (p.kind === 'dhcp6') ({ probe, close } = await dhcp6Client(p.source, p.zone, Uint8Array.from(Buffer.from(p.duidHex, 'hex')), p.fresh, job.timeoutMs));
  else if (p.kind === 'tftp') probe = tftpProbe(p.server, p.source, p.file, p.sha256, job.timeoutMs);
  else probe = httpProbe(p.host, p.port, p.source, p.path, p.sha256, job.timeoutMs);
  await go('ready');
  await attempts(probe, 'idle', job.idleAttempts, 60_000, job.gapMs);
  await go('idle-done');
  await attempts(probe, 'flood', job.attempts, job.durationMs, job.gapMs);
  close();
}

async function attack(job: Exclude<Job, { role: 'legit' }>): Promise<AttackResult> {
  await go('ready');
  const flooding = (): void => out('flooding');
  if (job.role === 'dhcp4-flood') return dhcp4DiscoverFlood(job.source, job.fill, job.budget, flooding);
  flooding();
  switch (job.role) {
    case 'dhcp6-flood':
      return dhcp6SolicitFlood(job.source, job.zone, job.budget);
    case 'tftp-flood':
      return tftpRrqFlood(job.server, job.source, job.file, job.budget);
    case 'http-flood':
      return httpFlood(job);
    case 'dhcp6-join':
      return joinDhcp6Group(job.zone, job.durationMs);
  }
}

const job = JSON.parse(process.argv[2] ?? 'null') as Job | null;
if (!job) throw new Error('usage: agent.ts <job as JSON>');
if (job.role === 'legit') await legit(job);
else out({ attack: await attack(job) });
