import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BootlabError } from '../errors.js';
import { readInput, readInputText } from './read-input.js';
import { buildImage } from '../image/build.js';
import { formatInspection, inspectImage } from '../image/inspect.js';
import { countersignImage, signImage } from '../image/sign.js';
import { verifyDetachedSignature } from '../trust/detached-signature.js';
import { verifyImageFile } from '../trust/image-verifier.js';
import { TrustStore } from '../trust/trust-store.js';
import { createSecureBootPki } from '../trust/secure-boot-pki.js';
import type { KeyPair } from '../trust/test-pki.js';

export function registerImageCommands(program: Command): void {
  program
    .command('keys')
    .description('test keys for signing and trust')
    .command('init')
    .description('create a UEFI-shaped TEST PKI in DIR: PK, KEK, a db CA with vendor and operator signers, a revoked signer, and db.pem / dbx.pem to verify with')
    .argument('<dir>', 'directory to create (must not hold keys already)')
    .action(async (dir: string) => {
      await mkdir(dir, { recursive: true });
      const existing = (await readdir(dir)).filter((f) => f.endsWith('.pem'));
      if (existing.length > 0) throw new BootlabError('BL_CLI_INPUT', `${dir} already holds ${existing.length} .pem files (${existing[0]}, …): keys init never overwrites keys`);
      const pki = createSecureBootPki();
      const names: Array<[string, KeyPair]> = [['pk', pki.pk], ['kek', pki.kek], ['db-ca', pki.dbCa], ['vendor', pki.vendor], ['operator', pki.operator], ['revoked', pki.revoked]];
      for (const [name, pair] of names) {
        await writeFile(join(dir, `${name}.TEST-ONLY.cert.pem`), pair.certPem);
        await writeFile(join(dir, `${name}.TEST-ONLY.key.pem`), pair.keyPem, { mode: 0o600 });
      }
      await writeFile(join(dir, 'db.pem'), pki.dbCa.certPem);
      await writeFile(join(dir, 'dbx.pem'), pki.revoked.certPem);
      process.stdout.write(
        `${dir}: TEST ONLY keys: ${names.map(([n]) => n).join(', ')} (<name>.TEST-ONLY.cert.pem / .key.pem), db.pem (the db CA), dbx.pem (the revoked signer)\n` +
          `sign:   bootlab image sign IMAGE --key ${join(dir, 'vendor.TEST-ONLY.key.pem')} --cert ${join(dir, 'vendor.TEST-ONLY.cert.pem')} -o SIGNED\n` +
          `verify: bootlab image verify SIGNED --db ${join(dir, 'db.pem')} --dbx ${join(dir, 'dbx.pem')}\n`,
      );
    });


  const image = program.command('image').description('build, sign and verify ONIE installer images');

  image
    .command('build')
    .description('build an ONIE self-extracting installer (sharch) from a directory holding install.sh')
    .argument('<dir>', 'installer source directory')
    .requiredOption('-o, --output <file>', 'image to write')
    .option('--updater', 'mark it an ONIE updater (ONIE-UPDATER-COOKIE) instead of a NOS installer')
    .action(async (dir: string, opts: { output: string; updater?: boolean }) => {
      const r = await buildImage(dir, opts.output, { updater: opts.updater === true });
      process.stdout.write(`${r.path}: ${r.size} bytes, payload ${r.payloadSize} bytes, payload_sha1 ${r.payloadSha1}\n`);
    });

  image
    .command('sign')
    .description('append a detached CMS signature (PEM) the way SONiC signs installers')
    .argument('<image>', 'image to sign')
    .requiredOption('--key <pem>', 'signer private key')
    .requiredOption('--cert <pem>', 'signer certificate')
    .requiredOption('-o, --output <file>', 'signed image to write')
    .action(async (file: string, opts: { key: string; cert: string; output: string }) => {
      const [keyPem, certPem] = await Promise.all([readInputText(opts.key, '--key'), readInputText(opts.cert, '--cert')]);
      const r = await signImage(file, { keyPem, certPem }, opts.output);
      process.stdout.write(`${r.path}: signed ${r.signedBytes} bytes as "${r.signer}"\n`);
    });

  image
    .command('countersign')
    .description("add a second signer (the operator) to a signed image: one more SignerInfo over the same bytes, as openssl cms -resign does")
    .argument('<image>', 'signed image')
    .requiredOption('--key <pem>', 'countersigner private key')
    .requiredOption('--cert <pem>', 'countersigner certificate')
    .requiredOption('-o, --output <file>', 'countersigned image to write')
    .action(async (file: string, opts: { key: string; cert: string; output: string }) => {
      const [keyPem, certPem] = await Promise.all([readInputText(opts.key, '--key'), readInputText(opts.cert, '--cert')]);
      const r = await countersignImage(file, { keyPem, certPem }, opts.output);
      process.stdout.write(`${r.path}: countersigned ${r.signedBytes} bytes as "${r.signer}"\n`);
    });

  image
    .command('verify')
    .description('verify a signed image against a db of trusted certificates and a dbx of revoked ones; exit 0 only when trusted')
    .argument('<image>', 'signed image')
    .requiredOption('--db <pem...>', 'trusted certificate files (PEM)')
    .option('--dbx <pem...>', 'revoked certificate files (PEM): no image signed under them is trusted')
    .option('--dbx-sha256 <hex...>', 'revoked images, by the sha256 of their signed content (header + payload) or of the whole file')
    .option('--sig <file>', "a detached CMS signature file (DER or PEM) for any file, as iPXE's imgverify checks: the image need not be a sharch")
    .option('--mode <mode>', 'what lets an image in: signature (default), allow-list (an approved digest, no signature needed), both, or dual-signer (a db signer and an --operator-db countersigner)')
    .option('--operator-db <pem...>', 'with --mode dual-signer: certificates that vouch for the countersigner')
    .option('--approve-sha256 <hex...>', 'approved images, by the sha256 of their signed content or of the whole file')
    .option('--check-time [date]', "also require every certificate on the chain to be valid now (or at DATE, ISO 8601); off by default, like SONiC's -no_check_time")
    .action(async (file: string, opts: { db: string[]; dbx?: string[]; dbxSha256?: string[]; sig?: string; checkTime?: string | boolean; mode?: string; approveSha256?: string[]; operatorDb?: string[] }) => {
      const pems = await Promise.all(opts.db.map((p) => readInputText(p, '--db')));
      const dbxPems = await Promise.all((opts.dbx ?? []).map((p) => readInputText(p, '--dbx')));
      const hexDigests = (flag: string, list: string[] | undefined): Buffer[] =>
        (list ?? []).map((h) => {
          if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new BootlabError('BL_CLI_INPUT', `--${flag} ${h}: expected 64 hex digits`);
          return Buffer.from(h, 'hex');
        });
      const digests = hexDigests('dbx-sha256', opts.dbxSha256);
      const approved = hexDigests('approve-sha256', opts.approveSha256);
      const mode = opts.mode ?? 'signature';
      if (mode !== 'signature' && mode !== 'allow-list' && mode !== 'both' && mode !== 'dual-signer') {
        throw new BootlabError('BL_CLI_INPUT', `--mode ${mode}: expected signature, allow-list, both or dual-signer`);
      }
      if ((mode === 'allow-list' || mode === 'both') && approved.length === 0) throw new BootlabError('BL_CLI_INPUT', `--mode ${mode} needs --approve-sha256`);
      if (mode === 'dual-signer' && !opts.operatorDb?.length) throw new BootlabError('BL_CLI_INPUT', '--mode dual-signer needs --operator-db');
      const operatorDb = opts.operatorDb ? TrustStore.fromPem(await Promise.all(opts.operatorDb.map((p) => readInputText(p, '--operator-db')))).db : [];
      let checkTimeAt: Date | undefined;
      if (opts.checkTime !== undefined) {
        checkTimeAt = opts.checkTime === true ? new Date() : new Date(String(opts.checkTime));
        if (Number.isNaN(checkTimeAt.getTime())) throw new BootlabError('BL_CLI_INPUT', `--check-time ${String(opts.checkTime)}: not a date (use ISO 8601, e.g. 2027-01-31)`);
      }
      const store = TrustStore.fromPem(pems, { pems: dbxPems, sha256: digests }, { ...(checkTimeAt ? { checkTimeAt } : {}), mode, approved, operatorDb: [...operatorDb] });
      const v = opts.sig ? await verifyDetachedSignature(file, await readInput(opts.sig, '--sig'), store) : await verifyImageFile(file, store, { sha1: false });
      if (v.ok) {
        process.stdout.write(
          `${file}: trusted (${v.rule}); signer "${v.signer.subject}", authority "${v.authority.subject}"${
            v.countersigner ? `; countersigner "${v.countersigner.subject}", authority "${v.countersigner.authority}"` : ''
          }\n`,
        );
      } else {
        process.stdout.write(`${file}: REJECTED: ${v.reason}: ${v.detail}\n`);
        process.exitCode = 1;
      }
    });

  image
    .command('inspect')
    .description('show an image\'s layout, digests and signers (nothing is run or extracted); with --db also the verdict')
    .argument('<image>', 'image')
    .option('--db <pem...>', 'trusted certificate files (PEM): add the verdict')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { db?: string[]; json?: boolean }) => {
      const trust = opts.db ? TrustStore.fromPem(await Promise.all(opts.db.map((p) => readInputText(p, '--db')))) : undefined;
      const report = await inspectImage(file, trust).catch((e: NodeJS.ErrnoException) => {
        throw new BootlabError('BL_CLI_INPUT', `cannot read ${file}: ${e.code ?? e.message}`);
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v), 2)}\n` : formatInspection(file, report));
    });
}
