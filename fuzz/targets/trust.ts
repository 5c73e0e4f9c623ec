import { parseDetachedCms } from '../../src/trust/image-verifier.js';
import { pemDecodeAll } from '../../src/trust/pem.js';
import { Violation, ascii, describe, type FuzzTarget } from '../target.js';

/** A detached signature file comes from the image server: PEM or DER, anything at all. */
export const cms: FuzzTarget = {
  name: 'cms',
  about: 'parseDetachedCms (ASN.1 CMS SignedData, PEM or DER, with its X.509 certificates): a string verdict, never a throw',
  maxLen: 4096,
  dictionary: [...ascii('-----BEGIN CMS-----\n', '\n-----END CMS-----\n'), Uint8Array.of(0x30, 0x82), Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02)],
  check(input) {
    let r;
    try {
      r = parseDetachedCms(Buffer.from(input));
    } catch (e) {
      throw new Violation(`parseDetachedCms threw ${describe(e)}`);
    }
    return typeof r === 'string' ? `refused:${r.split(':')[0]!.replace(/\d+/g, '#').slice(0, 48)}` : `ok:${r.signerInfos.length}:${r.certs.length}`;
  },
};

export const pem: FuzzTarget = {
  name: 'pem',
  about: 'pemDecodeAll on arbitrary text: never throws, every block it returns re-armours to base64 of its bytes',
  maxLen: 4096,
  dictionary: ascii('-----BEGIN CERTIFICATE-----\n', '-----END CERTIFICATE-----\n', '-----BEGIN CMS-----', '-----END CMS-----', '==', '\n'),
  check(input) {
    let blocks;
    try {
      blocks = pemDecodeAll(Buffer.from(input).toString('latin1'));
    } catch (e) {
      throw new Violation(`pemDecodeAll threw ${describe(e)}`);
    }
    for (const b of blocks) if (!/^[A-Z0-9 ]+$/.test(b.label)) throw new Violation(`block label ${JSON.stringify(b.label)}`);
    return `ok:${Math.min(blocks.length, 4)}`;
  },
};
