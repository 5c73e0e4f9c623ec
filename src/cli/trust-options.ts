import type { Command } from 'commander';
import { BootlabError } from '../errors.js';
import { TrustStore } from '../trust/trust-store.js';
import { readCertificateFlag } from './cert-files.js';

/** The flags every command that judges an image shares (verify, extract, manifest checks). */
export interface TrustFlags {
  db?: string[];
  dbx?: string[];
  dbxSha256?: string[];
  mode?: string;
  operatorDb?: string[];
  approveSha256?: string[];
  checkTime?: string | boolean;
  /** Only where PCR 7 matters (attest policy): the platform key and key-exchange keys. */
  pk?: string;
  kek?: string[];
}

export function addTrustOptions(cmd: Command, db: 'required' | 'optional'): Command {
  const dbHelp = 'trusted certificates: PEM or DER files, or directories of *.pem / *.crt / *.cer';
  (db === 'required' ? cmd.requiredOption('--db <pem...>', dbHelp) : cmd.option('--db <pem...>', dbHelp))
    .option('--dbx <pem...>', 'revoked certificates (files or directories, as --db): no image signed under them is trusted')
    .option('--dbx-sha256 <hex...>', 'revoked images, by the sha256 of their signed content (header + payload) or of the whole file')
    .option('--mode <mode>', 'what lets an image in: signature (default), allow-list (an approved digest, no signature needed), both, or dual-signer (a db signer and an --operator-db countersigner)')
    .option('--operator-db <pem...>', 'with --mode dual-signer: certificates that vouch for the countersigner')
    .option('--approve-sha256 <hex...>', 'approved images, by the sha256 of their signed content or of the whole file')
    .option('--check-time [date]', "also require every certificate on the chain to be valid now (or at DATE, ISO 8601); off by default, like SONiC's -no_check_time");
  return cmd;
}

export async function trustStoreFromFlags(opts: TrustFlags): Promise<TrustStore> {
  if (!opts.db?.length) throw new BootlabError('BL_CLI_INPUT', '--db is required: the certificates an image must chain to');
  const pems = await readCertificateFlag('--db', opts.db);
  const dbxPems = await readCertificateFlag('--dbx', opts.dbx ?? []);
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
  const operatorDb = opts.operatorDb ? TrustStore.fromPem(await readCertificateFlag('--operator-db', opts.operatorDb)).db : [];
  let checkTimeAt: Date | undefined;
  if (opts.checkTime !== undefined) {
    checkTimeAt = opts.checkTime === true ? new Date() : new Date(String(opts.checkTime));
    if (Number.isNaN(checkTimeAt.getTime())) throw new BootlabError('BL_CLI_INPUT', `--check-time ${String(opts.checkTime)}: not a date (use ISO 8601, e.g. 2027-01-31)`);
  }
  let pk;
  if (opts.pk) {
    const certs = TrustStore.fromPem(await readCertificateFlag('--pk', [opts.pk])).db;
    if (certs.length !== 1) throw new BootlabError('BL_CLI_INPUT', `--pk ${opts.pk}: holds ${certs.length} certificates; the platform key is one`);
    pk = certs[0]!;
  }
  const kek = opts.kek ? [...TrustStore.fromPem(await readCertificateFlag('--kek', opts.kek)).db] : [];
  return TrustStore.fromPem(pems, { pems: dbxPems, sha256: digests }, { ...(checkTimeAt ? { checkTimeAt } : {}), mode, approved, operatorDb: [...operatorDb], ...(pk ? { pk } : {}), kek });
}
