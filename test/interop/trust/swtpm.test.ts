import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { separator } from '../../../src/protocol/tcg/event-data.js';
import { decodeEventLog } from '../../../src/protocol/tcg/event-log.js';
import { EV_NO_ACTION, EV_SEPARATOR } from '../../../src/protocol/tcg/event-types.js';
import type { HashAlg } from '../../../src/protocol/tcg/hash-alg.js';
import { policyPcr } from '../../../src/protocol/tpm2/policy.js';
import { parseScenario } from '../../../src/scenario/load.js';
import { runScenario } from '../../../src/scenario/run.js';
import { oneInstallerScenario } from '../one-installer-scenario.js';
import { replayEventLog } from '../../../src/trust/event-log-replay.js';
import { VirtualTpm } from '../../../src/trust/vtpm.js';

/**
 * A real software TPM (swtpm, libtpms) as the oracle for the virtual one: the events a
 * bootlab device measured, extended into swtpm with tpm2-tools, must give the same PCRs in
 * every bank, and PolicyPCR digests from tpm2_createpolicy must equal bootlab's offline ones.
 */
const run = promisify(execFile);
const repo = new URL('../../../', import.meta.url).pathname;
const HINT = 'apt-get install -y --no-install-recommends swtpm swtpm-tools tpm2-tools';
let dir: string;
let swtpm: ChildProcess | undefined;
let env: NodeJS.ProcessEnv;

async function canListen(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => s.close(() => resolve()));
  return ok;
}

/** The swtpm TCTI finds the control channel at the command port + 1: two free ports in a row. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
  }
  throw new Error('no two free TCP ports in a row on 127.0.0.1 after 50 tries');
}

const tpm2 = (tool: string, ...args: string[]) => run(tool, args, { env, cwd: dir, timeout: 30_000 });

/** `tpm2_pcrread` output as bank → PCR → lower-case hex. */
function parsePcrRead(text: string): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  let bank: Map<number, string> | undefined;
  for (const line of text.split('\n')) {
    const b = /^\s+(sha\d+):\s*$/.exec(line);
    if (b) out.set(b[1]!, (bank = new Map()));
    const v = /^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)/.exec(line);
    if (v && bank) bank.set(Number(v[1]), v[2]!.toLowerCase());
  }
  return out;
}

beforeAll(async () => {
  for (const tool of ['swtpm', 'tpm2_pcrextend', 'tpm2_pcrread', 'tpm2_createpolicy']) {
    try {
      await run('sh', ['-c', `command -v ${tool}`], { timeout: 5000 });
    } catch {
      throw new Error(`${tool} is not installed: ${HINT}`);
    }
  }
  dir = await mkdtemp(join(tmpdir(), 'bootlab-swtpm-'));
  const server = await freePortPair();
  const ctrl = server + 1;
  swtpm = spawn('swtpm', [
    'socket', '--tpm2', '--tpmstate', `dir=${dir}`,
    '--server', `type=tcp,port=${server},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
    '--flags', 'not-need-init,startup-clear',
  ], { stdio: 'ignore' });
  env = { ...process.env, TPM2TOOLS_TCTI: `swtpm:host=127.0.0.1,port=${server}` };
  // Ready when tpm2-tools gets an answer: bounded tries.
  for (let i = 0; ; i++) {
    try {
      await tpm2('tpm2_pcrread', 'sha256:0');
      break;
    } catch (e) {
      if (i >= 50 || swtpm.exitCode !== null) throw new Error(`swtpm did not answer on 127.0.0.1:${server}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}, 30_000);

afterAll(async () => {
  swtpm?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bootlab vTPM against swtpm', () => {
  it("a device's measured boot, extended into swtpm, gives bootlab's PCRs in sha1, sha256 and sha384; PolicyPCR over them agrees", async () => {
    const scenario = parseScenario(oneInstallerScenario('swtpm', '  - { id: sw, tpm: { banks: [sha1, sha256, sha384] }, expect: { outcome: installed } }'), 'swtpm.yaml');
    const artifacts = join(dir, 'run');
    expect((await runScenario({ scenario, file: 'swtpm.yaml', baseDir: repo }, { artifactsDir: artifacts })).ok).toBe(true);
    const log = decodeEventLog(await readFile(join(artifacts, 'sw', 'eventlog.bin')));
    if (!log.ok) throw log.error;
    for (const e of log.value.events) {
      if (e.eventType === EV_NO_ACTION) continue;
      await tpm2('tpm2_pcrextend', `${e.pcrIndex}:${e.digests.map((d) => `${d.alg}=${Buffer.from(d.digest).toString('hex')}`).join(',')}`);
    }
    const ours = replayEventLog(log.value);
    const touched = [...new Set(log.value.events.map((e) => e.pcrIndex))].sort((a, b) => a - b);
    // PCR 17 was never touched: both start the DRTM PCRs at all ones.
    const pcrs = [...touched, 17];
    const { stdout } = await tpm2('tpm2_pcrread', (['sha1', 'sha256', 'sha384'] as HashAlg[]).map((a) => `${a}:${pcrs.join(',')}`).join('+'));
    const theirs = parsePcrRead(stdout);
    for (const alg of ['sha1', 'sha256', 'sha384'] as const) {
      for (const pcr of pcrs) expect(theirs.get(alg)?.get(pcr), `${alg}:${pcr}`).toBe(Buffer.from(ours[alg][pcr]!).toString('hex'));
    }

    const selection = [{ alg: 'sha256' as const, pcrs: [0, 4, 5, 7, 13] }];
    await tpm2('tpm2_pcrread', '-o', 'pcrs.bin', `sha256:${selection[0]!.pcrs.join(',')}`);
    await tpm2('tpm2_createpolicy', '--policy-pcr', '-l', `sha256:${selection[0]!.pcrs.join(',')}`, '-f', 'pcrs.bin', '-L', 'policy.digest');
    const expected = policyPcr(selection, selection[0]!.pcrs.map((p) => ours.sha256[p]!));
    expect((await readFile(join(dir, 'policy.digest'))).toString('hex')).toBe(expected.toString('hex'));
  });

  it('resets PCR 16 and 23 like swtpm does and refuses to reset PCR 7, as swtpm does', async () => {
    const ours = new VirtualTpm({ banks: ['sha256'] });
    for (const pcr of [7, 16, 23]) {
      ours.extend(pcr, EV_SEPARATOR, separator());
      await tpm2('tpm2_pcrextend', `${pcr}:sha256=${Buffer.from(ours.events().at(-1)!.digests[0]!.digest).toString('hex')}`);
    }
    ours.resetPcr(16);
    ours.resetPcr(23);
    await tpm2('tpm2_pcrreset', '16');
    await tpm2('tpm2_pcrreset', '23');
    await expect(tpm2('tpm2_pcrreset', '7')).rejects.toThrow();
    expect(() => ours.resetPcr(7)).toThrow(/TPM_RC_LOCALITY/);
    const theirs = parsePcrRead((await tpm2('tpm2_pcrread', 'sha256:16,23')).stdout);
    for (const pcr of [16, 23]) expect(theirs.get('sha256')?.get(pcr)).toBe(Buffer.from(ours.pcr('sha256', pcr)).toString('hex'));
  });
});
