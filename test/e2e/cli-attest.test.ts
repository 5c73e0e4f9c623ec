import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventLog, encodeEventLog, type EventLog } from '../../src/protocol/tcg/event-log.js';
import { taggedEvent } from '../../src/protocol/tcg/event-data.js';
import { signTpm2 } from '../../src/trust/tpm-signature.js';
import { VirtualTpm } from '../../src/trust/vtpm.js';

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

/**
 * What the verifier holds from outside the evidence, as enrolment and issuing the nonce left
 * it: copies of the device's AK and EK, the run's policy and nonce, taken before any tampering.
 */
async function enrolled(deviceDir: string): Promise<{ args: string[]; policy: string; nonce: string }> {
  const home = join(dir, `enrolled-${Math.random().toString(36).slice(2)}`);
  await mkdir(home);
  for (const f of ['ak.pub.pem', 'ek.pub.pem', 'policy.json']) await cp(join(deviceDir, f), join(home, f));
  const nonce = (await readFile(join(deviceDir, 'nonce.hex'), 'utf8')).trim();
  return { args: ['--ak', join(home, 'ak.pub.pem'), '--ek', join(home, 'ek.pub.pem'), '--nonce', nonce], policy: join(home, 'policy.json'), nonce };
}

/** A fresh ledger path: nothing verified yet. */
const ledgerPath = () => join(dir, `ledger-${Math.random().toString(36).slice(2)}.json`);

/** The device's log, decoded, changed, and encoded again: sizes follow, digests stay as they were. */
function editLog(change: (log: EventLog) => void) {
  return (b: Buffer): Buffer => {
    const log = decodeEventLog(b);
    if (!log.ok) throw new Error(log.error.message);
    change(log.value);
    return encodeEventLog(log.value);
  };
}

const tag = (e: EventLog['events'][number]) => (e.data.length >= 8 ? Buffer.from(e.data).readUInt32LE(0) : -1);
const ONIE = 0x4f4e4945;
const CONF = 0x434f4e46;

