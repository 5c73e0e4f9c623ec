import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { funnelOf } from '../../../src/report/funnel.js';
import { junitXml } from '../../../src/report/junit.js';
import { device, report } from '../../report/fixtures.js';

const run = promisify(execFile);
// Debian's interpreter, where Debian's junitparser is installed (a pyenv python3 on PATH would not have it).
const PYTHON = '/usr/bin/python3';
const INSTALL = 'junitparser is not installed: apt-get install -y --no-install-recommends python3-junitparser';
let dir: string;

/** What junitparser (the library CI report tools build on) reads back from a JUnit file. */
const READ = `
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
out = []
for suite in xml:
    cases = []
    for case in suite:
        cases.append({"name": case.name, "classname": case.classname, "time": case.time,
                      "results": [[type(r).__name__, r.type, r.message, r.text] for r in case.result],
                      "out": case.system_out})
    out.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures, "errors": suite.errors, "time": suite.time, "cases": cases})
print(json.dumps(out))
`;

beforeAll(async () => {
  try {
    await run(PYTHON, ['-c', 'import junitparser'], { timeout: 20_000 });
  } catch (e) {
    throw new Error(`${INSTALL} (${(e as Error).message.split('\n')[0]})`);
  }
  dir = await mkdtemp(join(tmpdir(), 'bootlab-junit-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('junitparser reads bootlab --junit', () => {
  it('reads the suites, cases, every failure and a failed device console tail as written', async () => {
    const file = join(dir, 'r.xml');
    await writeFile(
      file,
      junitXml(
        report([
          device('leaf-1', 0, { durationMs: 1234 }),
          device('old-1', 1, {
            suite: 'old',
            ok: false,
            durationMs: 2500,
            checks: [
              { what: 'outcome', ok: false, detail: 'expected installed, device gave-up' },
              { what: 'rejected', ok: false, detail: 'expected [], got [revoked-signer] <&"\'>' },
            ],
            consoleTail: ['ONIE: Executing installer: http://x/a&b', '\u001b[1mbold\u001b[0m'],
          }),
        ]),
      ),
    );
    const { stdout } = await run(PYTHON, ['-c', READ, file], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual([
      { name: 'leaf', tests: 1, failures: 0, errors: 0, time: 1.234, cases: [{ name: 'leaf-1', classname: 'fleet.leaf', time: 1.234, results: [], out: null }] },
      {
        name: 'old',
        tests: 1,
        failures: 1,
        errors: 0,
        time: 2.5,
        cases: [
          {
            name: 'old-1',
            classname: 'fleet.old',
            time: 2.5,
            results: [
              ['Failure', 'outcome', 'outcome: expected installed, device gave-up', 'outcome: expected installed, device gave-up'],
              ['Failure', 'rejected', 'rejected: expected [], got [revoked-signer] <&"\'>', 'rejected: expected [], got [revoked-signer] <&"\'>'],
            ],
            out: 'ONIE: Executing installer: http://x/a&b\n\ufffd[1mbold\ufffd[0m',
          },
        ],
      },
    ]);
  });

  it('reads the bring-up suites: a wave gate with its timeline and funnel, a rack with a failed cable, and the totals', async () => {
    const file = join(dir, 'bringup.xml');
    const devices = [device('leaf-1', 0, { wave: 'canary', rack: 'r1' }), device('leaf-2', 1, { wave: 'canary', rack: 'r1' })];
    const funnel = funnelOf(devices);
    await writeFile(
      file,
      junitXml(
        report(devices, {
          scenario: 'bringup',
          bringUp: {
            waves: [{ name: 'canary', devices: 2, status: 'passed', installed: 2, attested: 2, startedMs: 150, endedMs: 2900 }],
            racks: [
              {
                name: 'r1',
                subnet: '10.1.1.0/24',
                devices: 2,
                installed: 2,
                inventory: { admitted: 2 },
                relay: { relayedUp: 8, relayedDown: 8, dropped: {} },
                rogueDhcp: {},
                cabling: [],
                checks: [{ what: 'cabling r1-tor:Ethernet1', ok: false, detail: 'expected ok, found cable-swap: hears leaf-2:Ethernet0' }],
              },
            ],
            checks: [{ what: 'rollout', ok: true, detail: 'expected every gate passed, every gate passed' }],
            funnels: { waves: { canary: funnel }, racks: { r1: funnel } },
          },
        }),
      ),
    );
    const { stdout } = await run(PYTHON, ['-c', READ, file], { timeout: 30_000 });
    const suites = JSON.parse(stdout) as Array<{ name: string; tests: number; failures: number; cases: Array<{ name: string; results: string[][]; out: string | null }> }>;
    expect(suites.map((x) => [x.name, x.tests, x.failures])).toEqual([
      ['leaf', 2, 0],
      ['rollout', 2, 0],
      ['rack r1', 1, 1],
    ]);
    const wave = suites[1]!.cases[0]!;
    expect(wave.name).toBe('wave canary');
    expect(wave.out).toMatch(/^passed: powered on at 0\.150 s, gate decided at 2\.900 s\nfunnel: powered on 2\/2 · leased 2\/2 \(p50 100 ms, p95 100 ms\)/);
    expect(suites[2]!.cases[0]!.results[0]!.slice(0, 2)).toEqual(['Failure', 'cabling']);
    const totals = await run(PYTHON, ['-c', 'import sys; from junitparser import JUnitXml; x = JUnitXml.fromfile(sys.argv[1]); print(x.tests, x.failures)', file], { timeout: 30_000 });
    expect(totals.stdout.trim()).toBe('5 1');
  });
});

