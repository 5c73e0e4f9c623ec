import { describe, expect, it } from 'vitest';
import type { ScenarioError } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';
import { scenarioFailure } from '../scenario/scenario-failure.js';

const base = `name: t
servers: { dhcp: { pool: { start: 192.0.2.10, end: 192.0.2.20 } } }
images: [{ name: nos, source: x, publish: [nos.bin] }]
trust: { db: [db-ca] }
devices:
  - { template: leaf, id: "leaf-{n:02}", count: 5, identity: { mac: "52:54:00:00:00:{n:02x}" }, expect: { outcome: installed } }
  - { id: spine-1, expect: { outcome: installed } }
`;

describe('rack positions filled from a template', () => {
  it("gives each of the template's next devices a position, a management port and uplinks from the patterns", () => {
    const s = parseScenario(`${base}racks:
  - name: r1
    subnet: 10.1.1.0/24
    positions:
      - { position: top, device: leaf-02, mgmt: "r1-mgmt:Gi1/48" }
    fill:
      - { template: leaf, count: 2, position: "U{n:02}", mgmt: "r1-mgmt:Gi1/{n}", uplinks: { Ethernet0: "r1-tor:Ethernet{n}" } }
  - name: r2
    subnet: 10.1.2.0/24
    fill:
      - { template: leaf, start: 10, position: "U{n}", mgmt: "r2-mgmt:Gi1/{n}" }
`);
    expect(s.racks[0]!.positions.map((p) => [p.position, p.device, p.mgmt, p.uplinks])).toEqual([
      ['top', 'leaf-02', 'r1-mgmt:Gi1/48', {}],
      ['U01', 'leaf-01', 'r1-mgmt:Gi1/1', { Ethernet0: 'r1-tor:Ethernet1' }],
      ['U02', 'leaf-03', 'r1-mgmt:Gi1/2', { Ethernet0: 'r1-tor:Ethernet2' }],
    ]);
    // r2 takes the rest (no count): numbered from its start.
    expect(s.racks[1]!.positions.map((p) => [p.position, p.device])).toEqual([
      ['U10', 'leaf-04'],
      ['U11', 'leaf-05'],
    ]);
  });

  it('names the fill and the device of what it cannot make', () => {
    const fill = (f: string): ScenarioError => scenarioFailure(`${base}racks:\n  - name: r1\n    subnet: 10.1.1.0/24\n    fill:\n      - ${f}\n`);
    expect(fill('{ template: spine, position: "U{n}", mgmt: "m:{n}" }').message).toMatch(/racks\.0\.fill\.0\.template: no device template "spine"/);
    expect(fill('{ template: leaf, count: 9, position: "U{n}", mgmt: "m:{n}" }').message).toMatch(/fill\.0\.count: template leaf has 5 devices left to place, not 9/);
    expect(fill('{ template: leaf, position: "U1", mgmt: "m:{n}" }').message).toMatch(/fill\.0\.position: 5 positions need \{n\} in "U1" to differ/);
    expect(fill('{ template: leaf, position: "U{n}", mgmt: "no-port-{n}" }').message).toMatch(/fill\.0\.mgmt: device leaf-01 \(n=1\): a switch port as switch:port/);
    expect(scenarioFailure(`${base}racks:\n  - name: r1\n    subnet: 10.1.1.0/24\n`).message).toMatch(/racks\.0\.positions: rack r1 has no positions/);
  });
});
