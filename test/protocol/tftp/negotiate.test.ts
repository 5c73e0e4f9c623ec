import { describe, expect, it } from 'vitest';
import { negotiateRead, negotiateWrite } from '../../../src/protocol/tftp/negotiate.js';

const limits = { maxBlksize: 1468, maxWindowsize: 64, defaultTimeoutMs: 1000, maxTimeoutS: 10 };

describe('TFTP timeout option (RFC 2349)', () => {
  it('12: echoes a timeout within the server limit and waits that long', () => {
    const n = negotiateRead([{ name: 'timeout', value: '10' }], 100, limits);
    expect(n).toEqual({ ok: true, params: { blksize: 512, windowsize: 1, timeoutMs: 10_000, oack: [{ name: 'timeout', value: '10' }] } });
  });

  it('12: leaves a timeout above the limit out of the OACK and keeps the default wait, for reads and writes', () => {
    const r = negotiateRead([{ name: 'timeout', value: '255' }, { name: 'tsize', value: '0' }], 100, limits);
    expect(r).toEqual({ ok: true, params: { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: [{ name: 'tsize', value: '100' }] } });
    const w = negotiateWrite([{ name: 'timeout', value: '11' }], { ...limits, maxBytes: 1000 });
    expect(w).toEqual({ ok: true, params: { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: [] } });
  });

  it('refuses a timeout outside 1..255 with error 8', () => {
    expect(negotiateRead([{ name: 'timeout', value: '0' }], 1, limits)).toMatchObject({ ok: false, code: 8, option: 'timeout' });
    expect(negotiateRead([{ name: 'timeout', value: '256' }], 1, limits)).toMatchObject({ ok: false, code: 8 });
  });
});
