import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BootlabError, UsageError } from '../errors.js';
import { createPrivateKey } from 'node:crypto';
import { readInput, readInputText, requireInputFile } from './read-input.js';
import { checkOutputFile } from './output-file.js';
import { readCertificateFlag } from './cert-files.js';
import { buildImage } from '../image/build.js';
import { formatInspection, inspectImage } from '../image/inspect.js';
import { countersignImage, signImage } from '../image/sign.js';
import { verifyDetachedSignature } from '../trust/detached-signature.js';
import { digestImageFile, formatVerdict, verifyImageFile, type ImageVerdict } from '../trust/image-verifier.js';
import { verifyImageFileWithManifest } from '../trust/manifest-verifier.js';
import { buildManifest } from '../image/manifest.js';
import { DEFAULT_MAX_EXTRACT_BYTES, extractPayload } from '../image/extract.js';
import { addTrustOptions, trustStoreFromFlags, type TrustFlags } from './trust-options.js';
import { TrustStore } from '../trust/trust-store.js';
import { createSecureBootPki } from '../trust/secure-boot-pki.js';
import type { KeyPair } from '../trust/test-pki.js';
import type { SharchLayout } from '../protocol/sharch/layout.js';

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
      await checkOutputFile('-o', opts.output);
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
      await requireInputFile(file);
      await checkOutputFile('-o', opts.output);
      const r = await signImage(file, await readSigningKey(opts), opts.output);
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
      await requireInputFile(file);
      await checkOutputFile('-o', opts.output);
      const r = await countersignImage(file, await readSigningKey(opts), opts.output);
      process.stdout.write(`${r.path}: countersigned ${r.signedBytes} bytes as "${r.signer}"\n`);
    });

  addTrustOptions(
    image
      .command('verify')
      .description('verify a signed image against a db of trusted certificates and a dbx of revoked ones; exit 0 only when trusted')
      .argument('<image>', 'signed image')
      .option('--sig <file>', "a detached CMS signature file (DER or PEM) for any file, as iPXE's imgverify checks: the image need not be a sharch")
      .option('--manifest <file>', 'a signed chunked Merkle manifest (bootlab image manifest): checked first, then the image chunk by chunk, stopping at the first bad chunk'),
    'required',
  ).action(async (file: string, opts: TrustFlags & { sig?: string; manifest?: string }) => {
    await requireInputFile(file);
    const store = await trustStoreFromFlags(opts);
    if (opts.sig && opts.manifest) throw new BootlabError('BL_CLI_INPUT', '--sig and --manifest: give one (a manifest checks a sharch image, a .sig any file)');
    let v: ImageVerdict;
    if (opts.manifest) {
      const r = await verifyImageFileWithManifest(file, await readInput(opts.manifest, '--manifest'), store, { sha1: false });
      if (r.manifest.ok) {
        const m = r.manifest.manifest;
        process.stdout.write(`${opts.manifest}: trusted; signer "${r.manifest.signer}", authority "${r.manifest.authority}"; root ${m.root.toString('hex')}, ${m.leafCount} chunks of ${m.chunkSize} bytes for ${m.imageSize} bytes\n`);
      }
      if (!r.verdict.ok && (r.verdict.reason === 'bad-chunk' || r.verdict.reason === 'truncated')) process.stdout.write(`${file}: read ${r.bytesRead} bytes before stopping\n`);
      v = r.verdict;
    } else {
      v = opts.sig ? await verifyDetachedSignature(file, await readInput(opts.sig, '--sig'), store) : await verifyImageFile(file, store, { sha1: false });
    }
    process.stdout.write(`${file}: ${formatVerdict(v)}\n`);
    if (!v.ok) process.exitCode = 1;
  });

  addTrustOptions(
    image
      .command('extract')
      .description("verify an installer, then unpack its payload (tar or tar.gz) into a new directory, as the sharch header's -x would; files and directories only, nothing outside DIR")
      .argument('<image>', 'installer image')
      .requiredOption('-o, --output <dir>', 'directory to create (must not exist)')
      .option('--no-verify', 'unpack without judging the signature (for inspecting an untrusted image; says so)')
      .option('--max-bytes <n>', 'refuse payloads whose files add up to more than this', String(DEFAULT_MAX_EXTRACT_BYTES)),
    'optional',
  ).action(async (file: string, opts: TrustFlags & { output: string; verify: boolean; maxBytes: string }) => {
    const maxBytes = Number(opts.maxBytes);
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new BootlabError('BL_CLI_INPUT', `--max-bytes ${opts.maxBytes}: expected a positive byte count`);
    await requireInputFile(file);
    let layout: SharchLayout;
    if (opts.verify) {
      if (!opts.db?.length) throw new BootlabError('BL_CLI_INPUT', 'extract verifies first: give --db (or --no-verify to unpack an image nobody vouched for)');
      const v = await verifyImageFile(file, await trustStoreFromFlags(opts), { sha1: false });
      if (!v.ok) {
        process.stdout.write(`${file}: ${formatVerdict(v)}; nothing extracted\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${file}: ${formatVerdict(v)}\n`);
      layout = v.digest.layout!;
    } else {
      const digest = await digestImageFile(file, { sha1: false });
      if (!digest.layout) throw new BootlabError('BL_IMAGE_EXTRACT', `${file}: not an installer image: ${digest.layoutError?.message ?? 'no sharch header'}`);
      process.stdout.write(`${file}: NOT VERIFIED (--no-verify)\n`);
      layout = digest.layout;
    }
    const r = await extractPayload(file, layout, opts.output, { maxBytes });
    process.stdout.write(`${r.dir}: ${r.files} file${r.files === 1 ? '' : 's'}, ${r.directories} director${r.directories === 1 ? 'y' : 'ies'}, ${r.bytes} bytes${r.gzip ? ' (payload was gzip)' : ''}\n`);
  });

  image
    .command('manifest')
    .description('write a signed chunked Merkle manifest for a file: the signed root lets a device check each chunk as it arrives')
    .argument('<image>', 'file to describe (usually a signed installer)')
    .requiredOption('--key <pem>', 'signer private key')
    .requiredOption('--cert <pem>', 'signer certificate')
    .requiredOption('-o, --output <file>', 'manifest to write (serve it as IMAGE.merkle)')
    .option('--chunk-size <bytes>', 'chunk size: a power of two from 4096 to 67108864', String(1 << 20))
    .action(async (file: string, opts: { key: string; cert: string; output: string; chunkSize: string }) => {
      const chunkSize = Number(opts.chunkSize);
      await requireInputFile(file);
      await checkOutputFile('-o', opts.output);
      const r = await buildManifest(file, await readSigningKey(opts), opts.output, { chunkSize });
      process.stdout.write(`${r.path}: ${r.leafCount} chunks of ${r.chunkSize} bytes for ${r.imageSize} bytes, root ${r.root.toString('hex')}\n`);
    });

  image
    .command('inspect')
    .description('show an image\'s layout, digests and signers (nothing is run or extracted); with --db also the verdict')
    .argument('<image>', 'image')
    .option('--db <pem...>', 'trusted certificates (files or directories, as image verify --db): add the verdict')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { db?: string[]; json?: boolean }) => {
      const trust = opts.db ? TrustStore.fromPem(await readCertificateFlag('--db', opts.db)) : undefined;
      const report = await inspectImage(file, trust).catch((e: NodeJS.ErrnoException) => {
        throw new BootlabError('BL_CLI_INPUT', `cannot read ${file}: ${e.code ?? e.message}`);
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v), 2)}\n` : formatInspection(file, report));
    });
}

/**
 * The signer's key and certificate, each checked for what it must hold before any image
 * byte is read: a certificate passed as --key (the likeliest slip) gets one line, not a
 * decoder stack.
 */
async function readSigningKey(opts: { key: string; cert: string }): Promise<{ keyPem: string; certPem: string }> {
  const [keyPem, certPem] = await Promise.all([readInputText(opts.key, '--key'), readInputText(opts.cert, '--cert')]);
  try {
    createPrivateKey(keyPem);
  } catch {
    const hint = keyPem.includes('-----BEGIN CERTIFICATE-----') ? ' (it holds a certificate: that goes to --cert)' : '';
    throw new UsageError(`--key ${opts.key}: not a PEM private key${hint}`);
  }
  if (!certPem.includes('-----BEGIN CERTIFICATE-----')) {
    const hint = certPem.includes('PRIVATE KEY-----') ? ' (it holds a private key: that goes to --key)' : '';
    throw new UsageError(`--cert ${opts.cert}: not a PEM certificate${hint}`);
  }
  return { keyPem, certPem };
}
