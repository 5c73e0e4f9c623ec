import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ReportError } from '../errors.js';
import { junitXml } from '../report/junit.js';
import { mergeReports, readReport } from '../report/merge.js';
import { summaryLines } from '../report/summary.js';
import { checkOutputFile } from './output-file.js';

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('work with run reports (--report JSON files)');
  report
    .command('merge')
    .description('join the reports of a sharded run into one verdict; exits 0 only when every shard is there and every device passed')
    .argument('<reports...>', 'report JSON files, one per shard')
    .option('--report <file>', 'write the merged report as JSON')
    .option('--junit <file>', 'write the merged report as JUnit XML')
    .option('-q, --quiet', 'print only the verdict')
    .action(async (files: string[], opts: { report?: string; junit?: string; quiet?: boolean }) => {
      const reportFile = opts.report ? await checkOutputFile('--report', opts.report) : undefined;
      const junitFile = opts.junit ? await checkOutputFile('--junit', opts.junit) : undefined;
      const reports = await Promise.all(files.map(async (file) => ({ file, report: readReport(await readJson(file), file) })));
      const { report: merged, missing } = mergeReports(reports);
      if (reportFile) await writeFile(reportFile, `${JSON.stringify(merged, null, 2)}\n`);
      if (junitFile) await writeFile(junitFile, junitXml(merged));
      const out = (line: string): void => void process.stdout.write(`${line}\n`);
      if (!opts.quiet) out(summaryLines(merged).join('\n'));
      const gap = missing.length ? `missing: shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${merged.shards.count} (no report given)\n` : '';
      const passed = merged.devices.filter((d) => d.ok).length;
      out(`${opts.quiet ? '' : '\n'}${gap}${merged.scenario}: ${merged.ok ? 'PASS' : 'FAIL'} (${passed}/${merged.fleetSize} devices met their expectations)`);
      process.exitCode = merged.ok ? 0 : 1;
    });
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ReportError(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ReportError(file, `not JSON: ${(e as Error).message}`);
  }
}
