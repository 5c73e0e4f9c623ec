/**
 * TFTP throughput: the same file served by bootlab serve, tftpd-hpa and dnsmasq, one after
 * another in one run, each in a network namespace pair made for the run (a veth link with
 * a 1500-byte MTU, so blksize 1468 fills a frame). atftp fetches it at blksize 512, 1468,
 * and 1468 with windowsize 8; every fetch is checked byte for byte (sha256). Prints the
 * median MiB/s of each server and setting and the ratios that the targets are about:
 * lock-step ≥ 1.0× tftpd-hpa at the same setting, windowsize 8 ≥ 6× tftpd-hpa's lock-step
 * rate at 1468. bootlab runs as `bootlab serve` does by default (busy-polling 1 ms for ACKs
 * after each DATA burst) and as `bootlab-sleep` with --tftp-busy-poll 0; each server's CPU
 * time per MiB is printed beside its rate, so the trade is visible.
 *
 *   sudo npm run bench:tftp [-- --mib 64 --runs 3 --servers bootlab,bootlab-sleep,tftpd-hpa,dnsmasq]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLab, requireInterop, type Lab } from '../../test/interop/netns.js';
import { tftpServers, type TftpBenchServer } from './servers.js';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    servers: { type: 'string', default: 'bootlab,bootlab-sleep,tftpd-hpa,dnsmasq' },
  },
});
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!(mib >= 1 && mib <= 1024) || !(runs >= 1 && runs <= 20)) throw new Error('--mib is 1..1024 and --runs 1..20');

const SETTINGS = [
  { name: 'blksize 512', options: [] as string[] },
  { name: 'blksize 1468', options: ['--option', 'blksize 1468'] },
  { name: '1468 + windowsize 8', options: ['--option', 'blksize 1468', '--option', 'windowsize 8'] },
] as const;
type SettingName = (typeof SETTINGS)[number]['name'];

const net = { serverAddress: '10.216.0.1', clientAddress: '10.216.0.2', prefix: 24 };

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function fetchOnce(lab: Lab, out: string, options: readonly string[], expected: string): Promise<number> {
  await rm(out, { force: true });
  const argv = ['atftp', ...options, '--get', '-r', 'bench.bin', '-l', out, lab.server.address, '69'];
  const start = performance.now();
  await lab.exec(lab.client.ns, argv, 300_000);
  const seconds = (performance.now() - start) / 1000;
  const got = await sha256File(out);
  if (got !== expected) throw new Error(`atftp ${options.join(' ')}: the fetched file differs (sha256 ${got.slice(0, 16)}…, want ${expected.slice(0, 16)}…)`);
  return mib / seconds;
}

/**
 * CPU seconds the server process has used, its reaped children included (tftpd-hpa forks
 * one per transfer): utime, stime, cutime, cstime of /proc/PID/stat, in clock ticks.
 */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0);
  return ticks / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

async function measure(server: TftpBenchServer, root: string, expected: string): Promise<Map<SettingName, number>> {
  const lab = await createLab(net);
  const rates = new Map<SettingName, number>();
  try {
    const child = await server.start(lab, root);
    try {
      for (const setting of SETTINGS) {
        const samples: number[] = [];
        const cpuBefore = await cpuSeconds(child.pid!);
        for (let i = 0; i < runs; i++) samples.push(await fetchOnce(lab, join(root, '..', `out-${server.name}.bin`), setting.options, expected));
        // A forked transfer is reaped (and counted) a moment after the client has its file.
        await new Promise((r) => setTimeout(r, 200));
        const cpuMsPerMiB = ((await cpuSeconds(child.pid!)) - cpuBefore) * 1000 / (mib * runs);
        const cpu = server.cpuUntracked ? 'not tracked (forks per transfer)' : `${cpuMsPerMiB.toFixed(1).padStart(5)} ms/MiB`;
        rates.set(setting.name, median(samples));
        console.log(`  ${server.name.padEnd(14)} ${setting.name.padEnd(20)} ${median(samples).toFixed(1).padStart(7)} MiB/s  server CPU ${cpu}  (runs: ${samples.map((s) => s.toFixed(1)).join(', ')})`);
      }
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    await lab.destroy();
  }
  return rates;
}

await requireInterop(['ip', 'atftp', 'in.tftpd', 'dnsmasq'], 'apt-get install -y --no-install-recommends iproute2 atftp tftpd-hpa dnsmasq-base');
const chosen = values.servers.split(',').map((n) => {
  const s = tftpServers.find((x) => x.name === n);
  if (!s) throw new Error(`unknown server "${n}" (have: ${tftpServers.map((x) => x.name).join(', ')})`);
  return s;
});
const dir = await mkdtemp('/tmp/bootlab-bench-tftp-');
try {
  const root = join(dir, 'root');
  await import('node:fs/promises').then((fs) => fs.mkdir(root));
  const data = randomBytes(mib * 1024 * 1024);
  await writeFile(join(root, 'bench.bin'), data);
  const expected = createHash('sha256').update(data).digest('hex');
  console.log(`TFTP bench: ${mib} MiB, atftp client, ${runs} runs each (median), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}`);
  const results = new Map<string, Map<SettingName, number>>();
  for (const server of chosen) results.set(server.name, await measure(server, root, expected));

  console.log('\nMiB/s              ' + SETTINGS.map((s) => s.name.padStart(20)).join(''));
  for (const [name, rates] of results) console.log(name.padEnd(19) + SETTINGS.map((s) => rates.get(s.name)!.toFixed(1).padStart(20)).join(''));
  const hpa = results.get('tftpd-hpa');
  const ours = results.get('bootlab');
  if (hpa && ours) {
    console.log('\nbootlab / tftpd-hpa (same setting):');
    for (const s of SETTINGS) console.log(`  ${s.name.padEnd(20)} ${(ours.get(s.name)! / hpa.get(s.name)!).toFixed(2)}×`);
    const lockstep = hpa.get('blksize 1468')!;
    const windowed = ours.get('1468 + windowsize 8')! / lockstep;
    const lockRatios = (['blksize 512', 'blksize 1468'] as const).map((s) => ours.get(s)! / hpa.get(s)!);
    console.log(`\nlock-step bootlab / tftpd-hpa (512 / 1468): ${lockRatios.map((r) => `${r.toFixed(2)}×`).join(' / ')}  (issue target ≥ 1.0×)`);
    console.log(`windowsize 8 bootlab / tftpd-hpa lock-step at 1468: ${windowed.toFixed(2)}×  (issue target ≥ 6×)`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
