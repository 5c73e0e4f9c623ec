import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { separator } from '../../../src/protocol/tcg/event-data.js';
import { EV_SEPARATOR } from '../../../src/protocol/tcg/event-types.js';
import { decodeSignature } from '../../../src/protocol/tpm2/signature.js';
import { VirtualTpm } from '../../../src/trust/vtpm.js';

const run = promisify(execFile);
const INSTALL = 'openssl is not on PATH: apt-get install -y openssl';
let dir: string;

beforeAll(async () => {
  try {
    await run('openssl', ['version'], { timeout: 10_000 });
  } catch (e) {
    throw new Error(`${INSTALL} (${(e as Error).message})`);
  }
  dir = await mkdtemp(join(tmpdir(), 'bootlab-quote-openssl-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** DER INTEGER content: minimal two's complement of an unsigned big-endian number. */
function derInteger(n: Uint8Array): Buffer {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  const body = Buffer.from(n.subarray(i));
  const v = body[0]! & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body;
  return Buffer.concat([Buffer.of(0x02, v.length), v]);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, as openssl expects it (P-256 fits short lengths). */
function ecdsaDer(r: Uint8Array, s: Uint8Array): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}

async function opensslVerify(name: string, pem: string, msg: Buffer, sig: Buffer): Promise<{ ok: boolean; out: string }> {
  const pemPath = join(dir, `${name}.pem`);
  const msgPath = join(dir, `${name}.msg`);
  const sigPath = join(dir, `${name}.sig`);
  await Promise.all([writeFile(pemPath, pem), writeFile(msgPath, msg), writeFile(sigPath, sig)]);
  try {
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', pemPath, '-signature', sigPath, msgPath], { timeout: 30_000 });
    return { ok: true, out: stdout };
  } catch (e) {
    return { ok: false, out: String((e as { stdout?: string }).stdout ?? e) };
  }
}

describe('quote signatures checked by openssl dgst -verify', () => {
  it.each(['ecc', 'rsa'] as const)('openssl accepts the %s AK signature over TPMS_ATTEST and refuses a changed one', async (akType) => {
    const tpm = new VirtualTpm({ akType });
    tpm.extend(0, EV_SEPARATOR, separator());
    const q = tpm.quote(Buffer.from('0123456789abcdef'), [{ alg: 'sha256', pcrs: [0, 4, 5, 16] }]);
    const s = decodeSignature(q.signature);
    if (!s.ok) throw s.error;
    const sig = s.value.sigAlg === 'ecdsa' ? ecdsaDer(s.value.r, s.value.s) : Buffer.from(s.value.sig);

    const good = await opensslVerify(`${akType}-good`, tpm.ak.publicPem, q.attest, sig);
    expect(good).toEqual({ ok: true, out: 'Verified OK\n' });

    const changed = Buffer.from(q.attest);
    changed[changed.length - 1]! ^= 1;
    const bad = await opensslVerify(`${akType}-bad`, tpm.ak.publicPem, changed, sig);
    expect(bad.ok).toBe(false);
    expect(bad.out).toMatch(/Verification failure/);
  });
});
