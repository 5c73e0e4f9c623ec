import { describe, expect, it } from 'vitest';
import { negotiateRead, negotiateWrite } from '../../../src/protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, type TftpPacket } from '../../../src/protocol/tftp/packet.js';

describe('TFTP packets', () => {
  it('round-trips every opcode', () => {
    const packets: TftpPacket[] = [
      { op: 'rrq', filename: 'pxelinux.0', mode: 'octet', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }] },
      { op: 'wrq', filename: 'up', mode: 'octet', options: [] },
      { op: 'data', block: 65535, data: Uint8Array.of(1, 2, 3) },
      { op: 'ack', block: 0 },
      { op: 'error', code: 8, message: 'User aborted the transfer' },
      { op: 'oack', options: [{ name: 'windowsize', value: '4' }] },
    ];
    for (const p of packets) {
      const back = decodeTftp(encodeTftp(p));
      expect(back.ok && back.value).toEqual(p);
    }
  });

  it('reads an RRQ as EDK2 sends it: option names in any case, mode lower-cased', () => {
    const wire = Buffer.from('\x00\x01boot.efi\x00OCTET\x00TSIZE\x000\x00BlkSize\x001468\x00', 'latin1');
    const d = decodeTftp(wire);
    expect(d.ok && d.value).toEqual({ op: 'rrq', filename: 'boot.efi', mode: 'octet', options: [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }] });
  });

  it('names the field and offset of a bad packet', () => {
    const noNul = decodeTftp(Buffer.from('\x00\x01file', 'latin1'));
    expect(!noNul.ok && noNul.error).toMatchObject({ code: 'BL_DECODE_MALFORMED', field: 'filename', offset: 2 });
    const op = decodeTftp(Buffer.from([0, 9]));
    expect(!op.ok && op.error).toMatchObject({ code: 'BL_DECODE_UNSUPPORTED', field: 'opcode', offset: 0 });
    const short = decodeTftp(Buffer.from([0, 4, 1]));
    expect(!short.ok && short.error).toMatchObject({ code: 'BL_DECODE_TRUNCATED', field: 'block', offset: 2 });
  });
});

describe('negotiateRead', () => {
  const limits = { maxBlksize: 1468, maxWindowsize: 64 };
  it('clamps blksize and windowsize, answers tsize with the file size, echoes timeout, ignores unknown options', () => {
    const n = negotiateRead([{ name: 'blksize', value: '65464' }, { name: 'tsize', value: '0' }, { name: 'timeout', value: '3' }, { name: 'windowsize', value: '1000' }, { name: 'rollover', value: '0' }], 123456, limits);
    expect(n).toEqual({
      ok: true,
      params: {
        blksize: 1468,
        windowsize: 64,
        timeoutMs: 3000,
        oack: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '123456' }, { name: 'timeout', value: '3' }, { name: 'windowsize', value: '64' }],
      },
    });
  });

  it('refuses impossible values (error 8) and plain requests get no OACK', () => {
    expect(negotiateRead([{ name: 'blksize', value: '7' }], 1, limits)).toMatchObject({ ok: false, option: 'blksize', code: 8 });
    expect(negotiateRead([{ name: 'timeout', value: '0' }], 1, limits)).toMatchObject({ ok: false, option: 'timeout' });
    expect(negotiateRead([], 1, limits)).toEqual({ ok: true, params: { blksize: 512, windowsize: 1, timeoutMs: 1000, oack: [] } });
  });
});

describe('negotiateWrite', () => {
  const limits = { maxBlksize: 1468, maxWindowsize: 64, maxBytes: 1000 };
  it("echoes the client's tsize when it fits, and refuses a larger one with error 3", () => {
    expect(negotiateWrite([{ name: 'tsize', value: '1000' }, { name: 'blksize', value: '1024' }], limits)).toMatchObject({
      ok: true,
      params: { blksize: 1024, oack: [{ name: 'tsize', value: '1000' }, { name: 'blksize', value: '1024' }] },
    });
    expect(negotiateWrite([{ name: 'tsize', value: '1001' }], limits)).toMatchObject({ ok: false, option: 'tsize', code: 3 });
    expect(negotiateWrite([{ name: 'tsize', value: 'lots' }], limits)).toMatchObject({ ok: false, code: 3 });
  });
});
