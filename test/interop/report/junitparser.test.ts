import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
