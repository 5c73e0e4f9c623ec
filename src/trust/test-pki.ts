import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  ExtendedKeyUsage,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_kp_serverAuth,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { BootlabError } from '../errors.js';
import { pemEncode, toArrayBuffer } from './pem.js';
import { digestForKey, signatureAlgorithmFor } from './signature-algorithms.js';

/**
 * A throwaway X.509 PKI for tests and demo runs, made fresh each time: nothing here is
 * secret or committed, and every subject says TEST ONLY so a certificate that escapes is
 * recognisable.
 */
export interface KeyPair {
  keyPem: string;
  certPem: string;
}

export interface IssueCertificateOptions {
  /** The subject's common name (the whole subject is that one CN). */
  subject: string;
  /** Self-signed when absent. */
  issuer?: KeyPair;
  keyType?: 'ec' | 'rsa';
  ca?: boolean;
  days?: number;
  serial?: number;
  /**
   * A TLS server certificate for these hosts (IPv4/IPv6 addresses or DNS names): they go in
   * subjectAltName, which is what a client checks, with extendedKeyUsage serverAuth.
   */
  serverHosts?: string[];
}

export interface TestPki {
  /** The certificate a device's db holds. */
  dbCa: KeyPair;
  /** Issued by dbCa: signs images the devices trust. */
  vendorSigner: KeyPair;
  /** Self-signed and in no db: signs images the devices must refuse. */
  rogueSigner: KeyPair;
}

const OID_CN = '2.5.4.3';
const DAY_MS = 86_400_000;
/** notBefore is backdated a little so a certificate is valid on a clock that lags. */
const BACKDATE_MS = 5 * 60_000;

export function issueCertificate(opts: IssueCertificateOptions): KeyPair {
  const { privateKey, publicKey } = newKey(opts.keyType ?? 'ec');
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const ski = createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();

  const subject = cnName(opts.subject);
  let issuerName: Name = subject;
  let issuerKey: KeyObject = privateKey;
  let authorityKeyId: Buffer = ski;
  if (opts.issuer) {
    const issuerCert = new X509Certificate(opts.issuer.certPem);
    const parsed = AsnConvert.parse(issuerCert.raw, Certificate);
    issuerName = parsed.tbsCertificate.subject;
    issuerKey = createPrivateKey(opts.issuer.keyPem);
    authorityKeyId = subjectKeyIdOf(parsed) ?? createHash('sha1').update(new Uint8Array(parsed.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)).digest();
    if (!issuerCert.ca) throw new BootlabError('BL_PKI_ISSUER', `${issuerCert.subject} is not a CA certificate and cannot issue`);
  }

  const ca = opts.ca ?? false;
  const now = Date.now();
  const usage = ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature;
  const sigAlg = signatureAlgorithmFor(issuerKey, 'x509');
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialBytes(opts.serial),
    signature: sigAlg,
    issuer: issuerName,
    validity: new Validity({ notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + (opts.days ?? 365) * DAY_MS) }),
    subject,
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: ca })),
      extension(id_ce_keyUsage, true, new KeyUsage(usage)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(ski))),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(authorityKeyId)) })),
      ...(opts.serverHosts?.length
        ? [
            extension(id_ce_subjectAltName, false, new SubjectAlternativeName(opts.serverHosts.map((h) => new GeneralName(isIP(h) ? { iPAddress: h } : { dNSName: h })))),
            extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
          ]
        : []),
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signature = sign(digestForKey(issuerKey), tbsDer, issuerKey);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: toArrayBuffer(signature) });
  const certDer = Buffer.from(AsnConvert.serialize(cert));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: pemEncode('CERTIFICATE', certDer),
  };
}

export function createTestPki(): TestPki {
  const dbCa = issueCertificate({ subject: 'bootlab db CA (TEST ONLY)', ca: true, days: 3650 });
  const vendorSigner = issueCertificate({ subject: 'bootlab NOS vendor image signer (TEST ONLY)', issuer: dbCa, days: 825 });
  const rogueSigner = issueCertificate({ subject: 'bootlab rogue image signer (TEST ONLY)', days: 825 });
  return { dbCa, vendorSigner, rogueSigner };
}

function newKey(type: 'ec' | 'rsa'): { privateKey: KeyObject; publicKey: KeyObject } {
  return type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function cnName(cn: string): Name {
  return new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID_CN, value: new AttributeValue({ utf8String: cn }) })])]);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function subjectKeyIdOf(cert: Certificate): Buffer | undefined {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  if (!ext) return undefined;
  return Buffer.from(AsnConvert.parse(ext.extnValue.buffer, SubjectKeyIdentifier).buffer);
}

/** A positive DER INTEGER body: the top bit clear so it never reads as negative. */
function serialBytes(serial: number | undefined): ArrayBuffer {
  if (serial === undefined) {
    const b = randomBytes(16);
    b[0] = (b[0]! & 0x7f) | 0x01;
    return toArrayBuffer(b);
  }
  if (!Number.isSafeInteger(serial) || serial <= 0) throw new BootlabError('BL_PKI_SERIAL', `serial must be a positive integer, got ${serial}`);
  let hex = serial.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return toArrayBuffer(Buffer.from(hex, 'hex'));
}
