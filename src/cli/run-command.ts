import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { EventBus } from '../event-bus.js';
import { DEFAULT_POWER_ON_CONCURRENCY, MAX_POWER_ON_CONCURRENCY } from '../scenario/concurrency-limit.js';
import { progressPrinter } from './progress.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a scenario: start its servers, boot its devices, attest them, check expectations')
    .argument('<scenario>', 'scenario YAML file')
    .option('--artifacts <dir>', 'write per-device artifacts (eventlog.bin, console.log, quote files) and report.json here')
    .option('--events <file>', 'write every event as JSON lines')
    .option('-v, --verbose', 'print packet-level events and installer output too')
    .option('--concurrency <n>', `devices booting at once (default: the scenario's powerOn.concurrency, ${DEFAULT_POWER_ON_CONCURRENCY})`, parseConcurrency)
    .action(async (file: string, opts: { artifacts?: string; events?: string; verbose?: boolean; concurrency?: number }) => {
      // Loaded on use: the scenario runner pulls in zod, yaml, undici, xstate and node-pty, which
      // `bootlab image …` and `bootlab attest …` need none of.
      const [{ loadScenario }, { runScenario }] = await Promise.all([import('../scenario/load.js'), import('../scenario/run.js')]);
      const loaded = await loadScenario(file);
      const bus = new EventBus();
      bus.subscribe(progressPrinter((line) => process.stdout.write(`${line}\n`), { verbose: opts.verbose ?? false }));
      const events = opts.events ? createWriteStream(resolve(opts.events)) : undefined;
      if (events) bus.subscribe((e) => events.write(`${JSON.stringify(e)}\n`));
      if (opts.artifacts) await mkdir(opts.artifacts, { recursive: true });
      try {
        const report = await runScenario(loaded, {
          bus,
          ...(opts.artifacts ? { artifactsDir: opts.artifacts } : {}),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        });
        process.stdout.write(`\n${report.scenario}: ${report.ok ? 'PASS' : 'FAIL'}`);
        process.stdout.write(
          ` (${report.devices.filter((d) => d.checks.every((c) => c.ok)).length}/${report.devices.length} devices met their expectations)\n`,
        );
        if (report.artifactsDir) process.stdout.write(`artifacts: ${report.artifactsDir}\n`);
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        if (events) await new Promise<void>((r) => events.end(r));
      }
    });
}

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > MAX_POWER_ON_CONCURRENCY) throw new InvalidArgumentError(`an integer from 1 to ${MAX_POWER_ON_CONCURRENCY}, got "${text}"`);
  return n;
}
