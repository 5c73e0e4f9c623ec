import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestPki, issueCertificate } from '../trust/test-pki.js';

export interface KeyPair {
  keyPem: string;
  certPem: string;
}

/** The run's test PKI: made fresh for every run, never committed, named TEST ONLY. */
export interface RunPki {
  'db-ca': KeyPair;
  vendor: KeyPair;
  rogue: KeyPair;
  /** The operator's own CA (for trust.operatorDb) and the countersigner under it. */
  'operator-ca': KeyPair;
  operator: KeyPair;
  /** The platform key and a key-exchange key, self-signed as UEFI's usually are. */
  pk: KeyPair;
  kek: KeyPair;
}

export async function createRunPki(dir: string): Promise<RunPki> {
  const pki = createTestPki();
  const operatorCa = issueCertificate({ subject: 'bootlab operator CA (TEST ONLY)', ca: true });
  const operator = issueCertificate({ subject: 'bootlab operator countersigner (TEST ONLY)', issuer: operatorCa });
  const pk = issueCertificate({ subject: 'bootlab platform key PK (TEST ONLY)', ca: true });
  const kek = issueCertificate({ subject: 'bootlab key exchange key KEK (TEST ONLY)', ca: true });
  const run: RunPki = { 'db-ca': pki.dbCa, vendor: pki.vendorSigner, rogue: pki.rogueSigner, 'operator-ca': operatorCa, operator, pk, kek };
  await mkdir(dir, { recursive: true });
  for (const [name, pair] of Object.entries(run)) {
    await writeFile(join(dir, `${name}.TEST-ONLY.cert.pem`), pair.certPem);
    await writeFile(join(dir, `${name}.TEST-ONLY.key.pem`), pair.keyPem, { mode: 0o600 });
  }
  return run;
}
