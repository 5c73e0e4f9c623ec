import type { Command } from 'commander';
import { ScenarioError } from '../errors.js';

/**
 * `bootlab scenario check FILE` validates a scenario without running it: the schema, the
 * references between its parts, and that the files it names can be read from where a run
 * may read them. `bootlab scenario schema` prints the JSON Schema editors validate with.
 */
export function registerScenarioCommands(program: Command): void {
  const scenario = program.command('scenario').description('check a scenario file, or print the JSON Schema scenario files follow');
  scenario
    .command('check')
    .description('validate a scenario without running it: exit 0 and "FILE: ok (N devices, M images)", or 2 and the file:line that is wrong')
    .argument('<scenario>', 'scenario YAML file')
    .option('--allow-outside <dir>', 'as for `bootlab run`: another directory its files may lie in (repeatable)', (dir: string, previous: string[] | undefined) => [...(previous ?? []), dir])
    .action(async (file: string, opts: { allowOutside?: string[] }) => {
      const [{ loadScenario, scenarioPath }, { InputRoots }] = await Promise.all([import('../scenario/load.js'), import('../scenario/input-roots.js')]);
      const loaded = await loadScenario(file);
      const { scenario: s } = loaded;
      const fail =
        loaded.fail ??
        ((path: (string | number)[], message: string): never => {
          throw new ScenarioError(file, path.join('.'), message);
        });
      // The files a run would read first; what they hold is judged by the run itself.
      const inputs = await InputRoots.of(loaded.baseDir, opts.allowOutside);
      const named: Array<{ p: string; path: (string | number)[] }> = [
        ...s.images.map((img, i) => ({ p: (img.source ?? img.file)!, path: ['images', i, img.source !== undefined ? 'source' : 'file'] })),
        ...s.trust.db.map((p, i) => ({ p, path: ['trust', 'db', i] })),
      ].filter(({ p, path }) => path[0] === 'images' || p.endsWith('.pem'));
      for (const { p, path } of named) {
        const r = await inputs.resolve(scenarioPath(loaded, p));
        if (!r.ok) fail(path, r.reason);
      }
      process.stdout.write(`${file}: ok (${s.devices.length} device${s.devices.length === 1 ? '' : 's'}, ${s.images.length} image${s.images.length === 1 ? '' : 's'})\n`);
    });
  scenario
    .command('schema')
    .description('print the JSON Schema of scenario files (also shipped as schema/scenario.schema.json), for editors')
    .action(async () => {
      const { scenarioJsonSchema } = await import('../scenario/json-schema.js');
      process.stdout.write(scenarioJsonSchema());
    });
}
