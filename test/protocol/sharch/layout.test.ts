import { describe, expect, it } from 'vitest';
import { ONIE_UPDATER_COOKIE, parseSharchHeader, renderSharchHeader, SHARCH_MAX_HEADER_BYTES } from '../../../src/protocol/sharch/layout.js';

const SHA1 = '0123456789abcdef0123456789abcdef01234567';

function fail(r: ReturnType<typeof parseSharchHeader>) {
  if (r.ok) throw new Error('expected a parse failure');
  return r.error;
}

describe('sharch header', () => {
  it('renders a header that parses back to its values and ends with the marker line', () => {
    const header = renderSharchHeader({ payloadSha1: SHA1, payloadSize: 10240 });
    expect(header.toString('latin1').endsWith('\nexit_marker\n')).toBe(true);
    const r = parseSharchHeader(Buffer.concat([header, Buffer.from('payload bytes\nexit_marker\n')]));
    expect(r).toEqual({ ok: true, value: { headerLength: header.length, payloadSha1: SHA1, payloadSize: 10240, updaterCookie: false } });
  });

  it('carries the ONIE updater cookie when asked', () => {
    const header = renderSharchHeader({ payloadSha1: SHA1, payloadSize: 1, updaterCookie: true });
    expect(header.toString('latin1')).toContain(`\n${ONIE_UPDATER_COOKIE}\n`);
    const r = parseSharchHeader(header);
    expect(r.ok && r.value.updaterCookie).toBe(true);
  });

  it('parses a hand-written header and normalises the sha1 to lower case', () => {
    const text = `#!/bin/sh\nfoo=1\npayload_image_size=42\npayload_sha1=${SHA1.toUpperCase()}\nexit 0\nexit_marker\nTAR`;
    const r = parseSharchHeader(Buffer.from(text));
    expect(r.ok && r.value).toEqual({ headerLength: text.length - 3, payloadSha1: SHA1, payloadSize: 42, updaterCookie: false });
  });

  it('does not take exit_marker inside a line for the marker', () => {
    const text = `#!/bin/sh\npayload_sha1=${SHA1}\npayload_image_size=1\nsed '1,/^exit_marker$/d'\n# exit_marker\n`;
    expect(fail(parseSharchHeader(Buffer.from(text))).reason).toBe('truncated');
  });

  it('asks for more bytes while the marker is missing and the head is under the limit', () => {
    const header = renderSharchHeader({ payloadSha1: SHA1, payloadSize: 1 });
    const e = fail(parseSharchHeader(header.subarray(0, header.length - 3)));
    expect(e.reason).toBe('truncated');
    expect(e.field).toBe('exit_marker');
    expect(e.offset).toBe(header.length - 3);
  });

  it('gives up with limit when no marker appears within maxHeaderBytes', () => {
    const junk = Buffer.alloc(SHARCH_MAX_HEADER_BYTES + 10, 0x41);
    const e = fail(parseSharchHeader(junk));
    expect(e.reason).toBe('limit');
    expect(e.offset).toBe(SHARCH_MAX_HEADER_BYTES);
    const header = renderSharchHeader({ payloadSha1: SHA1, payloadSize: 1 });
    expect(fail(parseSharchHeader(header, { maxHeaderBytes: 100 })).reason).toBe('limit');
    expect(parseSharchHeader(header, { maxHeaderBytes: header.length }).ok).toBe(true);
  });

  it('reports a missing payload_image_size at the marker', () => {
    const text = `#!/bin/sh\npayload_sha1=${SHA1}\nexit_marker\n`;
    const e = fail(parseSharchHeader(Buffer.from(text)));
    expect(e.reason).toBe('malformed');
    expect(e.field).toBe('payload_image_size');
    expect(e.offset).toBe(text.indexOf('exit_marker'));
  });

  it('reports a garbage payload_image_size at its value', () => {
    const text = `#!/bin/sh\npayload_sha1=${SHA1}\npayload_image_size=12k\nexit_marker\n`;
    const e = fail(parseSharchHeader(Buffer.from(text)));
    expect(e.reason).toBe('malformed');
    expect(e.field).toBe('payload_image_size');
    expect(e.offset).toBe(text.indexOf('12k'));
  });

  it('reports a payload_sha1 that is not 40 hex digits at its value', () => {
    const text = `#!/bin/sh\npayload_sha1=%%IMAGE_SHA1%%\npayload_image_size=12\nexit_marker\n`;
    const e = fail(parseSharchHeader(Buffer.from(text)));
    expect(e.reason).toBe('malformed');
    expect(e.field).toBe('payload_sha1');
    expect(e.offset).toBe(text.indexOf('%%'));
    expect(e.code).toBe('BL_DECODE_MALFORMED');
  });
});
