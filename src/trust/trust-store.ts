import { X509Certificate } from 'node:crypto';
import { BootlabError } from '../errors.js';
import { pemDecodeAll } from './pem.js';

/** How many intermediates a signer may sit under before we stop looking for a db certificate. */
const MAX_CHAIN_DEPTH = 8;

export type TrustMode = 'signature' | 'allow-list' | 'both' | 'dual-signer';

export interface TrustOptions {
  checkTimeAt?: Date;
  mode?: TrustMode;
  approved?: Uint8Array[];
  /** dual-signer: the certificates that vouch for the operator's countersignature. */
  operatorDb?: X509Certificate[];
  /** required: a device accepts a download only with a signed chunked Merkle manifest, checked chunk by chunk. */
  manifest?: 'off' | 'required';
  /** The platform key and key-exchange keys: measured at power-on as UEFI does (bootlab models no authenticated db updates). */
  pk?: X509Certificate;
  kek?: X509Certificate[];
}

export interface TrustDecision {
  /** The db certificate that vouches for the signer. */
  authority: X509Certificate;
  /** Signer first, then each intermediate, ending with the authority. */
  path: X509Certificate[];
}

/**
 * A device's image trust store, shaped like the UEFI `db` variable SONiC reads its
 * certificates from (onie.md §5.2): a flat list, every entry equally trusted, whether it
 * is a root CA, an intermediate or a signer's own certificate; and `dbx`, what is revoked.
 * Validity dates are checked only when asked (`checkTimeAt`).
 */
export class TrustStore {
  readonly db: readonly X509Certificate[];
  /** UEFI's forbidden database: revoked certificates, and sha256 digests of revoked images. */
  readonly dbx: { readonly certs: readonly X509Certificate[]; readonly sha256: readonly Buffer[] };

  /**
   * When set, every certificate on a signer's chain must be valid at this time. Unset by
   * default, as SONiC verifies with `-no_check_time`: a switch fresh off the dock often has
   * no trustworthy clock.
   */
  readonly checkTimeAt: Date | undefined;
  /**
   * What lets an image in: a trusted signature (UEFI and SONiC's model), an approved
   * digest (the approve-list model: no signature needed), or both at once.
   */
  readonly mode: TrustMode;
  /** Approved image digests (sha256 of the signed content or of the whole file). */
  readonly approved: readonly Buffer[];
  /** dual-signer: who may countersign (the operator's CA or signer certificates). */
  readonly operatorDb: readonly X509Certificate[];
  /** Whether downloads need a signed Merkle manifest (`<url>.merkle`). */
  readonly manifest: 'off' | 'required';
  readonly pk: X509Certificate | undefined;
  readonly kek: readonly X509Certificate[];

  constructor(db: X509Certificate[], dbx: { certs?: X509Certificate[]; sha256?: Uint8Array[] } = {}, opts: TrustOptions = {}) {
    this.checkTimeAt = opts.checkTimeAt;
    this.mode = opts.mode ?? 'signature';
    this.approved = Object.freeze((opts.approved ?? []).map((d) => Buffer.from(d)));
    this.operatorDb = Object.freeze([...(opts.operatorDb ?? [])]);
    this.manifest = opts.manifest ?? 'off';
    this.pk = opts.pk;
    this.kek = Object.freeze([...(opts.kek ?? [])]);
    if ((this.mode === 'allow-list' || this.mode === 'both') && this.approved.length === 0) {
      throw new BootlabError('BL_TRUST_INPUT', `trust mode ${this.mode} needs at least one approved digest`);
    }
    if (this.mode === 'dual-signer' && this.operatorDb.length === 0) throw new BootlabError('BL_TRUST_INPUT', 'trust mode dual-signer needs operator certificates');
    this.db = Object.freeze([...db]);
    for (const d of dbx.sha256 ?? []) if (d.length !== 32) throw new BootlabError('BL_TRUST_INPUT', `a dbx digest is a 32-byte sha256, got ${d.length} bytes`);
    this.dbx = Object.freeze({ certs: Object.freeze([...(dbx.certs ?? [])]), sha256: Object.freeze((dbx.sha256 ?? []).map((d) => Buffer.from(d))) });
  }

