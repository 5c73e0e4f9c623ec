import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEventLog } from '../../src/protocol/tcg/event-log.js';
import { separator } from '../../src/protocol/tcg/event-data.js';
import { EV_EVENT_TAG, EV_NO_ACTION, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import { decodeAttest } from '../../src/protocol/tpm2/attest.js';
import { decodePcrsFile } from '../../src/protocol/tpm2/pcrs-file.js';
import { TPM_RH_ENDORSEMENT, decodeTpm2bPublic, hierarchyQualifiedName, qualifiedName } from '../../src/protocol/tpm2/public.js';
import { decodeSignature } from '../../src/protocol/tpm2/signature.js';
import { replayEventLog } from '../../src/trust/event-log-replay.js';
import { VirtualTpm } from '../../src/trust/vtpm.js';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

describe('VirtualTpm', () => {
  it('extends every bank with H(data) by default and logs the event', () => {
    const tpm = new VirtualTpm();
    expect(tpm.banks).toEqual(['sha1', 'sha256']);
    const e = tpm.extend(7, EV_SEPARATOR, separator());
    expect(e.digests.map((d) => d.alg)).toEqual(['sha1', 'sha256']);
    expect(hex(tpm.pcr('sha256', 7))).toBe('3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969');
    expect(tpm.events()).toHaveLength(1);
  });

  it('extends given digests instead of hashing the data', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    const image = createHash('sha256').update('the image').digest();
    tpm.extend(13, EV_EVENT_TAG, Buffer.from('{"url":"x"}'), { sha256: image });
    expect(hex(tpm.pcr('sha256', 13))).toBe(createHash('sha256').update(Buffer.concat([Buffer.alloc(32), image])).digest('hex'));
  });

  it('refuses digests that miss a bank, name an unallocated bank or have the wrong size', () => {
    const tpm = new VirtualTpm();
    expect(() => tpm.extend(0, EV_SEPARATOR, separator(), { sha256: Buffer.alloc(32) })).toThrow(/one digest per bank/);
    expect(() => tpm.extend(0, EV_SEPARATOR, separator(), { sha1: Buffer.alloc(20), sha256: Buffer.alloc(32), sha384: Buffer.alloc(48) })).toThrow(/unallocated/);
    expect(() => tpm.extend(0, EV_SEPARATOR, separator(), { sha1: Buffer.alloc(20), sha256: Buffer.alloc(20) })).toThrow(/32 bytes/);
    expect(() => tpm.extend(24, EV_SEPARATOR, separator())).toThrow(/does not exist/);
    expect(tpm.events()).toHaveLength(0);
  });

  it('logs EV_NO_ACTION with zero digests and leaves the PCR alone', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    const e = tpm.extend(3, EV_NO_ACTION, Buffer.from('note'));
    expect(hex(e.digests[0]!.digest)).toBe('00'.repeat(32));
    expect(hex(tpm.pcr('sha256', 3))).toBe('00'.repeat(32));
  });

  it('writes an event log whose replay equals its PCRs', () => {
    const tpm = new VirtualTpm();
    for (let i = 0; i < 8; i++) tpm.extend(i, EV_SEPARATOR, separator());
    tpm.extend(13, EV_EVENT_TAG, Buffer.from('installer'));
    const log = decodeEventLog(tpm.eventLog());
    if (!log.ok) throw log.error;
    expect(log.value.events).toHaveLength(9);
    const banks = replayEventLog(log.value);
    for (const alg of tpm.banks) for (let i = 0; i < 24; i++) expect(hex(banks[alg][i])).toBe(hex(tpm.pcr(alg, i)));
  });

  it('exposes an AK whose TPM2B_PUBLIC, Name and PEM describe the same key', () => {
    for (const akType of ['ecc', 'rsa'] as const) {
      const tpm = new VirtualTpm({ akType });
      const pub = decodeTpm2bPublic(tpm.ak.tpm2bPublic);
      if (!pub.ok) throw pub.error;
      const jwk = createPublicKey(tpm.ak.publicPem).export({ format: 'jwk' });
      if (pub.value.type === 'rsa') expect(Buffer.from(pub.value.modulus).toString('base64url')).toBe(jwk.n);
      else expect(Buffer.from(pub.value.x).toString('base64url')).toBe(jwk.x);
      expect(pub.value.type).toBe(akType);
      expect(hex(tpm.ak.name)).toBe('000b' + createHash('sha256').update(tpm.ak.tpm2bPublic.subarray(2)).digest('hex'));
    }
  });

  it('quotes with qualifiedSigner = QN(AK) under the EK, the nonce, and a digest of the selected PCRs', () => {
    let t = 1_000;
    const tpm = new VirtualTpm({ now: () => t, firmwareVersion: 0x1234n });
    tpm.extend(0, EV_SEPARATOR, separator());
    t += 250;
    const nonce = Buffer.from('0011223344556677', 'hex');
    const q = tpm.quote(nonce, [{ alg: 'sha256', pcrs: [7, 0] }, { alg: 'sha1', pcrs: [0] }]);
    const a = decodeAttest(q.attest);
    if (!a.ok) throw a.error;
    const ekQn = qualifiedName(hierarchyQualifiedName(TPM_RH_ENDORSEMENT), tpm.ek.name);
    expect(hex(a.value.qualifiedSigner)).toBe(hex(qualifiedName(ekQn, tpm.ak.name)));
    expect(hex(a.value.extraData)).toBe(nonce.toString('hex'));
    expect(a.value.clockInfo).toEqual({ clock: 250n, resetCount: 0, restartCount: 0, safe: 1 });
    expect(a.value.firmwareVersion).toBe(0x1234n);
    expect(q.pcrValues.map((v) => `${v.alg}:${v.pcr}`)).toEqual(['sha256:0', 'sha256:7', 'sha1:0']);
    const digest = createHash('sha256').update(Buffer.concat([tpm.pcr('sha256', 0), tpm.pcr('sha256', 7), tpm.pcr('sha1', 0)])).digest();
    expect(a.value.attested.kind === 'quote' && hex(a.value.attested.pcrDigest)).toBe(digest.toString('hex'));
    const file = decodePcrsFile(q.pcrsFile);
    expect(file.ok && file.value.values.map(hex)).toEqual(q.pcrValues.map((v) => hex(v.value)));
  });

  it('signs the quote with ECDSA-SHA256 (r and s of 32 bytes) or RSASSA-SHA256', () => {
    for (const akType of ['ecc', 'rsa'] as const) {
      const tpm = new VirtualTpm({ akType });
      const q = tpm.quote(Buffer.alloc(8), [{ alg: 'sha256', pcrs: [0] }]);
      const s = decodeSignature(q.signature);
      if (!s.ok) throw s.error;
      if (s.value.sigAlg === 'ecdsa') {
        expect([s.value.r.length, s.value.s.length]).toEqual([32, 32]);
        const rs = Buffer.concat([s.value.r, s.value.s]);
        expect(verify('sha256', q.attest, { key: createPublicKey(tpm.ak.publicPem), dsaEncoding: 'ieee-p1363' }, rs)).toBe(true);
      } else {
        expect(s.value.sigAlg).toBe('rsassa');
        expect(verify('sha256', q.attest, createPublicKey(tpm.ak.publicPem), s.value.sig)).toBe(true);
      }
      expect(s.value.hash).toBe('sha256');
    }
  });

  it('never repeats a clock value, even when its time source stands still', () => {
    const tpm = new VirtualTpm({ now: () => 5 });
    const clock = (): bigint => {
      const a = decodeAttest(tpm.quote(Buffer.alloc(0), [{ alg: 'sha256', pcrs: [0] }]).attest);
      if (!a.ok) throw a.error;
      return a.value.clockInfo.clock;
    };
    const first = clock();
    expect(clock()).toBeGreaterThan(first);
  });

  it('refuses to quote a bank it has not allocated', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    expect(() => tpm.quote(Buffer.alloc(0), [{ alg: 'sha1', pcrs: [0] }])).toThrow(/not allocated/);
  });

  it('power-cycles: PCRs and log start over and resetCount goes up', () => {
    const tpm = new VirtualTpm();
    tpm.extend(4, EV_SEPARATOR, separator());
    tpm.resume();
    expect(tpm.clockInfo().restartCount).toBe(1);
    tpm.reset();
    expect(hex(tpm.pcr('sha256', 4))).toBe('00'.repeat(32));
    expect(tpm.events()).toHaveLength(0);
    const log = decodeEventLog(tpm.eventLog());
    expect(log.ok && log.value.events).toEqual([]);
    expect(tpm.clockInfo()).toMatchObject({ resetCount: 1, restartCount: 0 });
  });

  it('signs external data but refuses anything that starts with TPM_GENERATED_VALUE, like a restricted key', () => {
    const tpm = new VirtualTpm();
    const q = tpm.quote(Buffer.alloc(4), [{ alg: 'sha256', pcrs: [0] }]);
    expect(() => tpm.sign(q.attest)).toThrow(/TPM_GENERATED_VALUE/);
    const s = decodeSignature(tpm.sign(Buffer.from('hello')));
    expect(s.ok && s.value.sigAlg).toBe('ecdsa');
  });
});