describe('bootlab attest verify', () => {
  let pins: Awaited<ReturnType<typeof enrolled>>;
  let trusted: string[];
  /** Everything from outside, with a ledger of its own: the only check left to fail is the one a case is about. */
  const strict = () => [...trusted, '--ledger', ledgerPath()];
  beforeAll(async () => {
    pins = await enrolled(device);
    trusted = [...pins.args, '--policy', pins.policy];
  });

  it('passes the files a run wrote against the enrolled AK and EK, the policy and the nonce, naming every check', async () => {
    const r = await outcome('attest', 'verify', device, ...trusted, '--ledger', ledgerPath());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const name of ['attest.akPinned', 'signature', 'attest.qualifiedSigner', 'nonce', 'nonce.fresh', 'clock.safe', 'eventlog.data', 'eventlog.banks', 'pcrDigest', 'golden.sha256:13', 'policy.golden']) {
      expect(r.stdout).toMatch(new RegExp(`^ok {3}${name.replace('.', '\\.')} `, 'm'));
    }
    expect(r.stdout).toMatch(/^ok {3}attest\.akPinned +--ak sha256:[0-9a-f]{16}…; the directory's ak\.pub\.pem is the same key$/m);
    expect(r.stdout).toMatch(/^ok {3}eventlog\.banks +sha256 replayed against the quote; sha1 not quoted/m);
    expect(r.stdout).toMatch(/attestation PASS \(recorded in .*\)\n$/);
  });

  it('fails (exit 1) naming the check for a flipped quote byte, a wrong nonce, an edited log and a different golden value', async () => {
    const otherPolicy = join(dir, 'other-golden.json');
    await writeFile(otherPolicy, (await readFile(pins.policy, 'utf8')).replace(/"pcr": 0,\n(\s+)"value": "(.)/, (_m, sp: string, c: string) => `"pcr": 0,\n${sp}"value": "${c === '0' ? '1' : '0'}`));
    const cases: Array<[string, (b: Buffer) => Buffer, string[], RegExp]> = [
      // The last byte of TPMS_ATTEST is inside pcrDigest: the signature no longer covers it.
      ['quote.msg', flip((b) => b.length - 1), trusted, /^FAIL signature/m],
      ['nonce.hex', (b) => b, [...pins.args, '--nonce', '00'.repeat(16), '--policy', pins.policy], /^FAIL nonce /m],
      // A byte of the last event's sha256 digest: the replay no longer gives the quoted digest.
      [
        'eventlog.bin',
        flip((b) => {
          const log = decodeEventLog(b);
          if (!log.ok) throw new Error(log.error.message);
          const digest = log.value.events.at(-1)!.digests.find((d) => d.alg === 'sha256')!.digest;
          return b.lastIndexOf(Buffer.from(digest)) + 5;
        }),
        trusted,
        /^FAIL pcrDigest/m,
      ],
      ['policy.json', (b) => b, [...pins.args, '--policy', otherPolicy], /^FAIL golden\.sha256:0 /m],
    ];
    for (const [name, change, args, failing] of cases) {
      const copy = await tampered(name, change);
      const r = await outcome('attest', 'verify', copy, ...args);
      expect(r.code, `${name}: ${r.stdout}`).toBe(1);
      expect(r.stdout).toMatch(failing);
      expect(r.stdout).toMatch(/attestation FAIL\n$/);
    }
  });

  it('12: fails a quote signed by a foreign key with ak.pub.pem swapped for it, even with the clock set back to 0', async () => {
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const copy = await tampered('quote.msg', (b) => {
      const c = Buffer.from(b);
      // clockInfo.clock is the u64 after the two TPM2Bs (tpm.md §2.1).
      const at = 8 + c.readUInt16BE(6) + 2 + c.readUInt16BE(8 + c.readUInt16BE(6));
      c.writeBigUInt64BE(0n, at);
      return c;
    });
    const forgedMsg = await readFile(join(copy, 'quote.msg'));
    await writeFile(join(copy, 'quote.sig'), signTpm2(attacker.privateKey, forgedMsg));
    await writeFile(join(copy, 'ak.pub.pem'), attacker.publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await outcome('attest', 'verify', copy, ...strict());
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ok {3}attest\.akPinned .*the directory's ak\.pub\.pem is another key \(ignored\)$/m);
    expect(r.stdout).toMatch(/^FAIL signature +ECDSA signature does not verify$/m);
    // Without a pin nothing is trusted: the directory's own key is no AK.
    const unpinned = await outcome('attest', 'verify', copy, '--nonce', pins.nonce, '--policy', pins.policy);
    expect(unpinned.code).toBe(1);
    expect(unpinned.stdout).toMatch(/^FAIL attest\.akPinned +no --ak: /m);
    expect(unpinned.stdout).toMatch(/^FAIL attest\.qualifiedSigner .*cannot be established: no AK is pinned/m);
    expect(unpinned.stdout).toMatch(/^FAIL nonce\.fresh +cannot be established: no --ledger/m);
    // The AK without its EK: the qualified name cannot be checked, and that fails too.
    const noEk = await outcome('attest', 'verify', device, '--ak', pins.args[1]!, '--nonce', pins.nonce, '--policy', pins.policy, '--ledger', ledgerPath());
    expect(noEk.code).toBe(1);
    expect(noEk.stdout.match(/^FAIL .*$/gm)).toEqual([expect.stringMatching(/^FAIL attest\.qualifiedSigner .*no --ek/)]);
    // The EK of another TPM names another AK.
    const otherEk = join(dir, 'other-ek.pub.pem');
    await writeFile(otherEk, new VirtualTpm().ek.publicPem);
    const wrongEk = await outcome('attest', 'verify', device, '--ak', pins.args[1]!, '--ek', otherEk, '--nonce', pins.nonce, '--policy', pins.policy, '--ledger', ledgerPath());
    expect(wrongEk.stdout.match(/^FAIL .*$/gm)).toEqual([expect.stringMatching(/^FAIL attest\.qualifiedSigner [0-9a-f]+, enrolled [0-9a-f]+$/)]);
  });

  it('12: fails eventlog.data when event data is rewritten with its digests kept, and eventlog show marks it', async () => {
    const fakeUrl = 'http://evil.example/nos.bin';
    const rewrites: Array<[string, (log: EventLog) => void, RegExp]> = [
      // PCR 13's digest is the image: its URL is bound through the onie_exec_url measured into PCR 15.
      [
        'a fake URL in PCR 13',
        (log) => {
          const e = log.events.find((x) => x.pcrIndex === 13 && tag(x) === ONIE)!;
          const json = JSON.parse(Buffer.from(e.data.subarray(8)).toString()) as { url: string };
          e.data = taggedEvent(ONIE, Buffer.from(JSON.stringify({ ...json, url: fakeUrl })));
        },
        /^FAIL eventlog\.data +data not matching its digest: #\d+ PCR 13 EV_EVENT_TAG: url "http:\/\/evil\.example\/nos\.bin" is not the onie_exec_url "http:\/\/127\.0\.0\.1:\d+\/.*" measured in PCR 15/m,
      ],
      [
        'the same fake URL in PCR 15 too',
        (log) => {
          for (const e of log.events) {
            if (tag(e) === ONIE) {
              const json = JSON.parse(Buffer.from(e.data.subarray(8)).toString()) as { url: string };
              e.data = taggedEvent(ONIE, Buffer.from(JSON.stringify({ ...json, url: fakeUrl })));
            }
            if (tag(e) === CONF) e.data = taggedEvent(CONF, Buffer.from(Buffer.from(e.data.subarray(8)).toString().replace(/^onie_exec_url=.*$/m, `onie_exec_url=${fakeUrl}`)));
          }
        },
        /^FAIL eventlog\.data +data not matching its digest: #\d+ PCR 15 EV_EVENT_TAG: tag 0x434f4e46: its digest is H\(data\)/m,
      ],
      [
        'a GRUB command in PCR 8',
        (log) => {
          const e = log.events.find((x) => x.pcrIndex === 8)!;
          e.data = Buffer.from(`${Buffer.from(e.data).toString().replace(/\0$/, '')} init=/bin/sh\0`);
        },
        /^FAIL eventlog\.data +data not matching its digest: #\d+ PCR 8 EV_IPL: a GRUB command/m,
      ],
    ];
    for (const [what, change, failing] of rewrites) {
      const copy = await tampered('eventlog.bin', editLog(change));
      const r = await outcome('attest', 'verify', copy, ...strict());
      expect(r.code, `${what}: ${r.stdout}`).toBe(1);
      expect(r.stdout.match(/^FAIL .*$/gm), what).toEqual([expect.stringMatching(failing)]);
      const shown = await outcome('eventlog', 'show', join(copy, 'eventlog.bin'));
      expect(shown.stdout, what).toMatch(/ {2}\[DATA DOES NOT MATCH ITS DIGEST: /);
    }
  });

  it('12: fails eventlog.data when the unquoted sha1 bank has its digests edited', async () => {
    const copy = await tampered(
      'eventlog.bin',
      editLog((log) => {
        for (const e of log.events) e.digests.find((d) => d.alg === 'sha1')!.digest.fill(0x5a);
      }),
    );
    const r = await outcome('attest', 'verify', copy, ...strict());
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout.match(/^FAIL .*$/gm)).toEqual([expect.stringMatching(/^FAIL eventlog\.data +data not matching its digest: #1 PCR 0 EV_S_CRTM_VERSION: .*\(banks not matching: sha1\)/)]);
  });

  it('12: fails clock checks against a --previous quote the TPM has gone back from, and checks the ledger\'s last clock', async () => {
    const msg = await readFile(join(device, 'quote.msg'));
    const clockAt = 8 + msg.readUInt16BE(6) + 2 + msg.readUInt16BE(8 + msg.readUInt16BE(6));
    const later = Buffer.from(msg);
    later.writeBigUInt64BE(msg.readBigUInt64BE(clockAt) + 1000n, clockAt);
    const rebooted = Buffer.from(msg);
    rebooted.writeUInt32BE(msg.readUInt32BE(clockAt + 8) + 1, clockAt + 8);
    await writeFile(join(dir, 'later.msg'), later);
    await writeFile(join(dir, 'rebooted.msg'), rebooted);
    const back = await outcome('attest', 'verify', device, ...strict(), '--previous', join(dir, 'later.msg'));
    expect(back.code).toBe(1);
    expect(back.stdout.match(/^FAIL .*$/gm)).toEqual([expect.stringMatching(/^FAIL clock\.clock +\d+ ms, previous \d+ ms$/)]);
    const reset = await outcome('attest', 'verify', device, ...strict(), '--previous', join(dir, 'rebooted.msg'));
    expect(reset.stdout).toMatch(/^FAIL clock\.resetCount +0, previous 1$/m);
    const same = await outcome('attest', 'verify', device, ...strict(), '--previous', join(device, 'quote.msg'));
    // The same quote as its own previous: the clock did not move on, which a later quote's must.
    expect(same.stdout).toMatch(/^FAIL clock\.clock /m);
  });

  it('12: a ledger lets the same evidence pass once: the second verification fails nonce.fresh, also when two run at once', async () => {
    const ledger = ledgerPath();
    const first = await outcome('attest', 'verify', device, ...trusted, '--ledger', ledger);
    expect(first.code, first.stdout).toBe(0);
    const again = await outcome('attest', 'verify', device, ...trusted, '--ledger', ledger);
    expect(again.code).toBe(1);
    // The ledger's last clock of this AK is the quote's own: it did not move on either.
    expect(again.stdout.match(/^FAIL .*$/gm)).toEqual([
      expect.stringMatching(/^FAIL nonce\.fresh +already used by an earlier quote \(replay\)$/),
      expect.stringMatching(/^FAIL clock\.clock +(\d+) ms, previous \1 ms$/),
    ]);
    const saved = JSON.parse(await readFile(ledger, 'utf8')) as { entries: unknown[] };
    expect(saved.entries).toHaveLength(1);
    // A copy in another directory is the same evidence.
    const copy = await tampered('console.log', (b) => b);
    expect((await outcome('attest', 'verify', copy, ...trusted, '--ledger', ledger)).code).toBe(1);
    const racing = ledgerPath();
    const both = await Promise.all([0, 1, 2].map(() => outcome('attest', 'verify', device, ...trusted, '--ledger', racing)));
    expect(both.map((r) => r.code).sort()).toEqual([0, 1, 1]);
  });

  it('12: refuses (exit 2) to take the golden values or the nonce from the evidence, and fails an emptied golden list it was told to trust', async () => {
    const copy = await tampered('policy.json', (b) => Buffer.from(JSON.stringify({ ...(JSON.parse(b.toString()) as object), golden: [] })));
    const noPolicy = await outcome('attest', 'verify', copy, ...pins.args);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toMatch(/^bootlab: no --policy: the golden values must come from outside the evidence being judged \(.*policy\.json is the device's side\); give --policy FILE, or --trust-dir-policy/m);
    const noNonce = await outcome('attest', 'verify', copy, '--ak', pins.args[1]!, '--policy', pins.policy);
    expect(noNonce.code).toBe(2);
    expect(noNonce.stderr).toMatch(/no --nonce: the nonce must come from outside/);
    const trustedDir = await outcome('attest', 'verify', copy, '--ak', pins.args[1]!, '--ek', pins.args[3]!, '--trust-dir-policy', '--ledger', ledgerPath());
    expect(trustedDir.code).toBe(1);
    expect(trustedDir.stdout.match(/^FAIL .*$/gm)).toEqual([expect.stringMatching(/^FAIL policy\.golden +the policy has no golden values/)]);
    // Its own honest files, trusted on purpose: a user re-checking their own run.
    expect((await outcome('attest', 'verify', device, '--ak', pins.args[1]!, '--ek', pins.args[3]!, '--trust-dir-policy', '--ledger', ledgerPath())).code).toBe(0);
  });

  it('exits 2 with the file and field for a bad policy, a missing file or a key that is no key', async () => {
    await writeFile(join(dir, 'bad-policy.json'), '{"selection": [{"alg": "md5", "pcrs": [0]}]}');
    const r = await outcome('attest', 'verify', device, ...pins.args, '--policy', join(dir, 'bad-policy.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-policy\.json: selection\.0\.alg: /);
    const missing = await outcome('attest', 'verify', join(dir, 'nowhere'), ...trusted);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nowhere\/quote\.msg: ENOENT/);
    const notKey = await outcome('attest', 'verify', device, '--ak', pins.policy, '--nonce', pins.nonce, '--policy', pins.policy);
    expect(notKey.code).toBe(2);
    expect(notKey.stderr).toMatch(/--ak .*policy\.json: not a public key/);
    await writeFile(join(dir, 'bad-ledger.json'), '{"format": "something else"}');
    const badLedger = await outcome('attest', 'verify', device, ...trusted, '--ledger', join(dir, 'bad-ledger.json'));
    expect(badLedger.code).toBe(2);
    expect(badLedger.stderr).toMatch(/--ledger .*bad-ledger\.json: format: /);
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
    expect((await outcome('attest', 'verify', device, ...(await enrolled(device)).args, '--policy', 'pre.json', '--ledger', ledgerPath())).code).toBe(0);
    // Another platform boots other firmware: its golden values do not fit this switch.
    await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem'), '--machine', 'celestica_ds1000', '-o', 'other.json');
    const other = await outcome('attest', 'verify', device, ...(await enrolled(device)).args, '--policy', 'other.json');
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^FAIL golden\.sha256:0 /m);
  });

  it('computes golden PCR 12 from a signed reference list: the listed install passes, the unlisted one fails by name', async () => {
    await bootlab('run', join(repo, 'scenarios', 'reference-list.yaml'), '--artifacts', 'rl');
    const run = join(dir, 'rl', '.run');
    const r = await outcome('attest', 'policy', '--image', join(run, 'demo-nos.bin'), '--db', join(run, 'pki', 'db-ca.TEST-ONLY.cert.pem'), '--pk', join(run, 'pki', 'pk.TEST-ONLY.cert.pem'), '--kek', join(run, 'pki', 'kek.TEST-ONLY.cert.pem'), '--reference-list', join(run, 'reference-list.json'), '-o', 'rl.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^golden sha256:12 /m);
    expect((await outcome('attest', 'verify', join(dir, 'rl', 'switch-1'), ...(await enrolled(join(dir, 'rl', 'switch-1'))).args, '--policy', 'rl.json', '--ledger', ledgerPath())).code).toBe(0);
    const unlisted = await outcome('attest', 'verify', join(dir, 'rl', 'switch-2'), ...(await enrolled(join(dir, 'rl', 'switch-2'))).args, '--policy', 'rl.json');
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
    const single = await outcome('attest', 'verify', join(dir, 'dual', 'switch-1'), ...(await enrolled(join(dir, 'dual', 'switch-1'))).args, '--policy', 'single.json');
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
