import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BootlabError } from '../errors.js';
import { readInput, readInputText } from './read-input.js';
import { runDirHint } from './run-dir-hint.js';
import { decodeEventLog } from '../protocol/tcg/event-log.js';
import { decodePolicy, encodePolicy } from '../trust/attestation-policy.js';
import { replayEventLog } from '../trust/event-log-replay.js';
import { formatEventLog } from '../trust/event-log-text.js';
import { enrolledAk } from '../trust/enrolled-ak.js';
import { withLedgerFile } from '../trust/nonce-ledger-file.js';
import { verifyEvidence, type OfflineVerdict } from '../trust/offline-attest.js';
import { decodeSignedReferenceList, verifyReferenceList, type SignedReferenceList } from '../trust/reference-list.js';
import { formatSelection } from '../protocol/tpm2/pcr-selection.js';
import { verifyImageFile } from '../trust/image-verifier.js';
import { addTrustOptions, trustStoreFromFlags, type TrustFlags } from './trust-options.js';

/** `bootlab attest verify` and `bootlab eventlog show`: the verifier's side, on files. */
export function registerAttestCommands(program: Command): void {
  const attest = program.command('attest').description('check TPM quotes and event logs');
  attest
    .command('verify')
    .description(
      "verify a device's evidence (the files `bootlab run --artifacts` writes) offline, trusting only what comes from outside it: the enrolled AK (and EK), the policy, the nonce and the ledger; exit 0 only when every check passes, 1 when one fails, 2 for unusable or refused input, 75 when the ledger stays locked",
    )
    .argument('<dir>', 'directory with eventlog.bin, quote.msg and quote.sig (its ak.pub.pem, policy.json and nonce.hex are the device\'s side: not trusted)')
    .option('--ak <pem>', "the AK public key recorded at enrolment: only its signatures count (without it attest.akPinned fails)")
    .option('--ek <pem>', "the EK the AK was enrolled under: the quote's qualifiedSigner must be the AK's qualified name under it")
    .option('--policy <file>', 'policy.json: PCR selection and golden values (required unless --trust-dir-policy)')
    .option('--nonce <hex>', 'the nonce the verifier issued (required unless --trust-dir-policy)')
    .option('--trust-dir-policy', "read policy.json and nonce.hex from DIR when --policy or --nonce is not given: only to re-check one's own run")
    .option('--previous <quote.msg>', 'the TPMS_ATTEST of the last quote accepted from this device: clock, resetCount and restartCount must not go back')
    .option('--ledger <file>', 'the nonce ledger: a nonce or quote it holds is a replay; a pass is recorded there (with its clock)')
    .action(async (dir: string, opts: { ak?: string; ek?: string; policy?: string; nonce?: string; trustDirPolicy?: boolean; previous?: string; ledger?: string }) => {
      const refuse = (what: string, flag: string): never => {
        throw new BootlabError(
          'BL_CLI_INPUT',
          `no ${flag}: the ${what} must come from outside the evidence being judged (${join(dir, flag === '--policy' ? 'policy.json' : 'nonce.hex')} is the device's side); give ${flag} ${flag === '--policy' ? 'FILE' : 'HEX'}, or --trust-dir-policy to re-check your own run`,
        );
      };
      const hint = await runDirHint(dir);
      if (hint) throw new BootlabError('BL_CLI_INPUT', hint);
      if (!opts.policy && !opts.trustDirPolicy) refuse('golden values', '--policy');
      if (!opts.nonce && !opts.trustDirPolicy) refuse('nonce', '--nonce');
      const policyFile = opts.policy ?? join(dir, 'policy.json');
      const policy = decodePolicy(await readInputText(policyFile));
      if (!policy.ok) throw new BootlabError('BL_CLI_INPUT', `${policyFile}: ${policy.error}`);
      const nonceHex = (opts.nonce ?? (await readInputText(join(dir, 'nonce.hex')))).trim();
      if (!/^([0-9a-fA-F]{2})+$/.test(nonceHex)) throw new BootlabError('BL_CLI_INPUT', `nonce "${nonceHex.slice(0, 40)}" is not hex`);
      let ak;
      if (opts.ak) {
        const [akPem, ekPem] = await Promise.all([readInputText(opts.ak, '--ak'), opts.ek ? readInputText(opts.ek, '--ek') : undefined]);
        try {
          ak = enrolledAk(akPem, ekPem);
        } catch (e) {
          throw new BootlabError('BL_CLI_INPUT', `--ak ${opts.ak}${opts.ek ? ` / --ek ${opts.ek}` : ''}: not a public key: ${(e as Error).message}`);
        }
      } else if (opts.ek) {
        throw new BootlabError('BL_CLI_INPUT', '--ek needs --ak: the EK names the AK, only the AK key checks a signature');
      }
      const [attestBytes, signature, eventLog, dirAkPem, previous] = await inOrder([
        readInput(join(dir, 'quote.msg')),
        readInput(join(dir, 'quote.sig')),
        readInput(join(dir, 'eventlog.bin')),
        readInputText(join(dir, 'ak.pub.pem')).catch(() => undefined),
        opts.previous ? readInput(opts.previous, '--previous') : undefined,
      ] as const);
      const evidence = { attest: attestBytes, signature, eventLog, dirAkPem };
      const trust = { ak, nonce: Buffer.from(nonceHex, 'hex'), policy: policy.value, previous };
      let verdict: OfflineVerdict;
      try {
        verdict = opts.ledger
          ? await withLedgerFile(opts.ledger, (ledger) => {
              const v = verifyEvidence(evidence, { ...trust, ledger });
              return { result: v, add: v.entry };
            })
          : verifyEvidence(evidence, trust);
      } catch (e) {
        if (!(e instanceof BootlabError) || e.code !== 'BL_LEDGER_BUSY') throw e;
        // Busy is not a verdict: a script may try again (EX_TEMPFAIL).
        process.stderr.write(`bootlab: ${e.message}\n`);
        process.exitCode = 75;
        return;
      }
      for (const c of verdict.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(22)} ${c.detail}\n`);
      process.stdout.write(`${dir}: attestation ${verdict.ok ? 'PASS' : 'FAIL'}${opts.ledger && verdict.ok ? ` (recorded in ${opts.ledger})` : ''}\n`);
      if (!verdict.ok) process.exitCode = 1;
    });

  addTrustOptions(
    attest
      .command('policy')
      .description(
        'compute, before any switch boots, the golden PCR values of a clean install of IMAGE on a platform, as policy.json (for `attest verify`), and the TPM2_PolicyPCR digest a secret can be sealed to',
      )
      .requiredOption('--image <file>', 'the signed installer a clean install runs')
      .option('--pk <pem>', "the switches' platform key (PK), measured into PCR 7 at power-on (none: an empty PK)")
      .option('--kek <pem...>', "the switches' key-exchange keys (KEK), measured into PCR 7")
      .option('--machine <vendor_model>', 'ONIE machine (default accton_as7326_56x)')
      .option('--arch <arch>', 'ONIE arch (default x86_64)')
      .option('--machine-rev <n>', 'machine revision (default 0)')
      .option('--onie-version <v>', 'ONIE release (default 2025.02.00.01)')
      .option('--reference-list <file>', 'a signed reference list (reference-list.json): golden PCR 12 from the list instead of 13 from the image')
      .option('-o, --output <file>', 'write policy.json here (default: print it)'),
    // The switches' own rules (db in the order the firmware lists it, dbx, mode): they decide which authorities PCR 7 records.
    'required',
  ).action(async (opts: TrustFlags & { image: string; machine?: string; arch?: string; machineRev?: string; onieVersion?: string; referenceList?: string; output?: string }) => {
    const trust = await trustStoreFromFlags(opts);
    let referenceList: SignedReferenceList | undefined;
    if (opts.referenceList) {
      let signed;
      try {
        signed = decodeSignedReferenceList(await readInputText(opts.referenceList));
      } catch (e) {
        throw new BootlabError('BL_CLI_INPUT', `${opts.referenceList}: ${(e as Error).message}`);
      }
      const v = verifyReferenceList(signed, trust);
      if (!v.ok) throw new BootlabError('BL_CLI_INPUT', `${opts.referenceList}: refused (${v.reason}): ${v.detail}`);
      referenceList = { list: v.list, ...signed };
    }
    const verdict = await verifyImageFile(opts.image, trust, { sha1: false });
    if (!verdict.ok) throw new BootlabError('BL_CLI_INPUT', `${opts.image} is not trusted by the given db (${verdict.reason}: ${verdict.detail}): a golden boot must install a trusted image`);
    if (opts.machineRev !== undefined && !/^\d+$/.test(opts.machineRev)) throw new BootlabError('BL_CLI_INPUT', `--machine-rev ${opts.machineRev} is not a number`);
    const { goldenPolicy } = await import('../scenario/golden-policy.js');
    const { policy, sealTo, policyDigest: digest } = goldenPolicy({
      image: { name: opts.image, verdict, digest: verdict.digest },
      trust,
      platform: {
        ...(opts.machine ? { machine: opts.machine } : {}),
        ...(opts.arch ? { arch: opts.arch } : {}),
        ...(opts.machineRev !== undefined ? { machineRev: Number(opts.machineRev) } : {}),
        ...(opts.onieVersion ? { onieVersion: opts.onieVersion } : {}),
      },
      referenceList,
    });
    const golden = policy.golden;
    if (opts.output) {
      await writeFile(opts.output, encodePolicy(policy));
      for (const g of golden) process.stdout.write(`golden ${`sha256:${g.pcr}`.padEnd(10)} ${Buffer.from(g.value).toString('hex')}\n`);
      process.stdout.write(`PolicyPCR(${formatSelection(sealTo)}) ${digest.toString('hex')}\n${opts.output}: written\n`);
    } else {
      process.stdout.write(encodePolicy(policy));
    }
  });

  program
    .command('eventlog')
    .description('read TCG event logs')
    .command('show')
    .description('print a TCG crypto-agile event log (eventlog.bin, or a real one from /sys/kernel/security/tpm0/binary_bios_measurements) and the PCRs it replays to')
    .argument('<file>', 'event log')
    .action(async (file: string) => {
      const log = decodeEventLog(await readInput(file));
      if (!log.ok) throw new BootlabError('BL_CLI_INPUT', `${file}: ${log.error.message}`);
      process.stdout.write(formatEventLog(log.value, replayEventLog(log.value), { name: file }));
    });
}

/**
 * Like Promise.all, but when several reads fail the first in list order is reported, not
 * whichever the disk finished first: a directory missing all its files always names the
 * same one.
 */
async function inOrder<T extends readonly unknown[]>(reads: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(reads);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