describe('VirtualTpm PCR rules (PC Client PTP attributes)', () => {
  const sha256 = (...parts: Uint8Array[]): Buffer => {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest();
  };

  it('starts the DRTM PCRs 17–22 at all ones and every other PCR at zero', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    for (let pcr = 0; pcr < 24; pcr++) expect(hex(tpm.pcr('sha256', pcr)), `PCR ${pcr}`).toBe((pcr >= 17 && pcr <= 22 ? 'ff' : '00').repeat(32));
  });

  it('resets PCR 16 and 23 from any locality, never 0–15, and the DRTM PCRs only from their localities', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    for (const pcr of [0, 7, 16, 23]) tpm.extend(pcr, EV_SEPARATOR, separator());
    tpm.resetPcr(16, 3);
    tpm.resetPcr(23);
    expect(hex(tpm.pcr('sha256', 16))).toBe('00'.repeat(32));
    expect(hex(tpm.pcr('sha256', 23))).toBe('00'.repeat(32));
    expect(() => tpm.resetPcr(7)).toThrow(expect.objectContaining({ code: 'BL_TPM_LOCALITY' }));
    expect(() => tpm.resetPcr(17, 0)).toThrow(/PCR 17 cannot be reset from locality 0/);
    expect(() => tpm.resetPcr(21, 3)).toThrow(/TPM_RC_LOCALITY/);
    tpm.resetPcr(21, 2);
    expect(hex(tpm.pcr('sha256', 21))).toBe('00'.repeat(32));
    expect(hex(tpm.pcr('sha256', 7))).toBe(hex(sha256(Buffer.alloc(32), sha256(separator()))));
  });

  it('refuses an extend of a DRTM PCR from locality 0 and takes it from the launch environment', () => {
    const tpm = new VirtualTpm({ banks: ['sha256'] });
    expect(() => tpm.extend(17, EV_EVENT_TAG, Buffer.from('x'))).toThrow(/PCR 17 cannot be extended from locality 0/);
    expect(tpm.events()).toHaveLength(0);
    tpm.extend(18, EV_EVENT_TAG, Buffer.from('x'), undefined, 3);
    expect(hex(tpm.pcr('sha256', 18))).toBe(hex(sha256(Buffer.alloc(32, 0xff), sha256(Buffer.from('x')))));
  });

  it('a dynamic launch zeroes 17–22 and measures the launched code into 17; a quote shows it', () => {
    const tpm = new VirtualTpm({ banks: ['sha1', 'sha256'] });
    const code = Buffer.from('simulated SINIT/SKINIT secure loader');
    tpm.dynamicLaunch(code);
    expect(hex(tpm.pcr('sha256', 17))).toBe(hex(sha256(Buffer.alloc(32), sha256(code))));
    expect(hex(tpm.pcr('sha1', 17))).toBe(hex(createHash('sha1').update(Buffer.alloc(20)).update(createHash('sha1').update(code).digest()).digest()));
    for (const pcr of [18, 19, 20, 21, 22]) expect(hex(tpm.pcr('sha256', pcr))).toBe('00'.repeat(32));
    const q = tpm.quote(Buffer.alloc(8), [{ alg: 'sha256', pcrs: [17, 18] }]);
    expect(q.pcrValues.map((v) => hex(v.value))).toEqual([hex(tpm.pcr('sha256', 17)), '00'.repeat(32)]);
  });
});

describe('VirtualTpm key types', () => {
  it('makes an RSAPSS AK whose template names RSAPSS and whose quotes are RSAPSS signatures, under an RSA EK', () => {
    const tpm = new VirtualTpm({ akType: 'rsa', akScheme: 'rsapss', ekType: 'rsa' });
    const ak = decodeTpm2bPublic(tpm.ak.tpm2bPublic);
    expect(ak.ok && ak.value.scheme).toEqual({ alg: 0x0016, hash: 'sha256' });
    const ek = decodeTpm2bPublic(tpm.ek.tpm2bPublic);
    expect(ek.ok && ek.value.type).toBe('rsa');
    expect(tpm.ek.type).toBe('rsa');
    const q = tpm.quote(Buffer.alloc(4), [{ alg: 'sha256', pcrs: [0] }]);
    const sig = decodeSignature(q.signature);
    expect(sig.ok && sig.value.sigAlg).toBe('rsapss');
    expect(() => new VirtualTpm({ akType: 'ecc', akScheme: 'rsapss' })).toThrow(/needs an RSA AK/);
  });
});
