/**
 * Flood bench (issue 12): each attack a hostile peer can make on a boot network, run
 * against `bootlab serve` and, where they speak the protocol, dnsmasq and tftpd-hpa, in
 * network namespaces made for each run. A legitimate client is timed idle and through the
 * flood; the server's peak RSS and open fds are sampled from /proc. Prints one table,
 * servers side by side, with the targets: the legitimate client served within 2× its idle
 * latency, RSS ≤ 256 MiB, no fd exhaustion (every server runs at --nofile, soft = hard).
 * Runs are interleaved round by round (every attack × server, then again), so a slow
 * patch of the shared machine spreads over all of them.
 *
 *   sudo npm run bench:flood [-- --quick --attack tftp,dhcp4 --servers bootlab --runs 2
 *                              --nofile 1024 --max-pids 2048 --serve-args "--verbose"]
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireInterop } from '../../test/interop/netns.js';
import { plans, type Files } from './attacks.js';
import { measure, type RunResult } from './measure.js';
import { servers, type AttackId, type ServerName } from './servers.js';
import { attackRows, attackSummary, printTable } from './table.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    attack: { type: 'string', default: 'dhcp4,http,tftp,dhcp6' },
    servers: { type: 'string', default: 'bootlab,dnsmasq,tftpd-hpa' },
    runs: { type: 'string' },
    nofile: { type: 'string', default: '1024' },
    'max-pids': { type: 'string', default: '2048' },
    'serve-args': { type: 'string', default: '' },
  },
});
const runs = Number(values.runs ?? (values.quick ? 1 : 2));
const nofile = Number(values.nofile);
const maxPids = Number(values['max-pids']);
if (!(runs >= 1 && runs <= 5)) throw new Error(`--runs ${values.runs}: expected 1..5`);
if (!(nofile >= 64 && nofile <= 1 << 20)) throw new Error(`--nofile ${values.nofile}: expected 64..1048576`);
if (!(maxPids >= 16 && maxPids <= 8192)) throw new Error(`--max-pids ${values['max-pids']}: expected 16..8192`);
const serveArgs = values['serve-args'].split(' ').filter(Boolean);
const attackIds = values.attack.split(',') as AttackId[];
const serverNames = values.servers.split(',') as ServerName[];
for (const s of serverNames) if (!servers.some((x) => x.name === s)) throw new Error(`--servers: unknown server "${s}" (have: ${servers.map((x) => x.name).join(', ')})`);

await requireInterop(['ip', 'prlimit', 'ss', 'dnsmasq', 'in.tftpd'], 'apt-get install -y --no-install-recommends iproute2 util-linux dnsmasq-base tftpd-hpa');

const dir = await mkdtemp('/tmp/bootlab-bench-flood-');
try {
  // tftpd-hpa and dnsmasq drop root for an unprivileged user, which must read the files.
  const root = join(dir, 'root');
  await mkdir(root);
  await chmod(dir, 0o755);
  const legitBytes = randomBytes(64 * 1024);
  await writeFile(join(root, 'legit.bin'), legitBytes, { mode: 0o644 });
  await writeFile(join(root, 'big.bin'), randomBytes(32 << 20), { mode: 0o644 });
  const files: Files = { legit: { name: 'legit.bin', sha256: createHash('sha256').update(legitBytes).digest('hex') }, big: { name: 'big.bin' } };
  const legitMac = `02:00:5e:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
  const freshMac = `02:00:5f:00:00:00`;
  const all = plans(files, values.quick, legitMac, freshMac);
  for (const id of attackIds) if (!all.some((p) => p.id === id)) throw new Error(`--attack: unknown attack "${id}" (have: ${all.map((p) => p.id).join(', ')})`);
  const chosen = all.filter((p) => attackIds.includes(p.id));
  const columns = serverNames.filter((s) => chosen.some((p) => servers.find((x) => x.name === s)!.attacks.includes(p.id)));

  console.log(
    `flood bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}; ` +
      `servers at ${nofile} fds (soft = hard) in a pids cgroup of ${maxPids}; ${runs} interleaved run(s)${runs > 1 ? ', median (min–max)' : ''}${values.quick ? ', --quick' : ''}` +
      `${serveArgs.length ? `; bootlab serve ${serveArgs.join(' ')}` : ''}`,
  );
  const results = new Map<AttackId, Map<ServerName, RunResult[]>>(chosen.map((p) => [p.id, new Map()]));
  const started = performance.now();
  for (let round = 0; round < runs; round++) {
    for (const plan of chosen) {
      for (const server of servers.filter((s) => serverNames.includes(s.name) && s.attacks.includes(plan.id))) {
        const t = performance.now();
        const r = await measure(plan, server, { root, nofile, maxPids, serveArgs });
        const cell = results.get(plan.id)!;
        cell.set(server.name, [...(cell.get(server.name) ?? []), r]);
        const flood = [...r.legit.values()].flat().filter((a) => a.phase === 'flood');
        process.stderr.write(
          `  run ${round + 1} ${plan.id.padEnd(5)} ${server.name.padEnd(9)} ${((performance.now() - t) / 1000).toFixed(0)} s: legit ${flood.filter((a) => a.ok).length}/${flood.length}, ` +
            `peak ${r.peak.rssMiB.toFixed(0)} MiB, ${r.peak.fds} fds; attackers: ${attackSummary(r)}${r.exited ? `; server ${r.exited}` : ''}\n`,
        );
      }
    }
  }
  console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  const sections = chosen.map((p) => ({ title: p.title, ...attackRows(results.get(p.id)!, columns, nofile, maxPids) }));
  printTable(['', ...columns], sections);
  const fails = new Map<ServerName, number>();
  for (const s of sections) for (const [name, n] of s.fails) fails.set(name, (fails.get(name) ?? 0) + n);
  console.log(`\ntargets failed: ${columns.map((c) => `${c} ${fails.get(c) ?? 0}`).join(', ')}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
