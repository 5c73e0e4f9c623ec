import { verify, type KeyObject } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/**
 * The signature algorithms bootlab signs and verifies with: ECDSA P-256 and RSA PKCS#1
 * v1.5, both over sha256, and Ed25519. CMS and X.509 name RSA differently: openssl writes
 * rsaEncryption in a CMS SignerInfo (the digest is named beside it) and
 * sha256WithRSAEncryption in a certificate.
 */
export const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
} as const;

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

export function signatureAlgorithmFor(key: KeyObject, context: 'x509' | 'cms' = 'x509'): AlgorithmIdentifier {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return new AlgorithmIdentifier({ algorithm: OID.ecdsaWithSHA256 });
    case 'rsa':
      return new AlgorithmIdentifier({
        algorithm: context === 'cms' ? OID.rsaEncryption : OID.sha256WithRSAEncryption,
        parameters: DER_NULL.slice(0),
      });
    case 'ed25519':
      return new AlgorithmIdentifier({ algorithm: OID.ed25519 });
    default:
      throw new RangeError(`unsupported signing key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

/** The node:crypto digest name for `crypto.sign`/`verify` with this key (Ed25519 hashes internally). */
export function digestForKey(key: KeyObject): 'sha256' | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/**
 * Checks `signature` over `data` with the algorithm a CMS SignerInfo or certificate names.
 * 'unsupported' when the algorithm is not one of ours or does not fit the key.
 */
export function verifySignature(alg: AlgorithmIdentifier, data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean | 'unsupported' {
  if (!algorithmFitsKey(alg, key)) return 'unsupported';
  try {
    return verify(digestForKey(key), data, key, signature);
  } catch {
    return false;
  }
}

/** Whether a SignerInfo's signature algorithm is one of ours and fits the signer's key. */
export function algorithmFitsKey(alg: AlgorithmIdentifier, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  return (
    (alg.algorithm === OID.ecdsaWithSHA256 && type === 'ec') ||
    // Some signers name the key type rather than the signature algorithm for ECDSA.
    (alg.algorithm === OID.ecPublicKey && type === 'ec') ||
    ((alg.algorithm === OID.rsaEncryption || alg.algorithm === OID.sha256WithRSAEncryption) && type === 'rsa') ||
    (alg.algorithm === OID.ed25519 && type === 'ed25519')
  );
}