  /** Every CERTIFICATE block of every PEM text given (db), and optionally dbx certificates and digests. */
  static fromPem(pems: string | string[], dbx: { pems?: string[]; sha256?: Uint8Array[] } = {}, opts: TrustOptions = {}): TrustStore {
    return new TrustStore(certificatesOf(pems, 'db'), { certs: certificatesOf(dbx.pems ?? [], 'dbx'), sha256: dbx.sha256 ?? [] }, opts);
  }

  /** With time checks on: the first certificate of `path` not valid at that time. */
  outOfTimeIn(path: readonly X509Certificate[]): X509Certificate | undefined {
    const at = this.checkTimeAt?.getTime();
    if (at === undefined) return undefined;
    return path.find((c) => at < new Date(c.validFrom).getTime() || at > new Date(c.validTo).getTime());
  }

  /** The operator certificate that vouches for `signer`, as `authorise` does for db. */
  authoriseOperator(signer: X509Certificate, intermediates: readonly X509Certificate[] = []): TrustDecision | undefined {
    return new TrustStore([...this.operatorDb]).authorise(signer, intermediates);
  }

  /** The first certificate of `path` that dbx revokes, if any (a revoked root revokes all under it). */
  revokedIn(path: readonly X509Certificate[]): X509Certificate | undefined {
    return path.find((c) => this.dbx.certs.some((r) => r.raw.equals(c.raw)));
  }

  /** The approved digest among these, if any. */
  approvedDigest(...digests: ReadonlyArray<Uint8Array | undefined>): Buffer | undefined {
    for (const d of digests) {
      if (!d) continue;
      const hit = this.approved.find((a) => a.equals(Buffer.from(d)));
      if (hit) return hit;
    }
    return undefined;
  }

  /** Whether dbx names one of these image digests. */
  revokedDigest(...digests: ReadonlyArray<Uint8Array | undefined>): Buffer | undefined {
    for (const d of digests) {
      if (!d) continue;
      const hit = this.dbx.sha256.find((r) => r.equals(Buffer.from(d)));
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * The db certificate that vouches for `signer`: the signer itself when it is in db (by
   * DER equality), else the db certificate at the end of a chain through `intermediates`
   * (certificates the signature carried) in which every issuer is a CA named as the
   * subject's issuer and its key verifies the subject's signature.
   */
  authorise(signer: X509Certificate, intermediates: readonly X509Certificate[] = []): TrustDecision | undefined {
    const path = [signer];
    let current = signer;
    for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
      const inDb = this.db.find((c) => c.raw.equals(current.raw));
      if (inDb) return { authority: inDb, path };
      const dbIssuer = this.db.find((c) => issued(c, current));
      if (dbIssuer) return { authority: dbIssuer, path: [...path, dbIssuer] };
      const next = intermediates.find((c) => !path.some((p) => p.raw.equals(c.raw)) && issued(c, current));
      if (!next) return undefined;
      path.push(next);
      current = next;
    }
    return undefined;
  }
}

function certificatesOf(pems: string | string[], which: 'db' | 'dbx'): X509Certificate[] {
  const certs: X509Certificate[] = [];
  for (const [i, text] of (Array.isArray(pems) ? pems : [pems]).entries()) {
    const blocks = pemDecodeAll(text).filter((b) => b.label === 'CERTIFICATE');
    if (blocks.length === 0) throw new BootlabError('BL_TRUST_INPUT', `${which === 'db' ? 'trust store' : 'dbx'} entry ${i}: no PEM CERTIFICATE block`);
    for (const b of blocks) {
      try {
        certs.push(new X509Certificate(b.der));
      } catch (e) {
        throw new BootlabError('BL_TRUST_INPUT', `${which === 'db' ? 'trust store' : 'dbx'} entry ${i}: not a certificate: ${(e as Error).message}`, { cause: e });
      }
    }
  }
  return certs;
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  if (!issuer.ca || !subject.checkIssued(issuer)) return false;
  try {
    return subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** "CN=a, O=b": X509Certificate.subject puts one RDN per line. */
export function subjectLine(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).join(', ');
}
