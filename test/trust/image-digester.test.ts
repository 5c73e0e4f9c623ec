import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderSharchHeader } from '../../src/protocol/sharch/layout.js';
import { SignedImageDigester } from '../../src/trust/image-digester.js';

const payload = Buffer.alloc(10_000);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();
const header = renderSharchHeader({ payloadSha1: sha1(payload).toString('hex'), payloadSize: payload.length });
const signature = Buffer.from('-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n');
const image = Buffer.concat([header, payload, signature]);

function digest(bytes: Buffer, chunk: number, limits?: ConstructorParameters<typeof SignedImageDigester>[0]) {
  const d = new SignedImageDigester(limits);
  for (let i = 0; i < bytes.length; i += chunk) d.write(bytes.subarray(i, i + chunk));
  return d.finish();
}

describe('SignedImageDigester', () => {
  it('hashes only what it is asked to: no sha1 of the file when no sha1 bank needs it, sha384 when one does', () => {
    const d = new SignedImageDigester({ sha1: false, sha384: true });
    d.write(image);
    const r = d.finish();
    expect(r.fileSha1).toBeUndefined();
    expect(r.fileSha384).toBeDefined();
    // ONIE's own payload check does not depend on it.
    expect(r.payloadSha1Actual).toBe(sha1(payload).toString('hex'));
  });

  it.each([1, 7, 511, 4096, header.length, header.length + payload.length, image.length])(
    'computes every digest in one pass whatever the chunking (%i-byte chunks)',
    (chunk) => {
      const d = digest(image, chunk);
      expect(d.size).toBe(image.length);
      expect(d.fileSha256.equals(sha256(image))).toBe(true);
      expect(d.fileSha1?.equals(sha1(image))).toBe(true);
      expect(d.layout).toEqual({ headerLength: header.length, payloadSha1: sha1(payload).toString('hex'), payloadSize: payload.length, updaterCookie: false });
      expect(d.signedSha256?.equals(sha256(Buffer.concat([header, payload])))).toBe(true);
      expect(d.payloadSha1Actual).toBe(sha1(payload).toString('hex'));
      expect(d.signature?.equals(signature)).toBe(true);
      expect(d.layoutError).toBeUndefined();
    },
  );

  it('does not keep a reference to the caller’s buffers', () => {
    const d = new SignedImageDigester();
    const buf = Buffer.from(image);
    d.write(buf);
    buf.fill(0);
    expect(d.finish().signature?.equals(signature)).toBe(true);
  });

  it('has no signature and no signed digest when the file stops inside the payload', () => {
    const d = digest(image.subarray(0, header.length + 50), 100);
    expect(d.layout?.payloadSize).toBe(payload.length);
    expect(d.signedSha256).toBeUndefined();
    expect(d.payloadSha1Actual).toBeUndefined();
    expect(d.signature).toBeUndefined();
  });

  it('has a signed digest but no signature for an unsigned image', () => {
    const d = digest(Buffer.concat([header, payload]), 1000);
    expect(d.signedSha256?.equals(sha256(Buffer.concat([header, payload])))).toBe(true);
    expect(d.signature).toBeUndefined();
  });

  it('still digests a file with no sharch header, reporting why', () => {
    const junk = Buffer.alloc(200_000, 0x0a);
    const d = digest(junk, 8192);
    expect(d.layout).toBeNull();
    expect(d.layoutError?.reason).toBe('limit');
    expect(d.fileSha256.equals(sha256(junk))).toBe(true);
    const small = digest(Buffer.from('#!/bin/sh\necho hi\n'), 4);
    expect(small.layout).toBeNull();
    expect(small.layoutError?.reason).toBe('truncated');
  });

  it('drops a tail longer than maxSignatureBytes and says so', () => {
    const big = Buffer.concat([header, payload, Buffer.alloc(5000, 0x41)]);
    const d = digest(big, 1024, { maxSignatureBytes: 4096 });
    expect(d.signature).toBeUndefined();
    expect(d.signatureError?.reason).toBe('limit');
    expect(d.signatureError?.offset).toBe(header.length + payload.length);
    expect(d.fileSha256.equals(sha256(big))).toBe(true);
  });

  it('refuses writes after finish', () => {
    const d = new SignedImageDigester();
    d.finish();
    expect(() => d.write(Buffer.from('x'))).toThrow(/after finish/);
  });
});
