import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEventLog } from '../../../src/protocol/tcg/event-log.js';
import { replayEventLog } from '../../../src/trust/event-log-replay.js';
import { loadScenario, parseScenario } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';
import { oneInstallerScenario } from '../one-installer-scenario.js';

/**
 * The artifacts of a real run, checked by tpm2-tools (Debian 12: 5.4). 5.4 is lenient
 * (it accepts a wrong magic and a swapped selection), so it serves as a format oracle;
 * bootlab's own verifier is the strict one.
 */
const run = promisify(execFile);
const INSTALL = 'tpm2-tools is not on PATH: apt-get install -y --no-install-recommends tpm2-tools';
const repo = new URL('../../../', import.meta.url).pathname;
let root: string;
let device: string;

beforeAll(async () => {
  for (const tool of ['tpm2_eventlog', 'tpm2_checkquote']) {
    try {
      await run(tool, ['--version'], { timeout: 10_000 });
    } catch (e) {
      throw new Error(`${INSTALL} (${tool}: ${(e as Error).message})`);
    }
  }
  root = await mkdtemp(join(tmpdir(), 'bootlab-tpm2-tools-'));
  // The tampered scenario exercises every PCR bootlab uses, rejections (PCR 14) included.
  const report = await runScenario(await loadScenario(join(repo, 'scenarios', 'tampered-installer.yaml')), { artifactsDir: root });
  expect(report.ok).toBe(true);
  device = join(root, 'switch-1');
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function pcrsFromEventlogYaml(yaml: string, bank: string): Map<number, string> {
  const section = yaml.slice(yaml.lastIndexOf('pcrs:'));
  const bankAt = section.indexOf(`${bank}:`);
  const out = new Map<number, string>();
  for (const line of section.slice(bankAt).split('\n').slice(1)) {
    const m = /^\s+(\d+)\s*:\s*0x([0-9a-fA-F]+)/.exec(line);
    if (!m) break;
    out.set(Number(m[1]), m[2]!.toLowerCase());
  }
  return out;
}

describe('bootlab artifacts checked by tpm2-tools', () => {
  it('tpm2_eventlog parses eventlog.bin without warnings and computes the PCRs bootlab replays', async () => {
    const { stdout, stderr } = await run('tpm2_eventlog', [join(device, 'eventlog.bin')]);
    expect(`${stdout}${stderr}`).not.toMatch(/WARN|ERROR/);
    const log = decodeEventLog(await readFile(join(device, 'eventlog.bin')));
    if (!log.ok) throw log.error;
    const ours = replayEventLog(log.value);
    for (const bank of ['sha1', 'sha256'] as const) {
      const theirs = pcrsFromEventlogYaml(stdout, bank);
      expect([...theirs.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15]);
      for (const [pcr, value] of theirs) expect(value, `${bank} PCR ${pcr}`).toBe(Buffer.from(ours[bank][pcr]!).toString('hex'));
    }
  });

  it("tpm2_eventlog parses a dual-signer boot's OperatorDb authority and a dbx with certificates and digests, and replays PCR 7 to bootlab's value", async () => {
    const dir = join(root, 'dual');
    // The shipped scenario, with a dbx revoking a certificate and the unqualified image by
    // digest (padded, so its signed content differs from the qualified one's).
    const text = (await readFile(join(repo, 'scenarios', 'dual-signer.yaml'), 'utf8'))
      .replace('  - name: nos-unqualified\n', '  - name: nos-unqualified\n    paddingMiB: 1\n')
      .replace('  operatorDb: [operator-ca]\n', '  operatorDb: [operator-ca]\n  dbx: [rogue, "image:nos-unqualified"]\n')
      .replace('rejected: [missing-countersignature]', 'rejected: [revoked-digest]');
    const report = await runScenario({ scenario: parseScenario(text, 'dual.yaml'), file: 'dual.yaml', baseDir: join(repo, 'scenarios') }, { artifactsDir: dir });
    expect(report.devices[0]!.checks.filter((c) => !c.ok)).toEqual([]);
    const { stdout, stderr } = await run('tpm2_eventlog', [join(dir, 'switch-1', 'eventlog.bin')]);
    expect(`${stdout}${stderr}`).not.toMatch(/WARN|ERROR/);
    expect(stdout).toMatch(/UnicodeName: OperatorDb/);
    expect(stdout).toMatch(/UnicodeName: dbx/);
    const log = decodeEventLog(await readFile(join(dir, 'switch-1', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    expect(pcrsFromEventlogYaml(stdout, 'sha256').get(7)).toBe(Buffer.from(replayEventLog(log.value).sha256[7]!).toString('hex'));
  });

  it('tpm2_checkquote accepts the quote, its PCR file and the event log', async () => {
    const nonce = (await readFile(join(device, 'nonce.hex'), 'utf8')).trim();
    const args = ['-u', 'ak.pub.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'quote.pcrs', '-g', 'sha256', '-q', nonce];
    await run('tpm2_checkquote', args, { cwd: device });
    await run('tpm2_checkquote', [...args, '-e', 'eventlog.bin'], { cwd: device });
  });

  it('tpm2_checkquote rejects a wrong nonce and a flipped PCR value', async () => {
    const nonce = (await readFile(join(device, 'nonce.hex'), 'utf8')).trim();
    const base = ['-u', 'ak.pub.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-g', 'sha256'];
    await expect(run('tpm2_checkquote', [...base, '-f', 'quote.pcrs', '-q', `00${nonce.slice(2)}`], { cwd: device })).rejects.toThrow();
    const pcrs = Buffer.from(await readFile(join(device, 'quote.pcrs')));
    // First digest's buffer starts after the selection (132), the digest count (4), the list count (4) and the size (2).
    pcrs[142] = pcrs[142]! ^ 0x01;
    await writeFile(join(device, 'tampered.pcrs'), pcrs);
    await expect(run('tpm2_checkquote', [...base, '-f', 'tampered.pcrs', '-q', nonce], { cwd: device })).rejects.toThrow();
  });
});

describe('a device with sha256 + sha384 banks and an RSA AK, checked by tpm2-tools', () => {
  it('tpm2_eventlog replays both banks to bootlab values; tpm2_checkquote accepts the RSA quote and rejects a flipped message byte', async () => {
    const text = oneInstallerScenario(
      'sha384',
      [
        '  - { id: big, tpm: { ak: rsa, banks: [sha256, sha384] }, expect: { outcome: installed, attestation: pass } }',
        '  - { id: pss, tpm: { ak: rsa-pss, ek: rsa }, expect: { outcome: installed, attestation: pass } }',
      ].join('\n'),
      { golden: true },
    );
    const dir = join(root, 'sha384');
    const report = await runScenario({ scenario: parseScenario(text, 'sha384.yaml'), file: 'sha384.yaml', baseDir: repo }, { artifactsDir: dir });
    expect(report.ok).toBe(true);
    const dev = join(dir, 'big');
    const { stdout, stderr } = await run('tpm2_eventlog', [join(dev, 'eventlog.bin')]);
    expect(`${stdout}${stderr}`).not.toMatch(/WARN|ERROR/);
    const log = decodeEventLog(await readFile(join(dev, 'eventlog.bin')));
    if (!log.ok) throw log.error;
    const ours = replayEventLog(log.value);
    for (const bank of ['sha256', 'sha384'] as const) {
      const theirs = pcrsFromEventlogYaml(stdout, bank);
      expect([...theirs.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 15]);
      for (const [pcr, value] of theirs) expect(value, `${bank} PCR ${pcr}`).toBe(Buffer.from(ours[bank][pcr]!).toString('hex'));
    }
    const nonce = (await readFile(join(dev, 'nonce.hex'), 'utf8')).trim();
    const args = ['-u', 'ak.pub.pem', '-s', 'quote.sig', '-f', 'quote.pcrs', '-g', 'sha256', '-q', nonce];
    await run('tpm2_checkquote', [...args, '-m', 'quote.msg'], { cwd: dev });
    const msg = Buffer.from(await readFile(join(dev, 'quote.msg')));
    msg[msg.length - 1] = msg[msg.length - 1]! ^ 0x01;
    await writeFile(join(dev, 'flipped.msg'), msg);
    await expect(run('tpm2_checkquote', [...args, '-m', 'flipped.msg'], { cwd: dev })).rejects.toThrow();
    // An RSAPSS AK (under an RSA EK). Debian's tpm2_checkquote 5.4 verifies RSASSA only, so
    // openssl checks the PSS signature (TPMT_SIGNATURE minus sigAlg, hash and size) over
    // quote.msg, with the TPM's salt length (the digest size), and refuses a flipped byte.
    const pss = join(dir, 'pss');
    const tpmtSig = await readFile(join(pss, 'quote.sig'));
    expect(tpmtSig.readUInt16BE(0)).toBe(0x0016);
    await writeFile(join(pss, 'sig.raw'), tpmtSig.subarray(6));
    const dgst = ['dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-verify', 'ak.pub.pem', '-signature', 'sig.raw'];
    expect((await run('openssl', [...dgst, 'quote.msg'], { cwd: pss })).stdout).toMatch(/Verified OK/);
    const pssMsg = Buffer.from(await readFile(join(pss, 'quote.msg')));
    pssMsg[10] = pssMsg[10]! ^ 0x01;
    await writeFile(join(pss, 'flipped.msg'), pssMsg);
    await expect(run('openssl', [...dgst, 'flipped.msg'], { cwd: pss })).rejects.toThrow();
  });
});
