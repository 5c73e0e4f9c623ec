import { describe, expect, it } from 'vitest';
import type { ScenarioError } from '../../src/errors.js';
import { scenarioFailure } from '../scenario/scenario-failure.js';
import { parseScenario } from '../../src/scenario/load.js';

const head = `
name: fleet
servers:
  dhcp:
    pool: { start: 10.20.0.10, end: 10.20.255.250, subnetMask: 255.255.0.0 }
images:
  - name: nos
    source: ../images/demo-nos
    publish: [nos.bin]
trust:
  db: [db-ca]
  dbx: [rogue]
devices:
`;

const failure = (devices: string): ScenarioError => scenarioFailure(head + devices, 'f.yaml');

describe('fleet templates', () => {
  it('expands count devices from start, filling id and identity patterns, in file order', () => {
    const s = parseScenario(
      `${head}  - id: spine-1
    expect: { outcome: installed }
  - template: leaf
    count: 3
    start: 9
    id: leaf-{n:03}
    identity: { serial: "BL{n:09}", mac: "52:54:00:{n:06x}", machine: "accton_as{n+7316}_56x", machineRev: 2 }
    tpm: { ak: rsa }
    expect: { outcome: installed, within: 30s }
`,
      'f.yaml',
    );
    expect(s.devices.map((d) => d.id)).toEqual(['spine-1', 'leaf-009', 'leaf-010', 'leaf-011']);
    expect(s.devices.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    expect(s.devices.map((d) => d.suite)).toEqual(['fleet', 'leaf', 'leaf', 'leaf']);
    expect(s.devices[3]!.identity).toEqual({ serial: 'BL000000011', mac: '52:54:00:00:00:0b', machine: 'accton_as7327_56x', machineRev: 2 });
    expect(s.devices[1]!.tpm.ak).toBe('rsa');
    expect(s.devices[0]!.tpm.ak).toBe('ecc');
    expect(s.devices[2]!.expect.within).toBe(30_000);
  });

  it('gives a template without a name its id pattern as the suite, and 1 as the first n', () => {
    const s = parseScenario(`${head}  - { id: "sw-{n}", count: 2, expect: { outcome: installed } }\n`, 'f.yaml');
    expect(s.devices.map((d) => [d.id, d.suite])).toEqual([
      ['sw-1', 'sw-{n}'],
      ['sw-2', 'sw-{n}'],
    ]);
  });

  it('merges a template trust override field by field over the scenario trust', () => {
    const s = parseScenario(
      `${head}  - { id: "a-{n}", count: 1, expect: { outcome: installed } }
  - { id: "b-{n}", count: 1, trust: { dbx: [] , mode: both, approved: ["image:nos"] }, expect: { outcome: installed } }
`,
      'f.yaml',
    );
    expect(s.devices[0]!.trust).toMatchObject({ db: ['db-ca'], dbx: ['rogue'], mode: 'signature' });
    expect(s.devices[0]!.trustOverrides).toEqual([]);
    expect(s.devices[1]!.trust).toMatchObject({ db: ['db-ca'], dbx: [], mode: 'both', approved: ['image:nos'] });
    expect([...s.devices[1]!.trustOverrides].sort()).toEqual(['approved', 'dbx', 'mode']);
  });

  it('expands 10,000 devices of one template with distinct MACs in well under a second', () => {
    const t = performance.now();
    const s = parseScenario(`${head}  - { id: "sw-{n:05}", count: 10000, identity: { mac: "02:00:00:{n:06x}" }, expect: { outcome: installed } }\n`, 'f.yaml');
    expect(s.devices).toHaveLength(10_000);
    expect(new Set(s.devices.map((d) => d.identity.mac)).size).toBe(10_000);
    expect(performance.now() - t).toBeLessThan(5_000);
  });

  it('points at the entry and field when a pattern is wrong or devices collide', () => {
    expect(failure(`  - { id: "sw", count: 2, expect: { outcome: installed } }\n`).message).toBe(
      'f.yaml:14: devices.0.id: a template of 2 devices needs {n} in its id (e.g. sw-{n:03})',
    );
    expect(failure(`  - { id: "sw-{n}", count: 2, identity: { mac: "52:54:00:00:00:{n:02x}" }, expect: { outcome: installed } }\n  - { id: "x-{n}", identity: { mac: "52-54-00-00-00-02" }, expect: { outcome: installed } }\n`).message).toBe(
      'f.yaml:15: devices.1.identity.mac: device x-1 has the mac 52:54:00:00:00:02 of device sw-2',
    );
    expect(failure(`  - { id: "sw-{n}", count: 2, expect: { outcome: installed } }\n  - { id: "sw-2", expect: { outcome: installed } }\n`).message).toBe(
      'f.yaml:15: devices.1.id: duplicate device id "sw-2" (also made by devices.0)',
    );
    expect(failure(`  - { id: "sw {n}", count: 2, expect: { outcome: installed } }\n`).message).toContain('devices.0.id: device 1 gets id "sw 1": device ids are file-name safe');
    expect(failure(`  - { id: "sw-{n}", count: 2, identity: { mac: "52:54:00:{n:04x}" }, expect: { outcome: installed } }\n`).message).toBe(
      'f.yaml:14: devices.0.identity.mac: device 1 gets MAC "52:54:00:0001", which is not 12 hex digits',
    );
    expect(failure(`  - { id: "sw-{n}", count: 2, identity: { machine: "as{n}" }, expect: { outcome: installed } }\n`).message).toBe(
      'f.yaml:14: devices.0.identity.machine: device sw-1: machine is <vendor>_<model> (ONIE naming rule)',
    );
    expect(failure(`  - { id: "sw-{i}", count: 2, expect: { outcome: installed } }\n`).message).toContain('devices.0.id: "{i}" is not a number field');
    expect(failure(`  - { id: "sw-{n}", count: 100001, expect: { outcome: installed } }\n`).message).toContain('devices.0.count');
    expect(failure(`  - { id: "sw-{n}", count: 2, trust: { db: [nope] }, expect: { outcome: installed } }\n`).message).toContain('devices.0.trust.db.0: "nope" is neither a test PKI key');
  });
});
