/**
 * Fleet scale: `bootlab run` of a generated one-template fleet of N switches (N = 1, 100,
 * 1,000; 10,000 with --large), each one a separate process under /usr/bin/time; the same
 * 1,000 switches in 10 racks behind their relays, in a canary wave and then the rest (its
 * ratio to the flat 1,000 of the same round is what the racks cost); and 100
 * switches that all fetch one 48 MiB installer. The cases are interleaved run by run (1,
 * 100, 1,000, 48 MiB, 1, 100, ...), so a slow patch of the machine spreads over all of
 * them. Every run must exit 0 with every device installed and attested; a run that does
 * not is reported and fails the bench. Prints min / median / max of wall time, devices/s,
 * CPU s per device, peak RSS and RSS per device; for the 48 MiB case the ratio of the
 * hashing bound (bytes the devices received ÷ Node's sha256 rate in this process, measured
 * between the runs) to the run's wall time, beside the ratio that two floors measured between
 * the same runs allow (floors.ts: the fetch alone without hashing, and the installer alone);
 * and the targets of issue 11 beside them.
 *
 *   npm run bench:fleet [-- --runs 3 --large --large-runs 1 --only '48 MiB']
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineLine, spread, stats } from '../spread.js';
import { installerFloor, paddedInstaller, transportFloor } from './floors.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    large: { type: 'boolean', default: false },
    'large-runs': { type: 'string', default: '1' },
    /** Run only the cases whose name contains this (the 48 MiB case is always kept: its floors and ratio are the summary's). */
    only: { type: 'string' },
  },
});
const runs = Number(values.runs);
const largeRuns = Number(values['large-runs']);
if (!(runs >= 1 && runs <= 20) || !(largeRuns >= 1 && largeRuns <= 5)) throw new Error('--runs is 1..20 and --large-runs 1..5');

const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
/** No run may take longer than this (10,000 devices have a 10-minute target). */
const RUN_LIMIT_MS = 20 * 60_000;

interface Case {
  name: string;
  devices: number;
  paddingMiB?: number;
  /** The fleet in this many racks of devices/racks, behind a relay each, in two waves (canary rack, then the rest). */
  racks?: number;
  runs: number;
}

const cases: Case[] = [
  { name: '1 device', devices: 1, runs },
  { name: '100 devices', devices: 100, runs },
  { name: '1,000 devices', devices: 1000, runs },
  { name: '1,000 in 10 racks', devices: 1000, racks: 10, runs },
  { name: '100 × 48 MiB', devices: 100, paddingMiB: 48, runs },
  ...(values.large ? [{ name: '10,000 devices', devices: 10_000, runs: largeRuns }] : []),
].filter((c: Case) => values.only === undefined || c.paddingMiB !== undefined || c.name.includes(values.only));

/** One template of n switches on a /16, as a rollout rehearsal writes it. */
function scenario(c: Case): string {
  return `name: bench-fleet-${c.devices}${c.paddingMiB ? `-${c.paddingMiB}mib` : ''}
seed: 7
servers:
  dhcp:
    pool: { start: 10.30.0.10, end: 10.30.255.250, subnetMask: 255.255.0.0 }
    options:
      router: [10.30.0.1]
    classes:
      - name: onie
        match: { vendorClassPrefix: "onie_vendor:" }
        options:
          defaultUrl: http://{http}/demo-nos.bin
images:
  - name: demo-nos
    source: ${join(repo, 'images/demo-nos')}
    signedBy: vendor
    publish: [demo-nos.bin]
${c.paddingMiB ? `    paddingMiB: ${c.paddingMiB}\n` : ''}trust:
  db: [db-ca]
attestation:
  goldenImage: demo-nos
devices:
  - template: leaf
    count: ${c.devices}
    id: leaf-{n:05}
    identity:
      serial: BN{n:08}
      mac: "52:54:00:{n:06x}"
    expect: { outcome: installed, image: demo-nos, attestation: pass${c.racks ? ', inventory: admitted' : ''} }
${c.racks ? racked(c.racks, c.devices / c.racks) : ''}`;
}

/** Racks of `per` switches filled from the template, each behind its relay, then a canary wave and the rest. */
function racked(racks: number, per: number): string {
  const names = Array.from({ length: racks }, (_, i) => `r${String(i + 1).padStart(2, '0')}`);
  const rack = (r: string, i: number): string => `  - name: ${r}
    subnet: 10.40.${i + 1}.0/24
    fill:
      - { template: leaf, count: ${per}, position: "U{n:03}", mgmt: "${r}-mgmt:Gi1/{n}", uplinks: { Ethernet0: "${r}-tor:Ethernet{n}" } }
`;
  return `racks:
${names.map(rack).join('')}rollout:
  waves:
    - { name: canary, racks: [${names[0]}], gate: { installRate: 1, attestRate: 1 } }
    - { name: rest, racks: [${names.slice(1).join(', ')}], gate: { installRate: 1, attestRate: 1 } }
`;
}

interface Sample {
  wallS: number;
  cpuS: number;
  rssMiB: number;
  passed: number;
  httpBytes: number;
}

