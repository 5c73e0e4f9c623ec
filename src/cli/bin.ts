#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { BootlabError, EnvironmentError } from '../errors.js';
import { registerAttestCommands } from './attest-commands.js';
import { registerImageCommands } from './image-commands.js';
import { registerReportCommands } from './report-command.js';
import { registerRunCommand } from './run-command.js';
import { registerScenarioCommands } from './scenario-command.js';
import { registerServeCommand } from './serve-command.js';

// `bootlab run … | head` closes our stdout early: the output ends there, the run still
// finishes and cleans up, and nobody gets a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

const program = new Command()
  .name('bootlab')
  .description('Emulates the network-installer boot of bare-metal switches: ONIE, DHCP, HTTP, signed installers, a virtual TPM.')
  .showHelpAfterError()
  .exitOverride();

registerRunCommand(program);
registerServeCommand(program);
registerImageCommands(program);
registerAttestCommands(program);
registerReportCommands(program);
registerScenarioCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else if (e instanceof EnvironmentError) {
    process.stderr.write(`bootlab: ${e.message}\n`);
    process.exitCode = 3;
  } else if (e instanceof BootlabError) {
    // A user mistake gets its message, never a stack.
    process.stderr.write(`bootlab: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`bootlab: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
}
