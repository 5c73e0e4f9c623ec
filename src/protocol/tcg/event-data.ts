import { EncodeError } from '../../errors.js';
import { ByteWriter } from '../bytes/writer.js';

/** Builders for the event data of the TCG PC Client / UEFI events bootlab measures (tpm.md §3.2). */

const PROTO = 'tcg-event-data';

/** EFI_GLOBAL_VARIABLE: SecureBoot, PK, KEK, BootOrder, Boot####. */
export const EFI_GLOBAL_VARIABLE_GUID = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
/** EFI_IMAGE_SECURITY_DATABASE_GUID: the vendor GUID of db and dbx. */
export const EFI_IMAGE_SECURITY_DATABASE_GUID = 'd719b2cb-3d3a-4596-a3bc-dad00e67656f';
/** EFI_CERT_X509_GUID: an EFI_SIGNATURE_LIST of DER certificates. */
export const EFI_CERT_X509_GUID = 'a5c059a1-94e4-4aa7-87b5-ab155c2bf072';
/** EFI_CERT_SHA256_GUID: an EFI_SIGNATURE_LIST of SHA-256 image digests. */
export const EFI_CERT_SHA256_GUID = 'c1c41626-504c-4092-aca9-41f936934328';

const GUID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** EFI_GUID on the wire: Data1–3 little-endian, Data4 as written. */
export function encodeGuid(guid: string): Buffer {
  const m = GUID_RE.exec(guid);
  if (!m) throw new EncodeError(PROTO, 'guid', `"${guid}" is not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(parseInt(m[1]!, 16), 0);
  out.writeUInt16LE(parseInt(m[2]!, 16), 4);
  out.writeUInt16LE(parseInt(m[3]!, 16), 6);
  Buffer.from(m[4]! + m[5]!, 'hex').copy(out, 8);
  return out;
}

/** The inverse of encodeGuid; `bytes` must hold 16 bytes from `at`. */
export function decodeGuid(bytes: Uint8Array, at = 0): string {
  if (at + 16 > bytes.length) throw new RangeError(`a GUID needs 16 bytes at ${at}, ${bytes.length - at} left`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset + at, 16);
  const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  const d4 = b.subarray(8).toString('hex');
  return `${hex(b.readUInt32LE(0), 8)}-${hex(b.readUInt16LE(4), 4)}-${hex(b.readUInt16LE(6), 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

/** EV_S_CRTM_VERSION data: the version as UTF-16LE with a terminating NUL. */
export function crtmVersion(version: string): Buffer {
  return Buffer.from(`${version}\0`, 'utf16le');
}

/** UEFI_IMAGE_LOAD_EVENT for EV_EFI_BOOT_SERVICES_APPLICATION and the driver events. */
export function efiImageLoadEvent(e: { location: bigint; length: bigint; linkTime: bigint; devicePath: Uint8Array }): Buffer {
  return new ByteWriter(32 + e.devicePath.length)
    .u64le(e.location)
    .u64le(e.length)
    .u64le(e.linkTime)
    .u64le(BigInt(e.devicePath.length))
    .bytes(e.devicePath)
    .finish();
}

/** UEFI_VARIABLE_DATA: the name is counted in CHAR16 units and carries no NUL. */
export function uefiVariableData(guid: string, name: string, data: Uint8Array): Buffer {
  const name16 = Buffer.from(name, 'utf16le');
  return new ByteWriter(32 + name16.length + data.length)
    .bytes(encodeGuid(guid))
    .u64le(BigInt(name16.length / 2))
    .u64le(BigInt(data.length))
    .bytes(name16)
    .bytes(data)
    .finish();
}

/** EFI_SIGNATURE_DATA: SignatureOwner ‖ the signature (here a DER certificate). */
export function efiSignatureData(ownerGuid: string, certDer: Uint8Array): Buffer {
  return Buffer.concat([encodeGuid(ownerGuid), certDer]);
}

/**
 * A db-style variable of X.509 certificates. Every entry of one EFI_SIGNATURE_LIST has the
 * same SignatureSize, so certificates of different lengths each get their own list.
 */
export function efiSignatureListX509(ownerGuid: string, certsDer: readonly Uint8Array[]): Buffer {
  const type = encodeGuid(EFI_CERT_X509_GUID);
  return Buffer.concat(
    certsDer.map((cert) => {
      const entry = efiSignatureData(ownerGuid, cert);
      return new ByteWriter(28 + entry.length)
        .bytes(type)
        .u32le(28 + entry.length) // SignatureListSize: header (28) + one entry
        .u32le(0) // SignatureHeaderSize
        .u32le(entry.length) // SignatureSize
        .bytes(entry)
        .finish();
    }),
  );
}

/** One EFI_SIGNATURE_LIST of sha256 image digests (as dbx holds revoked images); empty for none. */
export function efiSignatureListSha256(ownerGuid: string, digests: readonly Uint8Array[]): Buffer {
  if (digests.length === 0) return Buffer.alloc(0);
  const size = 16 + 32;
  const w = new ByteWriter(28 + size * digests.length)
    .bytes(encodeGuid(EFI_CERT_SHA256_GUID))
    .u32le(28 + size * digests.length) // SignatureListSize
    .u32le(0) // SignatureHeaderSize
    .u32le(size); // SignatureSize: owner GUID ‖ digest
  for (const d of digests) {
    if (d.length !== 32) throw new RangeError(`a sha256 signature is 32 bytes, got ${d.length}`);
    w.bytes(encodeGuid(ownerGuid)).bytes(d);
  }
  return w.finish();
}

/** TCG_PCClientTaggedEvent: u32 taggedEventID ‖ u32 size ‖ data. */
export function taggedEvent(id: number, data: Uint8Array): Buffer {
  return new ByteWriter(8 + data.length).u32le(id).u32le(data.length).bytes(data).finish();
}

/** EV_SEPARATOR data: 00000000, or FFFFFFFF when firmware signals an error. */
export function separator(error = false): Buffer {
  return Buffer.alloc(4, error ? 0xff : 0);
}

/** EV_EFI_ACTION / EV_ACTION data: ASCII without a NUL. */
export function efiAction(text: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new EncodeError(PROTO, 'action', 'must be printable ASCII');
  return Buffer.from(text, 'latin1');
}
