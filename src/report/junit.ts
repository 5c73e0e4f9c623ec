import type { FleetReport, ReportDevice } from './fleet-report.js';
import { funnelLine } from './funnel.js';

/**
 * The report as JUnit XML, the format Jenkins, GitLab and GitHub's test reporters read:
 * a testsuite per template (the scenario's name for devices on their own), a testcase per
 * device, one <failure> per expectation that did not hold (its check as the type, its
 * detail as the message), and a failed device's console tail as <system-out>.
 */
export function junitXml(r: FleetReport): string {
  const suites = new Map<string, ReportDevice[]>();
  for (const d of r.devices) {
    const list = suites.get(d.suite) ?? [];
    list.push(d);
    suites.set(d.suite, list);
  }
  const bringUp = r.bringUp ? bringUpSuites(r.scenario, r.bringUp) : { lines: [], tests: 0, failures: 0 };
  const failed = r.devices.filter((d) => !d.ok).length + bringUp.failures;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  // The totals count every testcase below: the devices' and the bring-up's.
  out.push(`<testsuites name="${attr(r.scenario)}" tests="${r.devices.length + bringUp.tests}" failures="${failed}" errors="0" time="${secs(r.wallMs)}">`);
  for (const [name, devices] of suites) {
    const time = devices.reduce((sum, d) => sum + d.durationMs, 0);
    out.push(
      `  <testsuite name="${attr(name)}" tests="${devices.length}" failures="${devices.filter((d) => !d.ok).length}" errors="0" skipped="0" time="${secs(time)}" timestamp="${attr(r.startedAt.replace(/\.\d+Z$/, ''))}">`,
    );
    for (const d of devices) {
      const open = `    <testcase name="${attr(d.id)}" classname="${attr(`${r.scenario}.${d.suite}`)}" time="${secs(d.durationMs)}"`;
      if (d.ok) {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      for (const c of d.checks.filter((x) => !x.ok)) {
        out.push(`      <failure type="${attr(c.what)}" message="${attr(`${c.what}: ${c.detail}`)}">${text(`${c.what}: ${c.detail}`)}</failure>`);
      }
      if (d.consoleTail?.length) out.push(`      <system-out>${text(d.consoleTail.join('\n'))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push(...bringUp.lines);
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/**
 * The bring-up as testsuites: `rollout` (a testcase per wave gate and one for the
 * rollout's own expectation) and one per rack (a testcase per planned cable, by switch port).
 */
function bringUpSuites(scenario: string, b: NonNullable<FleetReport['bringUp']>): { lines: string[]; tests: number; failures: number } {
  const out: string[] = [];
  let tests = 0;
  let failures = 0;
  type Case = { name: string; ok: boolean; what: string; detail: string; out?: string };
  const suite = (name: string, cases: Case[], suiteOut?: string): void => {
    tests += cases.length;
    failures += cases.filter((c) => !c.ok).length;
    out.push(`  <testsuite name="${attr(name)}" tests="${cases.length}" failures="${cases.filter((c) => !c.ok).length}" errors="0" skipped="0">`);
    for (const c of cases) {
      const open = `    <testcase name="${attr(c.name)}" classname="${attr(`${scenario}.${name}`)}"`;
      const inner = [
        ...(c.ok ? [] : [`      <failure type="${attr(c.what)}" message="${attr(c.detail)}">${text(c.detail)}</failure>`]),
        ...(c.out ? [`      <system-out>${text(c.out)}</system-out>`] : []),
      ];
      out.push(inner.length ? `${open}>\n${inner.join('\n')}\n    </testcase>` : `${open}/>`);
    }
    if (suiteOut) out.push(`    <system-out>${text(suiteOut)}</system-out>`);
    out.push('  </testsuite>');
  };
  // Each wave's timeline and funnel travel with its gate, each rack's funnel with its suite.
  const gates = b.waves.map((w): Case => {
    const funnel = b.funnels?.waves[w.name];
    const timeline = w.startedMs !== undefined ? `powered on at ${secs(w.startedMs)} s, gate decided at ${secs(w.endedMs ?? w.startedMs)} s` : w.status;
    return {
      name: `wave ${w.name}`,
      ok: true,
      what: 'gate',
      detail: w.gate ? w.gate.checks.map((c) => `${c.what}: ${c.detail}`).join('; ') : w.status,
      out: [`${w.status}: ${timeline}`, ...(funnel ? [`funnel: ${funnelLine(funnel, w.devices)}`] : [])].join('\n'),
    };
  });
  suite('rollout', [...gates, ...b.checks.map((c) => ({ name: c.what, ok: c.ok, what: c.what, detail: c.detail }))]);
  for (const r of b.racks) {
    const funnel = b.funnels?.racks[r.name];
    suite(
      `rack ${r.name}`,
      r.checks.map((c) => ({ name: c.what, ok: c.ok, what: 'cabling', detail: c.detail })),
      funnel ? `funnel: ${funnelLine(funnel, r.devices)}` : undefined,
    );
  }
  return { lines: out, tests, failures };
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/**
 * XML 1.0 cannot carry most control characters at all (an installer's ANSI colours, a
 * stray NUL), not even as references: they become U+FFFD.
 */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd').replace(/[\ud800-\udfff]/g, (c, i: number, all: string) => {
    const code = c.charCodeAt(0);
    const pair = code < 0xdc00 ? all.charCodeAt(i + 1) : all.charCodeAt(i - 1);
    const ok = code < 0xdc00 ? pair >= 0xdc00 && pair <= 0xdfff : pair >= 0xd800 && pair < 0xdc00;
    return ok ? c : '\ufffd';
  });
}

function text(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
