import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BootlabError } from '../errors.js';
import { decodeEventLog } from '../protocol/tcg/event-log.js';
import { decodePolicy } from '../trust/attestation-policy.js';
import { replayEventLog } from '../trust/event-log-replay.js';
import { formatEventLog } from '../trust/event-log-text.js';
import { verifyQuote } from '../trust/quote-verifier.js';

/** `bootlab attest verify` and `bootlab eventlog show`: the verifier's side, on files. */
export function registerAttestCommands(program: Command): void {
  const attest = program.command('attest').description('check TPM quotes and event logs');
  attest
    .command('verify')
    .description(
      "verify a device's quote and event log (the files `bootlab run --artifacts` writes) against a policy; exit 0 only when every check passes",
    )
    .argument('<dir>', 'directory with eventlog.bin, ak.pub.pem, quote.msg, quote.sig and nonce.hex')
    .option('--policy <file>', 'policy.json: PCR selection and golden values (default: <dir>/policy.json)')
    .option('--nonce <hex>', 'the nonce the verifier issued (default: <dir>/nonce.hex)')
    .action(async (dir: string, opts: { policy?: string; nonce?: string }) => {
      const policyFile = opts.policy ?? join(dir, 'policy.json');
      const policy = decodePolicy(await readText(policyFile));
      if (!policy.ok) throw new BootlabError('BL_CLI_INPUT', `${policyFile}: ${policy.error}`);
      const nonceHex = (opts.nonce ?? (await readText(join(dir, 'nonce.hex')))).trim();
      if (!/^([0-9a-fA-F]{2})+$/.test(nonceHex)) throw new BootlabError('BL_CLI_INPUT', `nonce "${nonceHex.slice(0, 40)}" is not hex`);
      const [attestBytes, signature, akPublicPem, eventLog] = await Promise.all([
        readBytes(join(dir, 'quote.msg')),
        readBytes(join(dir, 'quote.sig')),
        readText(join(dir, 'ak.pub.pem')),
        readBytes(join(dir, 'eventlog.bin')),
      ]);
      const verdict = verifyQuote({
        attest: attestBytes,
        signature,
        akPublicPem,
        nonce: Buffer.from(nonceHex, 'hex'),
        eventLog,
        expectedSelection: policy.value.selection,
        golden: policy.value.golden,
        referencePcr: policy.value.referencePcr,
      });
      for (const c of verdict.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(18)} ${c.detail}\n`);
      process.stdout.write(`${dir}: attestation ${verdict.ok ? 'PASS' : 'FAIL'}\n`);
      if (!verdict.ok) process.exitCode = 1;
    });

  program
    .command('eventlog')
    .description('read TCG event logs')
    .command('show')
    .description('print a TCG crypto-agile event log (eventlog.bin, or a real one from /sys/kernel/security/tpm0/binary_bios_measurements) and the PCRs it replays to')
    .argument('<file>', 'event log')
    .action(async (file: string) => {
      const log = decodeEventLog(await readBytes(file));
      if (!log.ok) throw new BootlabError('BL_CLI_INPUT', `${file}: ${log.error.message}`);
      process.stdout.write(formatEventLog(log.value, replayEventLog(log.value), { name: file }));
    });
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new BootlabError('BL_CLI_INPUT', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function readText(path: string): Promise<string> {
  return (await readBytes(path)).toString('utf8');
}
