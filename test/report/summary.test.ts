import { describe, expect, it } from 'vitest';
import { failureGroups, percentile, summaryLines } from '../../src/report/summary.js';
import { device, failedOutcome, report } from './fixtures.js';

describe('summaryLines', () => {
  it('counts each stage of the funnel and times it from the stage before (p50/p95/max)', () => {
    const devices = Array.from({ length: 20 }, (_, i) => device(`leaf-${i}`, i, { stages: { 'powered-on': 0, leased: (i + 1) * 10 } }));
    devices.push(failedOutcome('leaf-x', 20));
    const lines = summaryLines(report(devices));
    expect(lines[0]).toBe('21 devices in 60.00 s');
    expect(lines.find((l) => l.includes('powered on'))).toMatch(/powered on\s+21\/21$/);
    // leaf-0..19 leased at 10..200 ms, leaf-x at 100: p50 is the 11th of 21 sorted values, p95 the 20th.
    expect(lines.find((l) => l.includes('leased'))).toMatch(/leased\s+21\/21\s+100 ms\s+190 ms\s+200 ms$/);
    expect(lines.find((l) => l.includes('discovered'))).toMatch(/discovered\s+1\/21\s+50 ms\s+50 ms\s+50 ms$/);
    expect(lines.find((l) => l.includes('fetched'))).toMatch(/fetched\s+0\/21$/);
    expect(lines.find((l) => l.startsWith('  installs'))).toBe('  installs: 20 (20.0/min) · served: HTTP 10.0 MiB (170.7 KiB/s), TFTP 0 B (0 B/s)');
  });

  it('groups failures by their first failed check, the largest group first, naming the first five ids', () => {
    const devices = [
      ...Array.from({ length: 7 }, (_, i) => failedOutcome(`a-${i}`, i)),
      failedOutcome('b-0', 7, 'timed-out'),
      device('c-0', 8, {
        ok: false,
        checks: [
          { what: 'outcome', ok: true, detail: 'fine' },
          { what: 'within', ok: false, detail: 'budget 30000 ms, took 31234 ms', reason: 'over the budget of 30000 ms' },
        ],
      }),
    ];
    const lines = summaryLines(report(devices));
    const at = lines.indexOf('  failures by reason:');
    expect(lines.slice(at)).toEqual([
      '  failures by reason:',
      '    7 × outcome: expected installed, device gave-up: a-0, a-1, a-2, a-3, a-4, …',
      '    1 × outcome: expected installed, device timed-out: b-0',
      '    1 × within: over the budget of 30000 ms: c-0',
    ]);
    expect(failureGroups([device('ok', 0)])).toEqual([]);
  });

  it('says which shards a merged report holds', () => {
    expect(summaryLines(report([device('a', 0)], { fleetSize: 3, shards: { count: 3, included: [1, 3] } }))[0]).toBe('1 device (shards 1, 3 of 3; fleet of 3) in 60.00 s');
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 0.5), percentile(xs, 0.95), percentile(xs, 1)]).toEqual([50, 95, 100]);
    expect(percentile([7], 0.95)).toBe(7);
  });
});
