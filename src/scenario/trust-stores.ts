import { ScenarioError } from '../errors.js';
import { secureBootVariablesOf, type SecureBootVariables } from '../device/onie/measured-boot.js';
import { verifyDigestedImage } from '../trust/image-verifier.js';
import { TrustStore } from '../trust/trust-store.js';
import type { PreparedImage } from './images.js';
import type { TrustSpec } from './trust-schema.js';

/** A trust store as devices hold it, with what measured boot records of it. */
export interface DeviceTrust {
  trust: TrustStore;
  secureBoot: SecureBootVariables;
}

/** Where in the scenario file each field of a trust spec was written, for messages. */
export type TrustWhere = (field: keyof TrustSpec) => string;

/** Reads a trust entry: a key of the run's test PKI, or a PEM file relative to the scenario. */
export type PemOf = (entry: string, where: string) => Promise<string>;

/** The certificate part of a trust spec (db and revoked certificates): what images are first judged by. */
export async function certificateTrust(spec: TrustSpec, pemOf: PemOf, where: TrustWhere): Promise<TrustStore> {
  const db = await Promise.all(spec.db.map((entry, i) => pemOf(entry, `${where('db')}.${i}`)));
  const dbx = await Promise.all(
    spec.dbx
      .map((entry, i) => ({ entry, i }))
      .filter(({ entry }) => !entry.startsWith('image:'))
      .map(({ entry, i }) => pemOf(entry, `${where('dbx')}.${i}`)),
  );
  return TrustStore.fromPem(db, { pems: dbx });
}

/**
 * The devices' trust stores, one per distinct spec: a fleet whose templates share the
 * scenario's trust holds one store, however many devices it has.
 */
export class TrustStores {
  private readonly built = new Map<string, Promise<DeviceTrust>>();

  constructor(
    private readonly images: ReadonlyMap<string, PreparedImage>,
    private readonly pemOf: PemOf,
    private readonly file: string,
  ) {}

  get(spec: TrustSpec, where: TrustWhere): Promise<DeviceTrust> {
    const key = JSON.stringify(spec);
    let store = this.built.get(key);
    if (!store) {
      store = this.build(spec, where);
      this.built.set(key, store);
    }
    return store;
  }

  private async build(spec: TrustSpec, where: TrustWhere): Promise<DeviceTrust> {
    const { images, pemOf, file } = this;
    const have = (): string => [...images.keys()].join(', ');
    const certs = await certificateTrust(spec, pemOf, where);
    const revoked = spec.dbx
      .map((entry, i) => ({ entry, i }))
      .filter(({ entry }) => entry.startsWith('image:'))
      .map(({ entry, i }) => {
        const name = entry.slice('image:'.length);
        const img = images.get(name);
        if (!img) throw new ScenarioError(file, `${where('dbx')}.${i}`, `${entry}: no image named "${name}" (have: ${have()})`);
        if (!img.signedSha256) throw new ScenarioError(file, `${where('dbx')}.${i}`, `${entry} is not a sharch image, so it has no signed content to revoke`);
        return img.signedSha256;
      });
    const approved = spec.approved.map((entry, i) => {
      const img = images.get(entry.slice('image:'.length));
      if (!img?.signedSha256) throw new ScenarioError(file, `${where('approved')}.${i}`, `${entry}: no sharch image of that name (have: ${have()})`);
      return img.signedSha256;
    });
    if ((spec.mode === 'allow-list' || spec.mode === 'both') && approved.length === 0) throw new ScenarioError(file, where('approved'), `trust mode ${spec.mode} needs approved images`);
    if (spec.mode === 'dual-signer' && spec.operatorDb.length === 0) throw new ScenarioError(file, where('operatorDb'), 'trust mode dual-signer needs operatorDb (e.g. [operator-ca])');
    const operatorDb = [...TrustStore.fromPem(await Promise.all(spec.operatorDb.map((entry, i) => pemOf(entry, `${where('operatorDb')}.${i}`)))).db];
    const pk = TrustStore.fromPem(await pemOf(spec.pk, where('pk'))).db;
    if (pk.length !== 1) throw new ScenarioError(file, where('pk'), `${spec.pk} holds ${pk.length} certificates; the platform key is one`);
    const kek = [...TrustStore.fromPem(await Promise.all(spec.kek.map((entry, i) => pemOf(entry, `${where('kek')}.${i}`)))).db];
    const trust = new TrustStore([...certs.db], { certs: [...certs.dbx.certs], sha256: revoked }, { mode: spec.mode, approved, operatorDb, manifest: spec.manifest, pk: pk[0]!, kek });
    return { trust, secureBoot: secureBootVariablesOf(trust) };
  }
}

/**
 * An image as the verifier's golden boot sees it under one trust store: judged by the
 * devices' own rules (an approved digest is then the authority PCR 7 records, not a
 * certificate).
 */
export function judgedBy(img: PreparedImage, trust: TrustStore): PreparedImage {
  const { authorityDer: _a, operatorAuthorityDer: _o, refusal: _r, ...rest } = img;
  const v = verifyDigestedImage(img.digest, trust);
  if (!v.ok) return { ...rest, refusal: v.reason };
  return { ...rest, authorityDer: v.authority.entry, ...(v.countersigner ? { operatorAuthorityDer: v.countersigner.authorityEntry } : {}) };
}
