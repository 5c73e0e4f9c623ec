import { describe, expect, it } from 'vitest';
import { ReportError } from '../../src/errors.js';
import { mergeReports, readReport } from '../../src/report/merge.js';
import { device, failedOutcome, report } from './fixtures.js';

const shard = (i: number, devices: ReturnType<typeof device>[], over = {}) => ({
  file: `s${i}.json`,
  report: report(devices, { fleetSize: 6, shards: { count: 3, included: [i] }, wallMs: 1000 * i, startedAt: `2026-12-02T10:00:0${4 - i}.000Z`, ...over }),
});

describe('mergeReports', () => {
  it('joins shards into one verdict in fleet order, summing bytes, the slowest shard as wall time', () => {
    const { report: m, missing } = mergeReports([
      shard(2, [device('d1', 1), device('d4', 4)]),
      shard(1, [device('d0', 0), device('d3', 3)]),
      shard(3, [device('d2', 2), device('d5', 5)]),
    ]);
    expect(missing).toEqual([]);
    expect(m.ok).toBe(true);
    expect(m.devices.map((d) => d.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(m.shards).toEqual({ count: 3, included: [1, 2, 3] });
    expect(m.wallMs).toBe(3000);
    expect(m.startedAt).toBe('2026-12-02T10:00:01.000Z');
    expect(m.served.httpBytes).toBe(3 * 10 * 1024 * 1024);
  });

  it('fails the verdict when a shard is missing or a device failed', () => {
    const partial = mergeReports([shard(1, [device('d0', 0)]), shard(3, [device('d2', 2)])]);
    expect(partial.missing).toEqual([2]);
    expect(partial.report.ok).toBe(false);
    const failed = mergeReports([shard(1, [device('d0', 0)]), shard(2, [failedOutcome('d1', 1)]), shard(3, [device('d2', 2)])]);
    expect(failed.report.ok).toBe(false);
  });

  it('refuses reports that do not belong together, naming the file', () => {
    const refuse = (parts: Parameters<typeof mergeReports>[0]): string => {
      try {
        mergeReports(parts);
      } catch (e) {
        if (e instanceof ReportError) return e.message;
        throw e;
      }
      throw new Error('expected a ReportError');
    };
    expect(refuse([shard(1, [device('d0', 0)]), shard(1, [device('d3', 3)], {})])).toBe('s1.json: shard 1 of 3 again (also in s1.json)');
    expect(refuse([shard(1, [device('d0', 0)]), shard(2, [device('d0', 0)])])).toBe('s2.json: device d0 again (also in s1.json)');
    expect(refuse([shard(1, [device('d0', 0)]), shard(2, [device('d1', 1)], { scenario: 'other' })])).toBe('s2.json: scenario "other", but s1.json is of "fleet"');
    expect(refuse([shard(1, [device('d0', 0)]), shard(2, [device('d1', 1)], { fleetSize: 7 })])).toBe('s2.json: a fleet of 7, but s1.json has 6');
    expect(refuse([shard(1, [device('d0', 0)]), shard(2, [device('d1', 1)], { shards: { count: 4, included: [2] } })])).toBe('s2.json: cut into 4 shards, but s1.json into 3');
    expect(refuse([])).toBe('report merge: no reports given');
  });
});

describe('readReport', () => {
  it('names the field that makes a file no report', () => {
    expect(() => readReport({ format: 'bootlab-report/1' }, 'x.json')).toThrow('x.json: not a bootlab report: scenario:');
    expect(() => readReport([], 'x.json')).toThrow('x.json: not a bootlab report: (top):');
    const r = report([device('a', 0)]);
    expect(readReport(JSON.parse(JSON.stringify(r)), 'r.json')).toEqual(r);
  });
});
