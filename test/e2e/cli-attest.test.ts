import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventLog } from '../../src/protocol/tcg/event-log.js';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const bootlab = (...args: string[]) => run('node', [join(repo, 'dist/cli/bin.js'), ...args], { cwd: dir });
/** Runs bootlab and returns exit code and output, whether it succeeded or not. */
const outcome = (...args: string[]) =>
  bootlab(...args).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
let dir: string;
let device: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-cli-attest-'));
  await bootlab('run', join(repo, 'scenarios', 'quickstart.yaml'), '--artifacts', 'art');
  device = join(dir, 'art', 'switch-1');
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A copy of the device's artifacts with one file changed. */
async function tampered(name: string, change: (b: Buffer) => Buffer): Promise<string> {
  const copy = join(dir, `t-${name}-${Math.random().toString(36).slice(2)}`);
  await cp(device, copy, { recursive: true });
  await writeFile(join(copy, name), change(await readFile(join(copy, name))));
  return copy;
}

const flip = (at: (b: Buffer) => number) => (b: Buffer) => {
  const c = Buffer.from(b);
  c[at(c)]! ^= 0x01;
  return c;
};

describe('bootlab attest verify', () => {
  it('passes the files a run wrote, against the policy the run wrote next to them', async () => {
    const r = await outcome('attest', 'verify', device);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}pcrDigest/m);
    expect(r.stdout).toMatch(/^ok {3}golden\.sha256:13/m);
    expect(r.stdout).toMatch(/attestation PASS\n$/);
  });

  it('fails (exit 1) naming the check for a flipped quote byte, a wrong nonce, an edited log and a different golden value', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['quote.msg', [], /^FAIL signature/m],
      ['nonce.hex', [], /^FAIL nonce/m],
      ['eventlog.bin', [], /^FAIL pcrDigest/m],
      ['policy.json', [], /^FAIL golden\.sha256:0 /m],
    ];
    const changes: Record<string, (b: Buffer) => Buffer> = {
      // The last byte of TPMS_ATTEST is inside pcrDigest: the signature no longer covers it.
      'quote.msg': flip((b) => b.length - 1),
      'nonce.hex': (b) => Buffer.from(`${'00'.repeat(16)}\n`),
      // A byte of the last event's sha256 digest: the replay no longer gives the quoted digest.
      'eventlog.bin': flip((b) => {
        const log = decodeEventLog(b);
        if (!log.ok) throw new Error(log.error.message);
        const digest = log.value.events.at(-1)!.digests.find((d) => d.alg === 'sha256')!.digest;
        return b.lastIndexOf(Buffer.from(digest)) + 5;
      }),
      'policy.json': (b) => Buffer.from(b.toString().replace(/"pcr": 0,\n(\s+)"value": "(.)/, (_m, sp: string, c: string) => `"pcr": 0,\n${sp}"value": "${c === '0' ? '1' : '0'}`)),
    };
    for (const [name, extra, failing] of cases) {
      const copy = await tampered(name, changes[name]!);
      const r = await outcome('attest', 'verify', copy, ...extra);
      expect(r.code, `${name}: ${r.stdout}`).toBe(1);
      expect(r.stdout).toMatch(failing);
      expect(r.stdout).toMatch(/attestation FAIL\n$/);
    }
  });

  it('exits 2 with the file and field for a bad policy or a missing file', async () => {
    const bad = await tampered('policy.json', () => Buffer.from('{"selection": [{"alg": "md5", "pcrs": [0]}]}'));
    const r = await outcome('attest', 'verify', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/policy\.json: selection\.0\.alg: /);
    const missing = await outcome('attest', 'verify', join(dir, 'nowhere'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nowhere\/policy\.json: ENOENT/);
  });
});

describe('bootlab attest policy', () => {
  it("computes from the signed image and db alone the golden values the run's verifier used", async () => {
    const run = join(dir, 'art', '.run');
    const r = await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem'), '-o', 'pre.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PolicyPCR\(sha256:0,1,4,5,7,8,9,13\) [0-9a-f]{64}$/m);
    const pre = JSON.parse(await readFile(join(dir, 'pre.json'), 'utf8')) as unknown;
    const runs = JSON.parse(await readFile(join(device, 'policy.json'), 'utf8')) as unknown;
    expect(pre).toEqual(runs);
    expect((await outcome('attest', 'verify', device, '--policy', 'pre.json')).code).toBe(0);
    // Another platform boots other firmware: its golden values do not fit this switch.
    await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem'), '--machine', 'celestica_ds1000', '-o', 'other.json');
    const other = await outcome('attest', 'verify', device, '--policy', 'other.json');
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^FAIL golden\.sha256:0 /m);
  });

  it('computes golden PCR 12 from a signed reference list: the listed install passes, the unlisted one fails by name', async () => {
    await bootlab('run', join(repo, 'scenarios', 'reference-list.yaml'), '--artifacts', 'rl');
    const run = join(dir, 'rl', '.run');
    const r = await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem'), '--reference-list', join(run, 'reference-list.json'), '-o', 'rl.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^golden sha256:12 /m);
    expect((await outcome('attest', 'verify', join(dir, 'rl', 'switch-1'), '--policy', 'rl.json')).code).toBe(0);
    const unlisted = await outcome('attest', 'verify', join(dir, 'rl', 'switch-2'), '--policy', 'rl.json');
    expect(unlisted.code).toBe(1);
    expect(unlisted.stdout).toMatch(/^FAIL reference\.stages +not in the reference list: .*diag\.bin/m);
    // A list signed outside db is refused before anything is computed.
    const rogue = await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'rogue.TEST-ONLY.cert.pem'), '--reference-list', join(run, 'reference-list.json'));
    expect(rogue.code).toBe(2);
  }, 60_000);

  it('with the switches\' dual-signer rules, golden PCR 7 holds the operator authority too, as the run measured it', async () => {
    await bootlab('run', join(repo, 'scenarios', 'dual-signer.yaml'), '--artifacts', 'dual');
    const run = join(dir, 'dual', '.run');
    const args = ['attest', 'policy', '--image', join(run, 'nos-qualified.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem')];
    expect((await outcome(...args, '--mode', 'dual-signer', '--operator-db', join(run, 'pki', 'operator-ca.TEST-ONLY.cert.pem'), '-o', 'dual.json')).code).toBe(0);
    const runs = JSON.parse(await readFile(join(dir, 'dual', 'switch-1', 'policy.json'), 'utf8')) as unknown;
    expect(JSON.parse(await readFile(join(dir, 'dual.json'), 'utf8'))).toEqual(runs);
    // Judged by plain signature rules the operator's authority is missing from PCR 7.
    await outcome(...args, '-o', 'single.json');
    const single = await outcome('attest', 'verify', join(dir, 'dual', 'switch-1'), '--policy', 'single.json');
    expect(single).toMatchObject({ code: 1, stdout: expect.stringMatching(/^FAIL golden\.sha256:7 /m) });
  }, 60_000);

  it('refuses (exit 2) an image the given db does not trust', async () => {
    const run = join(dir, 'art', '.run');
    const r = await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'rogue.TEST-ONLY.cert.pem'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not trusted by the given db \(untrusted-signer/);
  });
});

describe('bootlab eventlog show', () => {
  it('prints every event with its decoded data and digests, and the replayed PCRs', async () => {
    const r = await outcome('eventlog', 'show', join(device, 'eventlog.bin'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/banks sha1, sha256, 28 events/);
    expect(r.stdout).toMatch(/PCR  7 {2}EV_EFI_VARIABLE_DRIVER_CONFIG\n {7}EFI_GLOBAL_VARIABLE:SecureBoot = 01/);
    expect(r.stdout).toMatch(/PCR 13 {2}EV_EVENT_TAG\n {7}tag 'ONIE': "\{\\"url\\":\\"http:/);
    const policy = JSON.parse(await readFile(join(device, 'policy.json'), 'utf8')) as { golden: Array<{ pcr: number; value: string }> };
    for (const g of policy.golden) expect(r.stdout).toContain(`sha256:${g.pcr}`.padEnd(10) + ` ${g.value}`);
  });

  it('exits 2 naming the field and offset of a log that does not decode', async () => {
    await writeFile(join(dir, 'garbage.bin'), 'not an event log');
    const r = await outcome('eventlog', 'show', 'garbage.bin');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/garbage\.bin: tcg-event-log: .* at offset \d+/);
  });
});
