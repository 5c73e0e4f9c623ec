import { describe, expect, it } from 'vitest';
import {
  EFI_CERT_X509_GUID,
  EFI_GLOBAL_VARIABLE_GUID,
  EFI_IMAGE_SECURITY_DATABASE_GUID,
  crtmVersion,
  decodeGuid,
  efiAction,
  efiImageLoadEvent,
  efiSignatureData,
  efiSignatureListX509,
  encodeGuid,
  separator,
  taggedEvent,
  uefiVariableData,
} from '../../../src/protocol/tcg/event-data.js';
import { EV_EFI_VARIABLE_AUTHORITY, EV_SEPARATOR, eventTypeName } from '../../../src/protocol/tcg/event-types.js';

describe('EFI GUIDs', () => {
  it('encodes Data1–3 little-endian and Data4 as written', () => {
    expect(encodeGuid(EFI_GLOBAL_VARIABLE_GUID).toString('hex')).toBe('61dfe48bca93d211aa0d00e098032b8c');
    expect(encodeGuid(EFI_CERT_X509_GUID).toString('hex')).toBe('a159c0a5e494a74a87b5ab155c2bf072');
    expect(encodeGuid(EFI_IMAGE_SECURITY_DATABASE_GUID).toString('hex')).toBe('cbb219d73a3d9645a3bcdad00e67656f');
  });

  it('decodes back to the same text', () => {
    expect(decodeGuid(encodeGuid(EFI_IMAGE_SECURITY_DATABASE_GUID))).toBe(EFI_IMAGE_SECURITY_DATABASE_GUID);
  });

  it('refuses text that is not a GUID', () => {
    expect(() => encodeGuid('not-a-guid')).toThrow(/is not/);
  });
});

describe('event data builders', () => {
  it('writes the S-CRTM version as UTF-16LE with a NUL', () => {
    expect(crtmVersion('1.0').toString('hex')).toBe('31002e0030000000');
  });

  it('writes UEFI_IMAGE_LOAD_EVENT with the device path length', () => {
    const b = efiImageLoadEvent({ location: 0x7e000000n, length: 0x1234n, linkTime: 0n, devicePath: Uint8Array.of(0x7f, 0xff, 4, 0) });
    expect(b.length).toBe(36);
    expect(b.readBigUInt64LE(0)).toBe(0x7e000000n);
    expect(b.readBigUInt64LE(8)).toBe(0x1234n);
    expect(b.readBigUInt64LE(24)).toBe(4n);
    expect(b.subarray(32).toString('hex')).toBe('7fff0400');
  });

  it('writes UEFI_VARIABLE_DATA with the name counted in CHAR16 and no NUL', () => {
    const b = uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Uint8Array.of(1));
    expect(b.subarray(0, 16).equals(encodeGuid(EFI_GLOBAL_VARIABLE_GUID))).toBe(true);
    expect(b.readBigUInt64LE(16)).toBe(10n);
    expect(b.readBigUInt64LE(24)).toBe(1n);
    expect(b.subarray(32, 52).toString('utf16le')).toBe('SecureBoot');
    expect(b[52]).toBe(1);
    expect(b.length).toBe(53);
  });

  it('puts each X.509 certificate in its own EFI_SIGNATURE_LIST', () => {
    const owner = '6f1e5a3c-0b7d-4c2e-9a41-b007fa6b0001';
    const certs = [Buffer.alloc(10, 0xaa), Buffer.alloc(3, 0xbb)];
    const b = efiSignatureListX509(owner, certs);
    expect(b.length).toBe(28 + 16 + 10 + 28 + 16 + 3);
    expect(decodeGuid(b, 0)).toBe(EFI_CERT_X509_GUID);
    expect([b.readUInt32LE(16), b.readUInt32LE(20), b.readUInt32LE(24)]).toEqual([54, 0, 26]);
    expect(decodeGuid(b, 28)).toBe(owner);
    expect(b.subarray(44, 54).equals(certs[0]!)).toBe(true);
    expect(b.readUInt32LE(54 + 16)).toBe(28 + 19);
    expect(b.subarray(54 + 44).equals(certs[1]!)).toBe(true);
    expect(efiSignatureListX509(owner, []).length).toBe(0);
  });

  it('writes EFI_SIGNATURE_DATA as owner GUID then the certificate', () => {
    const b = efiSignatureData(EFI_GLOBAL_VARIABLE_GUID, Uint8Array.of(1, 2));
    expect(b.toString('hex')).toBe('61dfe48bca93d211aa0d00e098032b8c0102');
  });

  it('writes a tagged event as little-endian id, size, data', () => {
    expect(taggedEvent(0x4f4e4945, Buffer.from('hi')).toString('hex')).toBe('45494e4f' + '02000000' + '6869');
  });

  it('writes separators and EFI actions', () => {
    expect(separator().toString('hex')).toBe('00000000');
    expect(separator(true).toString('hex')).toBe('ffffffff');
    expect(efiAction('Exit Boot Services Invocation').toString()).toBe('Exit Boot Services Invocation');
    expect(() => efiAction('caf\u00e9')).toThrow(/ASCII/);
  });
});

describe('eventTypeName', () => {
  it('names known event types and marks unknown ones', () => {
    expect(eventTypeName(EV_SEPARATOR)).toBe('EV_SEPARATOR');
    expect(eventTypeName(EV_EFI_VARIABLE_AUTHORITY)).toBe('EV_EFI_VARIABLE_AUTHORITY');
    expect(eventTypeName(0x80000fff)).toBe('EV_UNKNOWN(0x80000fff)');
  });
});
