import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { err, ok, type Result } from '../result.js';
import { plainBytes } from './packet.js';

/**
 * Option 125, Vendor-Identifying Vendor-Specific Information (RFC 3925 §4): blocks of
 * `[enterprise u32][data-len u8][sub-options]`, each sub-option `[code u8][len u8][data]`.
 * ONIE's namespace is enterprise 42623 (OCP): 1 installer URL, 2 updater URL,
 * 3 machine, 4 arch, 5 machine revision.
 */
export interface VivsoBlock {
  enterprise: number;
  subOptions: VivsoSubOption[];
}

export interface VivsoSubOption {
  code: number;
  data: Uint8Array;
}

export const ONIE_ENTERPRISE_NUMBER = 42623;

export const OnieVivsoCode = {
  INSTALLER_URL: 1,
  UPDATER_URL: 2,
  MACHINE: 3,
  ARCH: 4,
  MACHINE_REV: 5,
} as const;

const PROTOCOL = 'dhcp4.vivso';

/**
 * `baseOffset` is where `data` starts in the enclosing message, so errors name the
 * absolute offset; 0 when the option payload is all there is.
 */
export function decodeVivso(data: Uint8Array, baseOffset = 0): Result<VivsoBlock[], DecodeError> {
  try {
    const blocks: VivsoBlock[] = [];
    const r = new ByteReader(plainBytes(data), PROTOCOL);
    while (r.remaining > 0) {
      const enterprise = r.u32('enterprise number');
      const len = r.u8(`enterprise ${enterprise} data length`);
      const body = r.sub(len, `enterprise ${enterprise} data`);
      const subOptions: VivsoSubOption[] = [];
      while (body.remaining > 0) {
        const code = body.u8(`enterprise ${enterprise} sub-option code`);
        const subLen = body.u8(`enterprise ${enterprise} sub-option ${code} length`);
        subOptions.push({ code, data: body.bytes(subLen, `enterprise ${enterprise} sub-option ${code} data`) });
      }
      blocks.push({ enterprise, subOptions });
    }
    return ok(blocks);
  } catch (e) {
    if (e instanceof DecodeError) return err(new DecodeError(e.protocol, e.reason, e.offset + baseOffset, e.field, detailOf(e)));
    throw e;
  }
}

export function encodeVivso(blocks: readonly VivsoBlock[]): Uint8Array {
  const out: number[] = [];
  for (const b of blocks) {
    if (!Number.isInteger(b.enterprise) || b.enterprise < 0 || b.enterprise > 0xffff_ffff) {
      throw new EncodeError(PROTOCOL, 'enterprise number', `${b.enterprise} is not a 32-bit unsigned integer`);
    }
    const body: number[] = [];
    for (const s of b.subOptions) {
      if (!Number.isInteger(s.code) || s.code < 0 || s.code > 255) throw new EncodeError(PROTOCOL, 'sub-option code', `${s.code} is not 0..255`);
      if (s.data.length > 255) throw new EncodeError(PROTOCOL, `sub-option ${s.code}`, `${s.data.length} bytes, at most 255 fit`);
      body.push(s.code, s.data.length, ...s.data);
    }
    // The block length is one byte: a block cannot be split, unlike the option itself.
    if (body.length > 255) throw new EncodeError(PROTOCOL, `enterprise ${b.enterprise} data`, `${body.length} bytes, at most 255 fit`);
    out.push(b.enterprise >>> 24, (b.enterprise >>> 16) & 0xff, (b.enterprise >>> 8) & 0xff, b.enterprise & 0xff, body.length, ...body);
  }
  return Uint8Array.from(out);
}

/** A sub-option as text (the ONIE ones are all strings). */
export function vivsoText(data: Uint8Array): string {
  return Buffer.from(data).toString('utf8');
}

function detailOf(e: DecodeError): string | undefined {
  // The message is `${protocol}: ${reason} ${field} at offset ${offset}: ${detail}`.
  const marker = ` at offset ${e.offset}: `;
  const i = e.message.indexOf(marker);
  return i < 0 ? undefined : e.message.slice(i + marker.length);
}
