import type { EventBus } from '../event-bus.js';
import { checkCabling, type CablingFinding } from '../rack/cabling.js';
import { decideGate, type GateDecision } from '../rack/gate.js';
import { cablingPlanOf, heardOnSwitches, type Announcer } from '../rack/lldp-fabric.js';
import type { RackPlan } from '../rack/plan.js';
import { concurrencyLimit } from './concurrency-limit.js';
import type { DeviceResult, ExpectationCheck } from './expectations.js';
import type { RackRelayReport } from './rack-segments.js';
import type { RackSpec, RolloutSpec, WaveSpec } from './rack-schema.js';
import type { ScenarioDevice } from './schema.js';

export type CheckedResult = DeviceResult & { checks: ExpectationCheck[] };

export interface WaveReport {
  name: string;
  devices: number;
  status: 'passed' | 'failed' | 'not-started';
  installed: number;
  attested: number;
  gate?: GateDecision;
  /** Its timeline, in ms since the run started: powered on at, gate decided at. */
  startedMs?: number;
  endedMs?: number;
}

export interface CablingLine {
  /** The switch port, `switch:port`. */
  port: string;
  kind: CablingFinding['kind'];
  detail: string;
}

export interface RackReport {
  name: string;
  subnet: string;
  devices: number;
  installed: number;
  /** Inventory verdicts by name, with how many devices got each. */
  inventory: Record<string, number>;
  relay: { relayedUp: number; relayedDown: number; dropped: Record<string, number> };
  /** Servers other than the run's that leased the rack's devices (a rogue on its segment): server id → devices. */
  rogueDhcp: Record<string, number>;
  cabling: CablingLine[];
  checks: ExpectationCheck[];
}

/** Per wave and per rack: what the bring-up did and whether it is what the scenario states. */
export interface BringUpReport {
  waves: WaveReport[];
  halted?: { wave: string; reason: string };
  racks: RackReport[];
  /** The rollout's own checks (halted where expected, or not at all). */
  checks: ExpectationCheck[];
}

export interface RolloutInput {
  devices: readonly ScenarioDevice[];
  rollout: RolloutSpec | undefined;
  racks: readonly RackSpec[];
  plan: RackPlan | undefined;
  concurrency: number;
  boot: (d: ScenarioDevice, wave: string | undefined) => Promise<CheckedResult>;
  announcerOf: (id: string) => Announcer;
  relayStats: () => RackRelayReport[];
  bus: EventBus;
}

/**
 * Powers the fleet on wave by wave: each wave at its own concurrency, then its gate
 * (install rate, attestation rate, the cabling of its devices as LLDP shows it); a failed
 * gate halts the rollout and every later wave is reported as not started. Without a
 * rollout the whole fleet is one wave with no gate, as before racks existed.
 */
