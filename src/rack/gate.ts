import type { WaveSpec } from '../scenario/rack-schema.js';

/** What a wave's devices did, as its gate counts it. */
export interface WaveTally {
  devices: number;
  installed: number;
  /** Devices whose attestation passed. */
  attested: number;
  /** Planned links of the wave's devices, and how many of them the cabling check found ok. */
  links: number;
  linksOk: number;
}

export interface GateCheck {
  what: 'install-rate' | 'attest-rate' | 'cabling';
  ok: boolean;
  detail: string;
}

export interface GateDecision {
  ok: boolean;
  checks: GateCheck[];
}

/** A wave's gate: each threshold it sets, against what its devices did. */
export function decideGate(gate: WaveSpec['gate'], t: WaveTally): GateDecision {
  const checks: GateCheck[] = [];
  const rate = (n: number): number => (t.devices === 0 ? 1 : n / t.devices);
  const pct = (x: number): string => `${(x * 100).toFixed(1).replace(/\.0$/, '')} %`;
  const install = rate(t.installed);
  checks.push({ what: 'install-rate', ok: install >= gate.installRate, detail: `${t.installed}/${t.devices} installed (${pct(install)}), gate ${pct(gate.installRate)}` });
  if (gate.attestRate !== undefined) {
    const attest = rate(t.attested);
    checks.push({ what: 'attest-rate', ok: attest >= gate.attestRate, detail: `${t.attested}/${t.devices} attested (${pct(attest)}), gate ${pct(gate.attestRate)}` });
  }
  if (gate.cablingClean) checks.push({ what: 'cabling', ok: t.linksOk === t.links, detail: `${t.linksOk}/${t.links} planned links ok` });
  return { ok: checks.every((c) => c.ok), checks };
}
