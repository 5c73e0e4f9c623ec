#!/usr/bin/env node
import { Command } from 'commander';
import { registerAttestCommands } from './attest-commands.js';
import { classify, EXIT_CODES_HELP, type Failure } from './exit-codes.js';
import { registerImageCommands } from './image-commands.js';
import { readPackageInfo } from './package-info.js';
import { registerRelayCommand } from './relay-command.js';
import { registerReportCommands } from './report-command.js';
import { registerRunCommand } from './run-command.js';
import { registerScenarioCommands } from './scenario-command.js';
import { registerServeCommand } from './serve-command.js';

// `bootlab run … | head` closes our stdout early: the output ends there, the run still
// finishes and cleans up, and nobody gets a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const pkg = readPackageInfo();

const program = new Command()
  .name('bootlab')
  .description('Emulates the network-installer boot of bare-metal switches: ONIE, DHCP, HTTP, signed installers, a virtual TPM.')
  .version(pkg.version, '-V, --version', 'print the bootlab version')
  .option('--debug', 'print the stack of an internal error (also BOOTLAB_DEBUG=1)')
  .addHelpText('after', EXIT_CODES_HELP)
  // One line pointing at --help, not the whole help text under every typo.
  .showHelpAfterError('(run with --help for usage)')
  .showSuggestionAfterError()
  .exitOverride();

registerRunCommand(program);
registerServeCommand(program);
registerRelayCommand(program);
registerImageCommands(program);
registerAttestCommands(program);
registerReportCommands(program);
registerScenarioCommands(program);

// The argv check covers an error thrown while commander is still parsing, before opts() is set.
const debugging = (): boolean =>
  process.env.BOOTLAB_DEBUG === '1' || program.opts<{ debug?: boolean }>().debug === true || process.argv.includes('--debug');

function fail(e: unknown): Failure {
  const f = classify(e, { debug: debugging(), reportTo: pkg.reportTo });
  if (f.message) process.stderr.write(`${f.message}\n`);
  process.exitCode = f.code;
  return f;
}

// An 'error' event nobody listens for (a server's EADDRINUSE, a stream's ENOENT) ends up here,
// not in the catch below: it gets the same contract instead of Node's stack and exit 1.
process.on('uncaughtException', (e) => process.exit(fail(e).code));
process.on('unhandledRejection', (e) => process.exit(fail(e).code));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