export async function runRollout(input: RolloutInput): Promise<{ results: CheckedResult[]; bringUp?: BringUpReport }> {
  const { devices, rollout, plan, bus } = input;
  const byId = new Map(devices.map((d) => [d.id, d] as const));
  const waves: Array<{ spec?: WaveSpec; members: ScenarioDevice[] }> = rollout
    ? rollout.waves.map((w) => ({ spec: w, members: membersOf(w, input.racks, byId) }))
    : [{ members: [...devices] }];
  const results = new Map<string, CheckedResult>();
  const installed = new Map<string, Announcer>();
  const cablingPlan = plan ? cablingPlanOf(plan.uplinks, plan.placements) : undefined;
  const swaps = input.racks.flatMap((r) => r.cableSwaps);
  const findingsNow = (): CablingFinding[] => (cablingPlan ? checkCabling(cablingPlan, heardOnSwitches(plan!.uplinks, swaps, installed)) : []);
  const waveReports: WaveReport[] = [];
  let halted: BringUpReport['halted'];
  const expectHalt = rollout?.expect.haltedAt;

  for (const w of waves) {
    const name = w.spec?.name;
    if (halted) {
      for (const d of w.members) results.set(d.id, notStarted(d, name!, halted, expectHalt));
      waveReports.push({ name: name!, devices: w.members.length, status: 'not-started', installed: 0, attested: 0 });
      continue;
    }
    const startedMs = name !== undefined ? bus.emit({ type: 'wave.start', message: `wave ${name}: powering on ${w.members.length} device${w.members.length === 1 ? '' : 's'}`, data: { wave: name } }).at : 0;
    const admit = concurrencyLimit(w.spec?.concurrency ?? input.concurrency);
    const done = await Promise.all(w.members.map((d) => admit(() => input.boot(d, name))));
    for (const r of done) {
      results.set(r.id, r);
      if (r.outcome === 'installed' && plan?.placement.get(r.id)?.position !== undefined) installed.set(r.id, input.announcerOf(r.id));
    }
    if (!w.spec) continue;
    const members = new Set(w.members.map((d) => d.id));
    const mine = findingsNow().filter((f) => members.has(f.expected.systemName ?? ''));
    const tally = {
      devices: done.length,
      installed: done.filter((r) => r.outcome === 'installed').length,
      attested: done.filter((r) => r.attestation?.ok === true).length,
      links: mine.length,
      linksOk: mine.filter((f) => f.kind === 'ok').length,
    };
    const gate = decideGate(w.spec.gate, tally);
    const said = gate.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.what} ${c.detail}`).join('; ');
    const endedMs = bus.emit({ type: 'wave.gate', message: `wave ${w.spec.name}: gate ${gate.ok ? 'passed' : 'FAILED'}: ${said}`, data: { wave: w.spec.name, gate } }).at;
    waveReports.push({ name: w.spec.name, devices: done.length, status: gate.ok ? 'passed' : 'failed', installed: tally.installed, attested: tally.attested, gate, startedMs, endedMs });
    if (!gate.ok) {
      halted = { wave: w.spec.name, reason: gate.checks.filter((c) => !c.ok).map((c) => `${c.what}: ${c.detail}`).join('; ') };
      bus.emit({ type: 'rollout.halted', message: `rollout halted at wave ${w.spec.name}: ${halted.reason}`, data: halted });
    }
  }

  const ordered = devices.map((d) => results.get(d.id)!);
  if (!plan && !rollout) return { results: ordered };
  const findings = findingsNow();
  const racks = plan ? rackReports(input.racks, plan, findings, ordered, input.relayStats()) : [];
  const checks: ExpectationCheck[] = [];
  if (rollout) {
    const got = halted ? `halted at ${halted.wave}` : 'every gate passed';
    const want = expectHalt !== undefined ? `halted at ${expectHalt}` : 'every gate passed';
    checks.push({ what: 'rollout', ok: got === want, detail: `expected ${want}, ${got}${halted ? ` (${halted.reason})` : ''}` });
  }
  return { results: ordered, bringUp: { waves: waveReports, ...(halted ? { halted } : {}), racks, checks } };
}

function membersOf(w: WaveSpec, racks: readonly RackSpec[], byId: ReadonlyMap<string, ScenarioDevice>): ScenarioDevice[] {
  const ids: string[] = [];
  for (const name of w.racks) {
    const r = racks.find((x) => x.name === name)!;
    ids.push(...r.positions.map((p) => p.device), ...r.unplanned.map((u) => u.device));
  }
  ids.push(...w.devices);
  return ids.map((id) => byId.get(id)!);
}

function notStarted(d: ScenarioDevice, wave: string, halted: { wave: string; reason: string }, expectHalt: string | undefined): CheckedResult {
  return {
    id: d.id,
    suite: d.suite,
    index: d.index,
    outcome: 'not-started',
    wave,
    rejections: [],
    passes: 0,
    durationMs: 0,
    // Not starting is right exactly when the scenario says the rollout halts where it did.
    checks: [{ what: 'started', ok: expectHalt === halted.wave, detail: `not powered on: the rollout halted at wave ${halted.wave}`, reason: `rollout halted at wave ${halted.wave}` }],
  };
}

function rackReports(racks: readonly RackSpec[], plan: RackPlan, findings: readonly CablingFinding[], results: readonly CheckedResult[], relays: RackRelayReport[]): RackReport[] {
  const rackOfDevice = new Map([...plan.placement].map(([id, p]) => [id, p.rack] as const));
  return racks.map((spec) => {
    const mine = results.filter((r) => rackOfDevice.get(r.id) === spec.name);
    const inventory: Record<string, number> = {};
    for (const r of mine) {
      const v = r.inventory?.verdict ?? (r.outcome === 'not-started' ? 'not-started' : 'not-seen');
      inventory[v] = (inventory[v] ?? 0) + 1;
    }
    const rogueDhcp: Record<string, number> = {};
    for (const r of mine) for (const server of r.rogueDhcp ?? []) rogueDhcp[server] = (rogueDhcp[server] ?? 0) + 1;
    const cabling = findings.filter((f) => rackOfDevice.get(f.expected.systemName ?? '') === spec.name).map(cablingLine);
    const checks = cabling.map((c): ExpectationCheck => {
      const want = spec.expect.cabling[c.port] ?? 'ok';
      return { what: `cabling ${c.port}`, ok: c.kind === want, detail: `expected ${want}, found ${c.kind}: ${c.detail}` };
    });
    const relay = relays.find((x) => x.rack === spec.name)?.stats;
    return {
      name: spec.name,
      subnet: spec.subnet,
      devices: mine.length,
      installed: mine.filter((r) => r.outcome === 'installed').length,
      inventory,
      relay: { relayedUp: relay?.relayedUp ?? 0, relayedDown: relay?.relayedDown ?? 0, dropped: { ...(relay?.dropped ?? {}) } },
      rogueDhcp,
      cabling,
      checks,
    };
  });
}

function cablingLine(f: CablingFinding): CablingLine {
  const port = `${f.device}:${f.port}`;
  const want = `${f.expected.systemName}:${f.expected.port}`;
  const seen = 'seen' in f ? `${f.seen.systemName ?? f.seen.chassisId}:${f.seen.port}` : '';
  switch (f.kind) {
    case 'ok':
      return { port, kind: f.kind, detail: `hears ${seen}` };
    case 'missing-link':
      return { port, kind: f.kind, detail: `hears nothing; planned ${want}` };
    case 'cable-swap':
      return { port, kind: f.kind, detail: `hears ${seen}, planned ${want}: crossed with ${f.device}:${f.swappedWith}` };
    case 'swapped-rack':
      return { port, kind: f.kind, detail: `hears ${seen} (${f.position} of rack ${f.seenRack}), planned ${want} of rack ${f.expectedRack}` };
    case 'wrong-partner':
      return { port, kind: f.kind, detail: `hears ${seen}, planned ${want}${f.plannedFor ? ` (${seen} is planned at ${f.plannedFor.device}:${f.plannedFor.port})` : ' (planned nowhere)'}` };
  }
}
