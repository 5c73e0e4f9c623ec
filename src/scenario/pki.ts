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

/** The run's HTTPS server certificate and the CA devices check it against (only when the scenario asks for TLS). */
export interface HttpsPki {
  ca: KeyPair;
  server: KeyPair;
}

/** A CA of its own for TLS, apart from the image-signing keys, and a server certificate for `host` under it. */
export async function createHttpsPki(dir: string, host: string): Promise<HttpsPki> {
  const ca = issueCertificate({ subject: 'bootlab HTTPS CA (TEST ONLY)', ca: true, days: 30 });
  const server = issueCertificate({ subject: `bootlab HTTP server ${host} (TEST ONLY)`, issuer: ca, days: 30, serverHosts: [host] });
  await mkdir(dir, { recursive: true });
  for (const [name, pair] of Object.entries({ 'https-ca': ca, 'https-server': server })) {
    await writeFile(join(dir, `${name}.TEST-ONLY.cert.pem`), pair.certPem);
    await writeFile(join(dir, `${name}.TEST-ONLY.key.pem`), pair.keyPem, { mode: 0o600 });
  }
  return { ca, server };
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
