import { issueCertificate, type KeyPair } from './test-pki.js';

/**
 * A UEFI-shaped test PKI (`bootlab keys init`): PK (the platform owner), KEK (may update
 * db/dbx), a db CA under which the NOS vendor and the operator sign installers, and a
 * signer that dbx revokes. Every name says TEST ONLY; nothing here is for production.
 */
export interface SecureBootPki {
  pk: KeyPair;
  kek: KeyPair;
  dbCa: KeyPair;
  vendor: KeyPair;
  operator: KeyPair;
  /** Issued by the db CA like the vendor, then revoked: listed in dbx. */
  revoked: KeyPair;
}

export function createSecureBootPki(): SecureBootPki {
  const pk = issueCertificate({ subject: 'bootlab PK platform key (TEST ONLY)', ca: true, days: 3650 });
  const kek = issueCertificate({ subject: 'bootlab KEK key exchange key (TEST ONLY)', issuer: pk, ca: true, days: 3650 });
  const dbCa = issueCertificate({ subject: 'bootlab db CA (TEST ONLY)', ca: true, days: 3650 });
  return {
    pk,
    kek,
    dbCa,
    vendor: issueCertificate({ subject: 'bootlab NOS vendor image signer (TEST ONLY)', issuer: dbCa, days: 825 }),
    operator: issueCertificate({ subject: 'bootlab operator image signer (TEST ONLY)', issuer: dbCa, days: 825 }),
    revoked: issueCertificate({ subject: 'bootlab revoked image signer (TEST ONLY)', issuer: dbCa, days: 825 }),
  };
}
