import { describe, expect, it } from 'vitest';
import type { Lldpdu } from '../../src/protocol/lldp/lldpdu.js';
import { checkCabling, type CablingPlan, type ObservedNeighbour, type PlannedLink } from '../../src/rack/cabling.js';

/** What a switch port sends: its chassis MAC, its port as ifname, its system name. */
function lldpdu(chassis: string, systemName: string, port: string, portDescription?: string): Lldpdu {
  return {
    chassisId: { kind: 'mac', mac: chassis },
    portId: portDescription === undefined ? { kind: 'text', subtype: 'interface-name', text: port } : { kind: 'mac', mac: port },
    ttlSeconds: 120,
    tlvs: [{ kind: 'system-name', text: systemName }, ...(portDescription === undefined ? [] : [{ kind: 'port-description' as const, text: portDescription }])],
  };
}

const A_TOR = '02:0a:00:00:00:01';
const B_TOR = '02:0b:00:00:00:01';

const plan: CablingPlan = {
  links: [
    { device: 'a-srv1', port: 'eth0', expected: { chassisId: A_TOR, systemName: 'a-tor', port: 'swp1' } },
    { device: 'a-srv1', port: 'eth1', expected: { chassisId: A_TOR, systemName: 'a-tor', port: 'swp2' } },
    { device: 'a-srv2', port: 'eth0', expected: { systemName: 'a-tor', port: 'swp3' } },
    { device: 'b-srv1', port: 'eth0', expected: { systemName: 'b-tor', port: 'swp1' } },
  ],
  placements: [
    { chassisId: A_TOR, systemName: 'a-tor', rack: 'A', position: 'tor' },
    { chassisId: B_TOR, systemName: 'b-tor', rack: 'B', position: 'tor' },
  ],
};

const heard = (device: string, port: string, du: Lldpdu): ObservedNeighbour => ({ device, port, lldpdu: du });

