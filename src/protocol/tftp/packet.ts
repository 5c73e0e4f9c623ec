import type { DecodeError } from '../../errors.js';
import { EncodeError } from '../../errors.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';

/** RFC 1350 opcodes, and RFC 2347's OACK. */
export const TftpOpcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 error codes, and RFC 2347's 8. */
export const TftpErrorCode = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_REFUSED: 8,
} as const;

/** Options as sent, names lower-cased (RFC 2347: case-insensitive), in request order. */
export type TftpOptions = Array<{ name: string; value: string }>;

export type TftpPacket =
  | { op: 'rrq' | 'wrq'; filename: string; mode: string; options: TftpOptions }
  | { op: 'data'; block: number; data: Uint8Array }
  | { op: 'ack'; block: number }
  | { op: 'error'; code: number; message: string }
  | { op: 'oack'; options: TftpOptions };

const PROTOCOL = 'tftp';

export function decodeTftp(buf: Uint8Array): Result<TftpPacket, DecodeError> {
  return catchDecodeError<TftpPacket>(() => {
    const r: ByteReader = new ByteReader(buf, PROTOCOL);
    const opAt = r.offset;
    const op = r.u16('opcode');
    switch (op) {
      case TftpOpcode.RRQ:
      case TftpOpcode.WRQ: {
        const filename = cString(r, 'filename');
        const mode = cString(r, 'mode').toLowerCase();
        return ok({ op: op === TftpOpcode.RRQ ? 'rrq' : 'wrq', filename, mode, options: readOptions(r) });
      }
      case TftpOpcode.DATA:
        return ok({ op: 'data', block: r.u16('block'), data: r.bytes(r.remaining, 'data') });
      case TftpOpcode.ACK: {
        const block = r.u16('block');
        return ok({ op: 'ack', block });
      }
      case TftpOpcode.ERROR: {
        const code = r.u16('error code');
        // Some clients omit the final NUL of the message; take what is there.
        const message = r.remaining > 0 ? Buffer.from(r.bytes(r.remaining, 'error message')).toString('latin1').replace(/\0.*$/s, '') : '';
        return ok({ op: 'error', code, message });
      }
      case TftpOpcode.OACK:
        return ok({ op: 'oack', options: readOptions(r) });
      default:
        return r.fail('unsupported', 'opcode', `opcode ${op}`, opAt);
    }
  });
}

export function encodeTftp(p: TftpPacket): Buffer {
  const w = new ByteWriter(p.op === 'data' ? p.data.length + 4 : 128);
  switch (p.op) {
    case 'rrq':
    case 'wrq':
      w.u16(p.op === 'rrq' ? TftpOpcode.RRQ : TftpOpcode.WRQ);
      writeCString(w, p.filename, 'filename');
      writeCString(w, p.mode, 'mode');
      writeOptions(w, p.options);
      break;
    case 'data':
      w.u16(TftpOpcode.DATA).u16(block(p.block)).bytes(p.data);
      break;
    case 'ack':
      w.u16(TftpOpcode.ACK).u16(block(p.block));
      break;
    case 'error':
      w.u16(TftpOpcode.ERROR).u16(p.code);
      writeCString(w, p.message, 'message');
      break;
    case 'oack':
      w.u16(TftpOpcode.OACK);
      writeOptions(w, p.options);
      break;
  }
  return w.finish();
}

function block(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new EncodeError(PROTOCOL, 'block', `${n} is not a 16-bit block number`);
  return n;
}

function cString(r: ByteReader, field: string): string {
  const start = r.offset;
  let end = start;
  while (end < r.end && r.buf[end] !== 0) end++;
  if (end >= r.end) r.fail('malformed', field, 'no terminating NUL', start);
  const text = Buffer.from(r.bytes(end - start, field)).toString('latin1');
  r.skip(1, `${field} NUL`);
  return text;
}

function readOptions(r: ByteReader): TftpOptions {
  const options: TftpOptions = [];
  while (r.remaining > 0) {
    // Trailing NUL padding (seen from some ROMs) ends the list.
    if (r.buf[r.offset] === 0 && options.length > 0 && r.buf.subarray(r.offset, r.end).every((b) => b === 0)) break;
    if (options.length >= 32) r.fail('limit', 'options', 'more than 32 options');
    const name = cString(r, 'option name').toLowerCase();
    const value = cString(r, `option ${name} value`);
    options.push({ name, value });
  }
  return options;
}

function writeCString(w: ByteWriter, s: string, field: string): void {
  if (s.includes('\0')) throw new EncodeError(PROTOCOL, field, 'contains a NUL byte');
  w.bytes(Buffer.from(s, 'latin1')).u8(0);
}

function writeOptions(w: ByteWriter, options: TftpOptions): void {
  for (const o of options) {
    writeCString(w, o.name, 'option name');
    writeCString(w, o.value, `option ${o.name}`);
  }
}