/** One `bootlab run -q --report` under GNU time: its own wall, CPU and peak RSS. */
async function runOnce(c: Case, file: string, report: string): Promise<Sample> {
  const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %U %S %M', process.execPath, bin, 'run', file, '-q', '--report', report], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('GNU time is not installed: apt-get install -y --no-install-recommends time') : e));
    child.once('exit', (c) => resolve(c));
  });
  clearTimeout(timer);
  const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  if (!m) throw new Error(`${c.name}: no timing from /usr/bin/time (exit ${code}): ${err.slice(-400)}`);
  const r = JSON.parse(await readFile(report, 'utf8')) as { devices: { ok: boolean }[]; served: { httpBytes: number } };
  const passed = r.devices.filter((d) => d.ok).length;
  if (code !== 0 || passed !== c.devices) throw new Error(`${c.name}: exit ${code}, ${passed}/${c.devices} devices passed: ${out.slice(-400)}`);
  return { wallS: Number(m[1]), cpuS: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024, passed, httpBytes: r.served.httpBytes };
}

/** Node's sha256 over 256 MiB already in memory, in this process: MiB/s. */
function sha256Rate(): number {
  const piece = randomBytes(16 << 20);
  const t = performance.now();
  const h = createHash('sha256');
  for (let i = 0; i < 16; i++) h.update(piece);
  h.digest();
  return 256 / ((performance.now() - t) / 1000);
}

const dir = await mkdtemp(join(tmpdir(), 'bootlab-bench-fleet-'));
try {
  const files = new Map<Case, string>();
  for (const [i, c] of cases.entries()) {
    const file = join(dir, `case-${i}.yaml`);
    await writeFile(file, scenario(c));
    files.set(c, file);
  }
  console.log(`bench/fleet  ${machineLine(repo)}\ninterleaved runs, median (min–max)`);
  const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  const rates: number[] = [];
  const bigCase = cases.find((c) => c.paddingMiB)!;
  const floorImage = await paddedInstaller(repo, dir, bigCase.paddingMiB!);
  const floors = { transport: [] as number[], installer: [] as number[] };
  const rounds = Math.max(...cases.map((c) => c.runs));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      if (round >= c.runs) continue;
      rates.push(sha256Rate());
      if (c === bigCase) {
        floors.transport.push(await transportFloor(floorImage, c.devices, dir));
        floors.installer.push(await installerFloor(floorImage, c.devices, dir));
      }
      const s = await runOnce(c, files.get(c)!, join(dir, `report-${cases.indexOf(c)}.json`));
      samples.get(c)!.push(s);
      process.stderr.write(`  run ${round + 1}: ${c.name}: ${s.wallS.toFixed(1)} s, ${s.passed}/${c.devices} passed\n`);
    }
  }
  rates.push(sha256Rate());

  const rows = cases.map((c) => {
    const ss = samples.get(c)!;
    return [
      c.name,
      String(ss.length),
      spread(ss.map((s) => s.wallS), 1),
      spread(ss.map((s) => c.devices / s.wallS), 1),
      spread(ss.map((s) => s.cpuS / c.devices), 3),
      spread(ss.map((s) => s.rssMiB), 0),
      spread(ss.map((s) => s.rssMiB / c.devices), 2),
    ];
  });
  const head = ['case', 'runs', 'wall s', 'devices/s', 'CPU s/device', 'peak RSS MiB', 'RSS MiB/device'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((x, i) => x.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));

  const rate = stats(rates).median;
  const big = cases.find((c) => c.paddingMiB)!;
  const bigRatios = samples.get(big)!.map((s) => s.httpBytes / 2 ** 20 / rate / s.wallS);
  console.log(`sha256 in memory: ${spread(rates, 0)} MiB/s`);
  const served = samples.get(big)![0]!.httpBytes;
  const boundS = served / 2 ** 20 / rate;
  console.log(`${big.name}: hashing bound / wall ${spread(bigRatios, 2)}× (bytes served ${(served / 2 ** 20).toFixed(0)} MiB, hashing bound ${boundS.toFixed(2)} s; target ≥ 0.5×)`);
  console.log(`  floors between the same runs: fetch alone (${big.devices} GETs, no hashing) ${spread(floors.transport, 1)} s, bound / floor ${spread(floors.transport.map((f) => boundS / f), 2)}×;`);
  console.log(`  the installer alone (${big.devices} × sh IMAGE -x, ${Math.min(cpus().length, big.devices)} at a time) ${spread(floors.installer, 1)} s, bound / floor ${spread(floors.installer.map((f) => boundS / f), 2)}×`);
  const thousand = cases.find((c) => c.devices === 1000);
  const k1 = thousand ? stats(samples.get(thousand)!.map((s) => s.wallS)).median : NaN;
  if (thousand) console.log(`target: 1,000 devices all pass in ≤ 60 s: median ${k1.toFixed(1)} s`);
  const inRacks = cases.find((c) => c.racks);
  if (thousand && inRacks) {
    // Ratio per round: each racked run against the flat run just before it.
    const flat = samples.get(thousand)!;
    const ratios = samples.get(inRacks)!.map((s, i) => s.wallS / flat[i]!.wallS);
    console.log(`${inRacks.name} / 1,000 flat (same round): ${spread(ratios, 2)}× wall`);
  }
  const large = cases.find((c) => c.devices === 10_000);
  if (large && thousand) {
    const ls = samples.get(large)!;
    const k10 = stats(ls.map((s) => s.wallS)).median;
    console.log(`target: 10,000 devices all pass in ≤ 600 s: median ${k10.toFixed(0)} s; wall(10k)/wall(1k) ${(k10 / k1).toFixed(1)} (≤ 11); peak RSS ${stats(ls.map((s) => s.rssMiB)).max.toFixed(0)} MiB (≤ 2048)`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
