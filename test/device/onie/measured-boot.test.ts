import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/random.js';
import { defaultIdentity } from '../../../src/device/identity-defaults.js';
import {
  GOLDEN_PCRS,
  PCR,
  authorityMeasurement,
  goldenBootMeasurements,
  installerMeasurement,
  preBootMeasurements,
  rejectionMeasurement,
  toTcgEvent,
} from '../../../src/device/onie/measured-boot.js';
import { decodeEventLog } from '../../../src/protocol/tcg/event-log.js';
import { replayEvents } from '../../../src/trust/event-log-replay.js';
import { VirtualTpm } from '../../../src/trust/vtpm.js';
import { createHash } from 'node:crypto';

const db = [Buffer.from('db certificate one'), Buffer.from('db certificate two')];
const vars = { pk: Buffer.from('pk'), kek: [Buffer.from('kek')], db, dbx: { certs: [Buffer.from('revoked')], sha256: [Buffer.alloc(32, 7)] } };
const image = {
  authorityDer: db[0]!,
  size: 1234,
  sha1: createHash('sha1').update('image').digest(),
  sha256: createHash('sha256').update('image').digest(),
};

function bootInto(tpm: VirtualTpm, identitySeed: string, extra: Array<ReturnType<typeof authorityMeasurement>> = []): void {
  const id = defaultIdentity(new SeededRandom(identitySeed));
  for (const m of [...preBootMeasurements(id, vars), ...extra]) {
    const e = toTcgEvent(m, tpm.banks);
    tpm.extend(e.pcrIndex, e.eventType, e.data, Object.fromEntries(e.digests.map((d) => [d.alg, d.digest])));
  }
}

describe('ONIE measured boot', () => {
  it('golden values computed offline equal a device boot that installed the reference image', () => {
    const tpm = new VirtualTpm({ banks: ['sha1', 'sha256'] });
    bootInto(tpm, 'device-a', [
      authorityMeasurement(image.authorityDer),
      installerMeasurement({ url: 'http://127.0.0.1:41234/nos.bin', ...image }),
    ]);
    const id = defaultIdentity(new SeededRandom('another-device-same-platform'));
    const golden = replayEvents(goldenBootMeasurements(id, vars, image).map((m) => toTcgEvent(m, ['sha256'])), ['sha256']);
    for (const pcr of GOLDEN_PCRS) expect(Buffer.from(tpm.pcr('sha256', pcr))).toEqual(Buffer.from(golden.sha256[pcr]!));
  });

  it('puts no per-device value into a digest: two switches of one platform have equal PCRs', () => {
    const a = new VirtualTpm();
    const b = new VirtualTpm();
    bootInto(a, 'serial-a');
    bootInto(b, 'serial-b');
    for (let pcr = 0; pcr < 24; pcr++) expect(a.pcr('sha256', pcr)).toEqual(b.pcr('sha256', pcr));
  });

  it('records a rejection in PCR 14 only, leaving the golden PCRs untouched', () => {
    const clean = new VirtualTpm();
    const refused = new VirtualTpm();
    bootInto(clean, 'x');
    bootInto(refused, 'x', [rejectionMeasurement({ url: 'http://x/bad.bin', reason: 'digest-mismatch', sha256: image.sha256 })]);
    for (const pcr of GOLDEN_PCRS) expect(refused.pcr('sha256', pcr)).toEqual(clean.pcr('sha256', pcr));
    expect(refused.pcr('sha256', PCR.rejected)).not.toEqual(clean.pcr('sha256', PCR.rejected));
  });

  it('measures the installer with the image digest, not the event data, and the log says which URL', () => {
    const tpm = new VirtualTpm();
    const m = installerMeasurement({ url: 'http://10.0.0.1/onie-installer', ...image });
    const e = toTcgEvent(m, tpm.banks);
    expect(e.digests.find((d) => d.alg === 'sha256')!.digest).toEqual(image.sha256);
    tpm.extend(e.pcrIndex, e.eventType, e.data, Object.fromEntries(e.digests.map((d) => [d.alg, d.digest])));
    const log = decodeEventLog(tpm.eventLog());
    if (!log.ok) throw log.error;
    expect(Buffer.from(log.value.events.at(-1)!.data).toString()).toContain('http://10.0.0.1/onie-installer');
  });

  it('refuses to invent a digest for a bank the measurement did not hash', () => {
    const m = installerMeasurement({ url: 'u', ...image });
    expect(() => toTcgEvent(m, ['sha384'])).toThrow(/sha384/);
  });

  it('measures SecureBoot, PK, KEK, db and dbx into PCR 7 in the PC Client order; a dbx entry moves PCR 7', () => {
    const id = defaultIdentity(new SeededRandom('x'));
    const names = preBootMeasurements(id, vars)
      .filter((m) => m.pcr === PCR.secureBoot && m.eventType === 0x80000001)
      .map((m) => Buffer.from(m.data.subarray(32, 32 + 2 * Number(Buffer.from(m.data).readBigUInt64LE(16)))).toString('utf16le'));
    expect(names).toEqual(['SecureBoot', 'PK', 'KEK', 'db', 'dbx']);
    const dbx = preBootMeasurements(id, vars).find((m) => Buffer.from(m.data).includes(Buffer.from('dbx', 'utf16le')))!;
    // An X509 list for the revoked certificate, then one sha256 list: type GUID, sizes 28 + 48, owner, digest.
    expect(Buffer.from(dbx.data).includes(Buffer.concat([Buffer.from('2616c4c14c509240aca941f936934328', 'hex')]))).toBe(true);
    const a = new VirtualTpm();
    const b = new VirtualTpm();
    for (const m of preBootMeasurements(id, vars)) a.extend(m.pcr, m.eventType, m.data, Object.fromEntries(toTcgEvent(m, a.banks).digests.map((d) => [d.alg, d.digest])));
    const more = { ...vars, dbx: { certs: vars.dbx.certs, sha256: [...vars.dbx.sha256, Buffer.alloc(32, 8)] } };
    for (const m of preBootMeasurements(id, more)) b.extend(m.pcr, m.eventType, m.data, Object.fromEntries(toTcgEvent(m, b.banks).digests.map((d) => [d.alg, d.digest])));
    expect(a.pcr('sha256', PCR.secureBoot)).not.toEqual(b.pcr('sha256', PCR.secureBoot));
    for (const pcr of [0, 1, 4, 5, 8, 9]) expect(a.pcr('sha256', pcr)).toEqual(b.pcr('sha256', pcr));
  });
});
