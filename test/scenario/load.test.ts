import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ScenarioError } from '../../src/errors.js';
import { scenarioFailure } from './scenario-failure.js';
import { loadScenario, parseScenario } from '../../src/scenario/load.js';

const minimal = `
name: t
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20 }
images:
  - name: nos
    source: ../images/demo-nos
    publish: [nos.bin]
trust:
  db: [db-ca]
devices:
  - id: sw1
    expect: { outcome: installed }
`;

const failure = (text: string): ScenarioError => scenarioFailure(text);

describe('parseScenario', () => {
  it('fills ONIE defaults: 20 s pause between passes, 3 passes, real-time clock', () => {
    const s = parseScenario(minimal);
    expect(s.onie).toEqual({ maxPasses: 3, passDelay: 20_000, installerTimeout: 120_000 });
    expect(s.clockSpeed).toBe(1);
    expect(s.images[0]!.signedBy).toBe('vendor');
    expect(s.servers.dhcp.pool.leaseTime).toBe(3_600_000);
  });

  it('11: paces power-on at 32 devices by default and takes powerOn.concurrency', () => {
    expect(parseScenario(minimal).powerOn).toEqual({ concurrency: 128 });
    expect(parseScenario(`${minimal}powerOn: { concurrency: 200 }\n`).powerOn).toEqual({ concurrency: 200 });
    const e = failure(`${minimal}powerOn: { concurrency: 0 }\n`);
    expect(e.message).toMatch(/powerOn\.concurrency/);
  });

  it('names the file, line and path of a bad value', () => {
    const e = failure(minimal.replace('192.0.2.20', '192.0.2.300'));
    expect(e.code).toBe('BL_SCENARIO_INVALID');
    expect(e.path).toBe('servers.dhcp.pool.end');
    expect(e.line).toBe(5);
    expect(e.message).toMatch(/^x\.yaml:5: servers\.dhcp\.pool\.end: expected a dotted IPv4 address/);
  });

  it("fills a rack's rogue DHCP server from defaults, and refuses one that is not on loopback", () => {
    const rack = (rogue: string) => `${minimal}racks:\n  - name: r1\n    subnet: 10.9.0.0/24\n    rogueDhcp: ${rogue}\n    positions:\n      - { position: U1, device: sw1, mgmt: "m:1" }\n`;
    expect(parseScenario(rack('{}')).racks[0]!.rogueDhcp).toEqual({ address: '127.0.0.250', pool: { start: '192.168.1.100', end: '192.168.1.199' }, subnetMask: '255.255.255.0', options: {} });
    const e = failure(rack('{ address: 192.0.2.1 }'));
    expect(e.path).toBe('racks.0.rogueDhcp.address');
    expect(e.message).toMatch(/a loopback address \(127\.x\.y\.z\)/);
  });

  it('rejects unknown keys instead of ignoring a typo', () => {
    const e = failure(minimal.replace('    publish: [nos.bin]', '    publsh: [nos.bin]'));
    expect(e.path).toBe('images.0');
    expect(e.message).toMatch(/publsh/);
  });

  it('reports YAML syntax errors with their line', () => {
    const e = failure(`${minimal}\n  - : [\n`);
    expect(e.message).toMatch(/YAML/);
    expect(e.line).toBeGreaterThan(15);
  });

  it('rejects a device expecting an image the scenario does not have', () => {
    const e = failure(minimal.replace('expect: { outcome: installed }', 'expect: { outcome: installed, image: nope }'));
    expect(e.path).toBe('devices.0.expect.image');
    expect(e.line).toBe(14);
  });

  it('rejects duplicate device ids and a db entry that is neither a PKI key nor a PEM file', () => {
    expect(failure(minimal.replace('  db: [db-ca]', '  db: [mystery]')).path).toBe('trust.db.0');
    const twice = `${minimal}  - id: sw1\n    expect: { outcome: installed }\n`;
    expect(failure(twice).message).toMatch(/duplicate device id "sw1"/);
  });

  it('parses durations written as 20s, 500ms and 2m', () => {
    const s = parseScenario(`${minimal}onie:\n  passDelay: 500ms\n  installerTimeout: 2m\n`);
    expect(s.onie.passDelay).toBe(500);
    expect(s.onie.installerTimeout).toBe(120_000);
  });
});

describe('shipped scenarios', () => {
  it('all load and validate', async () => {
    const dir = new URL('../../scenarios/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const loaded = await loadScenario(new URL(f, dir).pathname);
      expect(loaded.scenario.devices.length).toBeGreaterThan(0);
    }
  });
});

describe('durations', () => {
  it('accept ms, s, m, h and d, as the README shows leaseTime: 1h', () => {
    const s = parseScenario(minimal.replace('{ start: 192.0.2.10, end: 192.0.2.20 }', '{ start: 192.0.2.10, end: 192.0.2.20, leaseTime: 1h }'));
    expect(s.servers.dhcp.pool.leaseTime).toBe(3_600_000);
    expect(() => parseScenario(minimal.replace('{ start: 192.0.2.10, end: 192.0.2.20 }', '{ start: 192.0.2.10, end: 192.0.2.20, leaseTime: 1y }'))).toThrow(/duration/);
  });
});
