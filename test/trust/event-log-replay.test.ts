import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEventLog, encodeEventLog, type TcgEvent } from '../../src/protocol/tcg/event-log.js';
import { efiAction, separator } from '../../src/protocol/tcg/event-data.js';
import { EV_EFI_ACTION, EV_NO_ACTION, EV_POST_CODE, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import type { HashAlg } from '../../src/protocol/tcg/hash-alg.js';
import { replayEventLog, replayEvents } from '../../src/trust/event-log-replay.js';

const H = (alg: HashAlg, ...parts: Uint8Array[]): Buffer => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
};
const ev = (pcrIndex: number, eventType: number, data: Uint8Array, banks: HashAlg[] = ['sha1', 'sha256']): TcgEvent => ({
  pcrIndex,
  eventType,
  digests: banks.map((alg) => ({ alg, digest: eventType === EV_NO_ACTION ? Buffer.alloc(alg === 'sha1' ? 20 : 32) : H(alg, data) })),
  data,
});
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

describe('replayEventLog', () => {
  it('gives the well-known value after a single separator in a fresh PCR', () => {
    const banks = replayEvents([ev(2, EV_SEPARATOR, separator())], ['sha1', 'sha256']);
    expect(hex(banks.sha256[2])).toBe('3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969');
    expect(hex(banks.sha1[2])).toBe('b2a83b0ebf2f8374299a5b2bdfc31ea955ad7236');
  });

  it('extends the separator digest H(00000000), not the data itself', () => {
    const e = ev(2, EV_SEPARATOR, separator());
    expect(hex(e.digests[0]!.digest)).toBe('9069ca78e7450a285173431b3e52c5c25299e473');
    expect(hex(replayEvents([e], ['sha1']).sha1[2])).toBe(hex(H('sha1', Buffer.alloc(20), e.digests[0]!.digest)));
  });

  it('equals a chain of direct extends for a known sequence', () => {
    const events = [
      ev(0, EV_POST_CODE, Buffer.from('POST CODE')),
      ev(4, EV_EFI_ACTION, efiAction('Calling EFI Application from Boot Option')),
      ev(0, EV_SEPARATOR, separator()),
      ev(4, EV_SEPARATOR, separator()),
    ];
    const log = decodeEventLog(encodeEventLog({ specId: { platformClass: 0, specVersion: { major: 2, minor: 0, errata: 2 }, uintnSize: 2, algorithms: ['sha1', 'sha256'], vendorInfo: new Uint8Array() }, events }));
    if (!log.ok) throw log.error;
    const banks = replayEventLog(log.value);
    for (const alg of ['sha1', 'sha256'] as const) {
      const zero = Buffer.alloc(alg === 'sha1' ? 20 : 32);
      const pcr0 = H(alg, H(alg, zero, H(alg, Buffer.from('POST CODE'))), H(alg, separator()));
      const pcr4 = H(alg, H(alg, zero, H(alg, Buffer.from('Calling EFI Application from Boot Option'))), H(alg, separator()));
      expect(hex(banks[alg][0])).toBe(pcr0.toString('hex'));
      expect(hex(banks[alg][4])).toBe(pcr4.toString('hex'));
      expect(hex(banks[alg][1])).toBe(zero.toString('hex'));
    }
    expect(banks.sha384).toEqual([]);
  });

  it('never extends EV_NO_ACTION', () => {
    const banks = replayEvents([ev(5, EV_NO_ACTION, Buffer.from('anything'))], ['sha256']);
    expect(hex(banks.sha256[5])).toBe('00'.repeat(32));
  });

  it('starts PCR0 at the locality a StartupLocality event names', () => {
    const data = Buffer.concat([Buffer.from('StartupLocality\0', 'latin1'), Buffer.of(3)]);
    const banks = replayEvents([ev(0, EV_NO_ACTION, data, ['sha256']), ev(0, EV_SEPARATOR, separator(), ['sha256'])], ['sha256']);
    const start = Buffer.alloc(32);
    start[31] = 3;
    expect(hex(banks.sha256[0])).toBe(H('sha256', start, H('sha256', separator())).toString('hex'));
  });

  it('refuses an event that lacks a digest for an allocated bank', () => {
    expect(() => replayEvents([ev(0, EV_SEPARATOR, separator(), ['sha1'])], ['sha1', 'sha256'])).toThrow(/no sha256 digest/);
  });
});
