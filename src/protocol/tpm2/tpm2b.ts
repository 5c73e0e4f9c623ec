import type { ByteReader } from '../bytes/reader.js';

/** A TPM2B_*: u16 size, then that many bytes, refused when the size passes the type's maximum. */
export function readTpm2b(r: ByteReader, field: string, max: number): Uint8Array {
  const at = r.offset;
  const size = r.u16(`${field}.size`);
  if (size > max) r.fail('malformed', `${field}.size`, `${size} bytes, at most ${max}`, at);
  return r.bytes(size, field);
}