describe('cabling check', () => {
  it('reports ok when each port hears its planned partner, chassis MACs compared in any case', () => {
    const f = checkCabling(plan, [
      heard('a-srv1', 'eth0', lldpdu(A_TOR.toUpperCase(), 'a-tor', 'swp1')),
      heard('a-srv1', 'eth1', lldpdu(A_TOR, 'a-tor', 'swp2')),
      heard('a-srv2', 'eth0', lldpdu(A_TOR, 'a-tor', 'swp3')),
      heard('b-srv1', 'eth0', lldpdu(B_TOR, 'b-tor', 'swp1')),
    ]);
    expect(f.map((x) => x.kind)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(f[0]).toMatchObject({ device: 'a-srv1', port: 'eth0', seen: { chassisId: A_TOR, systemName: 'a-tor', port: 'swp1' } });
  });

  it('matches the planned port against the port description when the Port ID is a MAC (lldpd by default)', () => {
    const f = checkCabling({ links: [plan.links[0]!] }, [heard('a-srv1', 'eth0', lldpdu(A_TOR, 'a-tor', '02:0a:00:00:01:01', 'swp1'))]);
    expect(f[0]!.kind).toBe('ok');
  });

  it('reports a port that heard nothing as a missing link, with what was expected', () => {
    const f = checkCabling(plan, [heard('a-srv1', 'eth0', lldpdu(A_TOR, 'a-tor', 'swp1'))]);
    expect(f[1]).toEqual({ kind: 'missing-link', device: 'a-srv1', port: 'eth1', expected: plan.links[1]!.expected });
  });

  it('reports two ports that each hear the other one\'s planned partner as a cable swap, on both ports', () => {
    const f = checkCabling(plan, [heard('a-srv1', 'eth0', lldpdu(A_TOR, 'a-tor', 'swp2')), heard('a-srv1', 'eth1', lldpdu(A_TOR, 'a-tor', 'swp1'))]);
    expect(f[0]).toMatchObject({ kind: 'cable-swap', port: 'eth0', swappedWith: 'eth1', seen: { port: 'swp2' } });
    expect(f[1]).toMatchObject({ kind: 'cable-swap', port: 'eth1', swappedWith: 'eth0', seen: { port: 'swp1' } });
  });

  it('reports the same position and port in another rack as a swapped rack', () => {
    const f = checkCabling(plan, [heard('a-srv1', 'eth0', lldpdu(B_TOR, 'b-tor', 'swp1'))]);
    expect(f[0]).toMatchObject({ kind: 'swapped-rack', device: 'a-srv1', port: 'eth0', expectedRack: 'A', seenRack: 'B', position: 'tor', seen: { systemName: 'b-tor' } });
  });

  it('reports the other rack on another port as a wrong partner, naming the port it was planned for', () => {
    const f = checkCabling(plan, [heard('a-srv2', 'eth0', lldpdu(B_TOR, 'b-tor', 'swp1'))]);
    expect(f[2]).toMatchObject({ kind: 'wrong-partner', device: 'a-srv2', seen: { systemName: 'b-tor', port: 'swp1' }, plannedFor: { device: 'b-srv1', port: 'eth0' } });
  });

  it('reports a neighbour planned nowhere as a wrong partner without plannedFor', () => {
    const f = checkCabling(plan, [heard('b-srv1', 'eth0', lldpdu('02:ff:00:00:00:01', 'rogue', 'swp9'))]);
    expect(f[3]).toMatchObject({ kind: 'wrong-partner', seen: { systemName: 'rogue' } });
    expect(f[3]).not.toHaveProperty('plannedFor');
  });

  it('does not call a one-sided move a cable swap', () => {
    // eth0 hears eth1's partner, but eth1 hears nothing: a moved cable, not a swap.
    const f = checkCabling(plan, [heard('a-srv1', 'eth0', lldpdu(A_TOR, 'a-tor', 'swp2'))]);
    expect(f[0]).toMatchObject({ kind: 'wrong-partner', plannedFor: { device: 'a-srv1', port: 'eth1' } });
    expect(f[1]!.kind).toBe('missing-link');
  });

  it('checks a fleet of 1,000 devices × 4 ports reading each input element a bounded number of times', () => {
    // 50 racks of 20 servers; each server's eth0..eth3 go to its rack's two ToRs.
    const links: PlannedLink[] = [];
    const observed: ObservedNeighbour[] = [];
    const placements: NonNullable<CablingPlan['placements']>[number][] = [];
    const tor = (rack: number, side: number): { mac: string; name: string } => ({ mac: `02:00:00:00:${rack.toString(16).padStart(2, '0')}:0${side}`, name: `r${rack}-tor${side}` });
    for (let rack = 0; rack < 50; rack++) {
      for (const side of [0, 1]) placements.push({ chassisId: tor(rack, side).mac, systemName: tor(rack, side).name, rack: `r${rack}`, position: `tor${side}` });
      for (let s = 0; s < 20; s++) {
        for (let p = 0; p < 4; p++) {
          const t = tor(rack, p % 2);
          const port = `swp${s * 2 + (p >> 1) + 1}`;
          links.push({ device: `r${rack}-s${s}`, port: `eth${p}`, expected: { chassisId: t.mac, systemName: t.name, port } });
          observed.push(heard(`r${rack}-s${s}`, `eth${p}`, lldpdu(t.mac, t.name, port)));
        }
      }
    }
    // Rack 3 server 0: eth0/eth2 swapped; rack 7 server 5 eth1 hears rack 8's ToR; rack 9 server 9 eth3 silent.
    const at = (rack: number, s: number, p: number): number => (rack * 20 + s) * 4 + p;
    // Racks 20..29 were cabled with every server's eth0 and eth2 crossed: 400 mismatched ports,
    // so a per-port scan of the plan would show in the count of reads below.
    for (const [rack, s] of [[3, 0], ...Array.from({ length: 200 }, (_, i) => [20 + Math.floor(i / 20), i % 20])] as [number, number][]) {
      const [e0, e2] = [observed[at(rack, s, 0)]!, observed[at(rack, s, 2)]!];
      [e0.lldpdu, e2.lldpdu] = [e2.lldpdu, e0.lldpdu];
    }
    const moved = links[at(7, 5, 1)]!.expected;
    observed[at(7, 5, 1)]!.lldpdu = lldpdu(tor(8, 1).mac, tor(8, 1).name, moved.port);
    observed.splice(at(9, 9, 3), 1);

    let reads = 0;
    const counted = <T>(a: T[]): T[] =>
      new Proxy(a, {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    const findings = checkCabling({ links: counted(links), placements: counted(placements) }, counted(observed));
    // A lookup by scanning (find/filter per port) would read over a million elements.
    expect(reads).toBeLessThanOrEqual(4 * (links.length + observed.length + placements.length));
    const counts: Record<string, number> = {};
    for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
    expect(counts).toEqual({ ok: 3596, 'cable-swap': 402, 'swapped-rack': 1, 'missing-link': 1 });
    expect(findings[at(7, 5, 1)]).toMatchObject({ kind: 'swapped-rack', device: 'r7-s5', port: 'eth1', expectedRack: 'r7', seenRack: 'r8' });
    expect(findings[at(3, 0, 0)]).toMatchObject({ kind: 'cable-swap', swappedWith: 'eth2' });
  });
});
