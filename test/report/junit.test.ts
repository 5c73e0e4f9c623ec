import { describe, expect, it } from 'vitest';
import { junitXml } from '../../src/report/junit.js';
import { device, report } from './fixtures.js';

describe('junitXml', () => {
  it('writes a testsuite per template, a testcase per device and a failure per failed expectation', () => {
    const xml = junitXml(
      report([
        device('leaf-1', 0),
        device('old-1', 1, {
          suite: 'old',
          ok: false,
          durationMs: 2500,
          checks: [
            { what: 'outcome', ok: false, detail: 'expected installed, device gave-up' },
            { what: 'attestation', ok: false, detail: 'expected pass, verifier said fail (pcr.13)' },
            { what: 'image', ok: true, detail: 'fine' },
          ],
          consoleTail: ['ONIE: Executing installer: http://x/<a>&"b"', '\u001b[31mred\u001b[0m \u0000 done'],
        }),
      ]),
    );
    expect(xml).toContain('<testsuites name="fleet" tests="2" failures="1" errors="0" time="60.000">');
    expect(xml).toContain('<testsuite name="leaf" tests="1" failures="0" errors="0" skipped="0" time="1.000" timestamp="2026-12-02T10:00:00">');
    expect(xml).toContain('<testcase name="leaf-1" classname="fleet.leaf" time="1.000"/>');
    expect(xml).toContain('<testsuite name="old" tests="1" failures="1"');
    expect(xml.match(/<failure /g)).toHaveLength(2);
    expect(xml).toContain('<failure type="attestation" message="attestation: expected pass, verifier said fail (pcr.13)">');
    // Markup is escaped; control characters XML cannot carry become U+FFFD.
    expect(xml).toContain('<system-out>ONIE: Executing installer: http://x/&lt;a&gt;&amp;"b"\n\ufffd[31mred\ufffd[0m \ufffd done</system-out>');
  });
});
