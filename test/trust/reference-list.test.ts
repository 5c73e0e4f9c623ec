import { describe, expect, it } from 'vitest';
import { encodeReferenceList, listedStage, signReferenceList, verifyReferenceList, type ReferenceList } from '../../src/trust/reference-list.js';
import { createTestPki } from '../../src/trust/test-pki.js';
import { TrustStore } from '../../src/trust/trust-store.js';

const pki = createTestPki();
const db = TrustStore.fromPem(pki.dbCa.certPem);
const list: ReferenceList = {
  id: 'rack-7',
  version: 3,
  entries: [
    { stage: 'nos-installer', name: 'nos-b', sha256: 'bb'.repeat(32) },
    { stage: 'nos-installer', name: 'nos-a', sha256: 'aa'.repeat(32) },
  ],
};

describe('reference lists', () => {
  it('encode canonically: the same entries in another order give the same bytes', () => {
    expect(encodeReferenceList(list).equals(encodeReferenceList({ ...list, entries: [...list.entries].reverse() }))).toBe(true);
    expect(encodeReferenceList({ ...list, version: 4 }).equals(encodeReferenceList(list))).toBe(false);
  });

  it('verify when signed by a key db vouches for, and name the stage a digest belongs to', () => {
    const signed = signReferenceList(list, pki.vendorSigner);
    const v = verifyReferenceList(signed, db);
    expect(v).toMatchObject({ ok: true, list: { id: 'rack-7', version: 3 }, signer: expect.stringMatching(/vendor/) });
    if (!v.ok) throw new Error(v.detail);
    expect(listedStage(v.list, Buffer.alloc(32, 0xaa))?.name).toBe('nos-a');
    expect(listedStage(v.list, Buffer.alloc(32, 0xcc))).toBeUndefined();
  });

  it('refuse an edited list, a signer outside db, and a list that is not one, each with its reason', () => {
    const signed = signReferenceList(list, pki.vendorSigner);
    const edited = Buffer.from(signed.bytes.toString().replace('aaaa', 'aaab'));
    expect(verifyReferenceList({ ...signed, bytes: edited }, db)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyReferenceList(signReferenceList(list, pki.rogueSigner), db)).toMatchObject({ ok: false, reason: 'untrusted-signer' });
    const notAList = Buffer.from('{"format":"something-else"}');
    expect(verifyReferenceList({ ...signed, bytes: notAList }, db)).toMatchObject({ ok: false, reason: 'malformed', detail: expect.stringMatching(/format/) });
  });
});
