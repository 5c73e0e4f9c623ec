import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EventBus } from '../event-bus.js';
import { DEFAULT_POWER_ON_CONCURRENCY, MAX_POWER_ON_CONCURRENCY } from '../scenario/concurrency-limit.js';
import { parseShard, shardOf, type Shard } from '../fleet/shard.js';
import { prepareArtifactsDir } from './artifacts-dir.js';
import { checkOutputFile, openOutputFile } from './output-file.js';
import { UsageError } from '../errors.js';
import { runOutput, type Verbosity } from './run-output.js';

/** Up to this many devices, a run tells each device's story by default; more show the fleet's progress. */
export const STORY_DEVICES = 8;

interface RunFlags {
  artifacts?: string;
  events?: string;
  report?: string;
  junit?: string;
  shard?: Shard;
  verbose: number;
  quiet?: boolean;
  concurrency?: number;
  allowOutside?: string[];
  force?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a scenario: start its servers, boot its devices, attest them, check expectations')
    .argument('<scenario>', 'scenario YAML file')
    .option('--artifacts <dir>', 'write per-device artifacts (eventlog.bin, console.log, quote files) and report.json here')
    .option('--force', '--artifacts may name a non-empty directory that no previous run wrote')
    .option('--report <file>', 'write the report (every verdict, each device\'s stage times) as JSON')
    .option('--junit <file>', 'write JUnit XML: a testsuite per template, a testcase per device')
    .option('--events <file>', 'write every event as JSON lines')
    .option('--shard <i/n>', 'run only shard i of n (devices whose place in the fleet mod n is i-1)', parseShardFlag)
    .option('-v, --verbose', `a line per device event (the default up to ${STORY_DEVICES} devices); twice: packets and installer output too`, (_: string, n: number) => n + 1, 0)
    .option('-q, --quiet', 'print only the verdict')
    .option(
      '--allow-outside <dir>',
      "let image source:/file: and PEM trust entries lie in this directory too (repeatable); by default they must lie in the scenario's directory or bootlab's bundled images/",
      (dir: string, previous: string[] | undefined) => [...(previous ?? []), dir],
    )
    .option('--concurrency <n>', `devices booting at once (default: the scenario's powerOn.concurrency, ${DEFAULT_POWER_ON_CONCURRENCY})`, parseConcurrency)
    .action(async (file: string, opts: RunFlags) => {
      // Loaded on use: the scenario runner pulls in zod, yaml, undici, xstate and node-pty, which
      // `bootlab image …` and `bootlab attest …` need none of.
      const [{ loadScenario }, { runScenario }, { FleetTally }, { fleetReport }, { summaryLines }, { junitXml }] = await Promise.all([
        import('../scenario/load.js'),
        import('../scenario/run.js'),
        import('../report/fleet-tally.js'),
        import('../report/from-run.js'),
        import('../report/summary.js'),
        import('../report/junit.js'),
      ]);
      const reportFile = opts.report ? await checkOutputFile('--report', opts.report) : undefined;
      const junitFile = opts.junit ? await checkOutputFile('--junit', opts.junit) : undefined;
      const eventsFile = opts.events ? await checkOutputFile('--events', opts.events) : undefined;
      const loaded = await loadScenario(file);
      const artifactsDir = opts.artifacts ? await prepareArtifactsDir(opts.artifacts, opts.force === true) : undefined;
      const size = opts.shard ? shardOf(loaded.scenario.devices, opts.shard).length : loaded.scenario.devices.length;
      const verbosity: Verbosity = opts.quiet ? 'quiet' : opts.verbose >= 2 ? 'debug' : opts.verbose === 1 || size <= STORY_DEVICES ? 'verbose' : 'normal';
      const write = (line: string): void => void process.stdout.write(`${line}\n`);

      const bus = new EventBus();
      const tally = new FleetTally();
      bus.subscribe(tally.observe);
      const output = runOutput({ verbosity, tally, fleetSize: size, tty: process.stdout.isTTY === true, write });
      bus.subscribe((e) => output.observe(e));
      // Opened before the run so that a file that cannot be written fails here, in one line,
      // and not as a stream's unhandled 'error' halfway through the run.
      const eventsFd = eventsFile ? await openOutputFile('--events', opts.events!, eventsFile) : undefined;
      const events = eventsFd ? createWriteStream('', { fd: eventsFd }) : undefined;
      let eventsError: Error | undefined;
      events?.on('error', (e) => (eventsError ??= e));
      if (events) bus.subscribe((e) => void (eventsError ?? events.write(`${JSON.stringify(e)}\n`)));
      const startedAt = new Date();
      const t0 = performance.now();
      try {
        const run = await runScenario(loaded, {
          bus,
          ...(artifactsDir ? { artifactsDir } : {}),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
          ...(opts.shard ? { shard: opts.shard } : {}),
          ...(opts.allowOutside ? { allowOutside: opts.allowOutside } : {}),
        });
        output.stop();
        const report = fleetReport(run, tally, startedAt, performance.now() - t0);
        const json = `${JSON.stringify(report, null, 2)}\n`;
        if (reportFile) await writeOutput('--report', opts.report!, reportFile, json);
        if (run.artifactsDir) await writeOutput('--artifacts', opts.artifacts!, join(run.artifactsDir, 'report.json'), json);
        if (junitFile) await writeOutput('--junit', opts.junit!, junitFile, junitXml(report));
        if (verbosity !== 'quiet') write(`\n${summaryLines(report).join('\n')}`);
        const passed = report.devices.filter((d) => d.ok).length;
        write(`${verbosity === 'quiet' ? '' : '\n'}${report.scenario}: ${report.ok ? 'PASS' : 'FAIL'} (${passed}/${report.devices.length} devices met their expectations)`);
        if (run.artifactsDir) write(`artifacts: ${run.artifactsDir}`);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        output.stop();
        if (events && !eventsError) await new Promise<void>((r) => events.end(r));
        if (eventsError) throw new UsageError(`--events ${opts.events}: cannot write: ${eventsError.message}`);
      }
    });
}

/** The checks before the run cannot foresee everything (a full disk, procfs): the flag is named either way. */
async function writeOutput(flag: string, given: string, path: string, text: string): Promise<void> {
  await writeFile(path, text).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag} ${given}: cannot write ${path}: ${e.code ?? e.message}`);
  });
}

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > MAX_POWER_ON_CONCURRENCY) throw new InvalidArgumentError(`an integer from 1 to ${MAX_POWER_ON_CONCURRENCY}, got "${text}"`);
  return n;
}

function parseShardFlag(text: string): Shard {
  try {
    return parseShard(text);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
