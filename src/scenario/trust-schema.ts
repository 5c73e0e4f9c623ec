import { z } from 'zod';

/**
 * The devices' trust store as the scenario writes it. A template (or one device) may
 * override any of these fields; what it leaves out comes from the scenario's `trust`.
 */
const fields = {
  /** Certificates in the devices' db: keys of the run's test PKI or PEM files. */
  db: z.array(z.string()).min(1),
  /** The platform key (a test PKI key or a PEM file): measured into PCR 7 at power-on. */
  pk: z.string(),
  /** The key-exchange keys (test PKI keys or PEM files). */
  kek: z.array(z.string()),
  /**
   * What lets an image in: a trusted signature, an approved digest (`approved`), both,
   * or dual-signer (a db signer and a countersigner from `operatorDb`).
   */
  mode: z.enum(['signature', 'allow-list', 'both', 'dual-signer']),
  /** dual-signer: who vouches for the countersignature (keys of the run's test PKI, e.g. operator, or PEM files). */
  operatorDb: z.array(z.string()),
  /**
   * required: a device fetches `<url>.merkle` first and refuses an image without a
   * manifest db trusts, then checks every chunk as it arrives and stops at the first bad one.
   */
  manifest: z.enum(['off', 'required']),
  /** Approved images for allow-list and both: `image:NAME` of a scenario image. */
  approved: z.array(z.string().regex(/^image:[A-Za-z0-9._-]+$/, 'approved entries are image:NAME')),
  /**
   * The devices' dbx: revoked certificates (test PKI keys or PEM files) and revoked
   * images (`image:NAME`, by the sha256 of that scenario image's signed content).
   */
  dbx: z.array(z.string()),
};

export const trustSchema = z
  .object({
    db: fields.db,
    pk: fields.pk.default('pk'),
    kek: fields.kek.default(['kek']),
    mode: fields.mode.default('signature'),
    operatorDb: fields.operatorDb.default([]),
    manifest: fields.manifest.default('off'),
    approved: fields.approved.default([]),
    dbx: fields.dbx.default([]),
  })
  .strict();

/** A template's changes to the scenario's trust store, field by field. */
export const trustOverrideSchema = z.object(fields).partial().strict();

export type TrustSpec = z.output<typeof trustSchema>;
export type TrustOverride = z.output<typeof trustOverrideSchema>;
