import fc from 'fast-check';
import { negotiateRead, negotiateWrite, type TftpLimits } from '../../src/protocol/tftp/negotiate.js';
import { decodeTftp, encodeTftp, type TftpOptions } from '../../src/protocol/tftp/packet.js';
import { Violation, ascii, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

const LIMITS: TftpLimits = { maxBlksize: 1468, maxWindowsize: 64 };

const cstr = fc.oneof(fc.constantFrom('blksize', 'tsize', 'timeout', 'windowsize', 'octet', 'netascii', 'BLKSIZE', '0', '8', '65464', '65535', '99999999999999999999', '-1', ''), fc.string({ maxLength: 12 }));
const requestArbitrary = fc
  .tuple(fc.integer({ min: 0, max: 7 }), fc.array(cstr, { maxLength: 12 }), fc.boolean())
  .map(([op, strings, terminated]) => {
    const body = strings.map((s) => Buffer.from(s, 'latin1')).flatMap((b) => [...b, 0]);
    if (!terminated) body.pop();
    return Uint8Array.from([0, op, ...body]);
  });

/** The transfer parameters a request's options can buy stay inside the server's limits. */
function checkNegotiation(options: TftpOptions): void {
  const read = negotiateRead(options, 123_456, LIMITS);
  const write = negotiateWrite(options, { ...LIMITS, maxBytes: 1 << 20 });
  for (const n of [read, write]) {
    if (!n.ok) continue;
    const p = n.params;
    if (!(Number.isInteger(p.blksize) && p.blksize >= 8 && p.blksize <= LIMITS.maxBlksize)) throw new Violation(`negotiated blksize ${p.blksize} outside 8..${LIMITS.maxBlksize}`);
    if (!(Number.isInteger(p.windowsize) && p.windowsize >= 1 && p.windowsize <= LIMITS.maxWindowsize)) throw new Violation(`negotiated windowsize ${p.windowsize} outside 1..${LIMITS.maxWindowsize}`);
    if (!(Number.isFinite(p.timeoutMs) && p.timeoutMs >= 1000 && p.timeoutMs <= 255_000)) throw new Violation(`negotiated timeout ${p.timeoutMs} ms outside 1..255 s`);
    // The OACK must be sendable and read back as sent.
    expectRoundTrip({ op: 'oack' as const, options: p.oack }, encodeTftp, (b) => decodeTftp(b), 'tftp OACK');
  }
}

export const tftp: FuzzTarget = {
  name: 'tftp',
  about: 'decodeTftp (RRQ/WRQ with RFC 2347 options, DATA, ACK, ERROR, OACK), negotiateRead/negotiateWrite on the options, round trip through encodeTftp',
  maxLen: 1500,
  arbitrary: requestArbitrary,
  dictionary: ascii('blksize\0', 'tsize\0', 'timeout\0', 'windowsize\0', 'octet\0', 'netascii\0', '1468\0', '0\0', '65464\0'),
  check(input) {
    const r = expectResult(() => decodeTftp(input), input.length);
    if (!r.ok) return outcome(r);
    const p = r.value;
    if (p.op === 'rrq' || p.op === 'wrq' || p.op === 'oack') checkNegotiation(p.options);
    expectRoundTrip(p, encodeTftp, (b) => decodeTftp(b), 'tftp');
    return outcome(r, `${p.op}:${'options' in p ? p.options.length : ''}`);
  },
};
