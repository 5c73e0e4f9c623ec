import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { registerReportCommands } from '../../src/cli/report-command.js';
import { registerRunCommand } from '../../src/cli/run-command.js';

const dir = new URL('../../examples/sharding/', import.meta.url);
const program = new Command();
registerRunCommand(program);
registerReportCommands(program);

/** The long flags a bootlab command line in an example uses. */
function flagsOf(line: string): string[] {
  return [...line.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
}

function commandNamed(path: string[]): Command {
  let cmd: Command = program;
  for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
  expect(cmd, path.join(' ')).toBeDefined();
  return cmd;
}

/** Every flag the example passes is one the command has: an example that drifts fails here. */
function expectKnownFlags(line: string, path: string[]): void {
  const known = new Set(commandNamed(path).options.map((o) => o.long));
  expect(flagsOf(line).length).toBeGreaterThan(0);
  for (const flag of flagsOf(line)) expect(known, `${path.join(' ')} ${flag}`).toContain(flag);
}

describe('the sharding examples', () => {
  it('GitHub Actions: one job per shard 1..N, then a merge of every report', () => {
    const wf = parse(readFileSync(new URL('github-actions.yml', dir), 'utf8'));
    const shards = Number(wf.env.SHARDS);
    expect(wf.jobs.shard.strategy.matrix.shard).toEqual(Array.from({ length: shards }, (_, i) => i + 1));
    expect(wf.jobs.shard.strategy['fail-fast']).toBe(false);
    const steps: { run?: string }[] = wf.jobs.shard.steps;
    const run = steps.map((s) => s.run ?? '').find((r) => r.includes('bootlab run'))!;
    expect(run).toContain('--shard ${{ matrix.shard }}/$SHARDS');
    expectKnownFlags(run, ['run']);
    expect(wf.jobs.merge.needs).toBe('shard');
    expect(wf.jobs.merge.if).toBe('always()');
    const merge = (wf.jobs.merge.steps as { run?: string }[]).map((s) => s.run ?? '').find((r) => r.includes('report merge'))!;
    expect(merge).toContain('report-*.json');
    expectKnownFlags(merge, ['report', 'merge']);
  });

  it('Kubernetes: an Indexed Job whose completion index becomes shard index+1 of completions', () => {
    const job = parse(readFileSync(new URL('k8s-indexed-job.yaml', dir), 'utf8'));
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const n = job.spec.completions;
    expect(job.spec.parallelism).toBe(n);
    const args: string = job.spec.template.spec.containers[0].args.join(' ');
    expect(args).toContain(`--shard "$((JOB_COMPLETION_INDEX + 1))/${n}"`);
    expectKnownFlags(args, ['run']);
  });
});
