import type { DeviceExpectation } from './schema.js';
import type { InventoryVerdict } from './rack-schema.js';

/** What one device did in a run, as the report and the expectations see it. */
export interface DeviceResult {
  id: string;
  /** The JUnit testsuite (template name) and the device's place in the whole fleet. */
  suite: string;
  index: number;
  /** not-started: its wave never powered on, because an earlier wave's gate failed. */
  outcome: 'installed' | 'gave-up' | 'halted' | 'timed-out' | 'not-started';
  /** Where the rack plan puts it, and the wave that powered it on. */
  rack?: string;
  position?: string;
  wave?: string;
  /** The inventory's verdict, for a device that asks through a rack's relay. */
  inventory?: { verdict: InventoryVerdict; detail: string };
  /** Times its power was cut and came back during the run. */
  powerLosses?: number;
  /** Server identifiers of DHCP servers other than the run's that it took a lease from. */
  rogueDhcp?: string[];
  /** Name of the scenario image that was installed (matched by sha256), if any. */
  installedImage?: string;
  installedUrl?: string;
  haltReason?: string;
  rejections: Array<{ url: string; reason: string; detail: string }>;
  /** Each installer it ran and how that ended: `exit N`, or `timed-out` (a hung installer killed by onie.installerTimeout). */
  installerRuns?: Array<{ url: string; verdict: string }>;
  passes: number;
  durationMs: number;
  /** The verifier's verdict; `failed` names the checks that did not hold. */
  attestation?: { ok: boolean; failed: string[] };
  /** What the TPM did with the secret sealed to the golden boot, when the scenario has one. */
  secret?: { released: boolean; detail: string };
  /** A failed device's last console lines. */
  consoleTail?: string[];
}

export interface ExpectationCheck {
  what: string;
  ok: boolean;
  detail: string;
  /** What failures are grouped by, when `detail` carries per-device numbers. */
  reason?: string;
}

export function checkExpectations(expect: DeviceExpectation, r: DeviceResult): ExpectationCheck[] {
  const checks: ExpectationCheck[] = [];
  const installed = r.outcome === 'installed';
  checks.push({
    what: 'outcome',
    ok: (expect.outcome === 'installed') === installed,
    detail: `expected ${expect.outcome}, device ${installed ? 'installed' : r.outcome}${r.haltReason ? ` (${r.haltReason})` : ''}`,
  });
  if (expect.image !== undefined) {
    checks.push({
      what: 'image',
      ok: r.installedImage === expect.image,
      detail: `expected ${expect.image}, installed ${r.installedImage ?? (installed ? 'an unknown image' : 'nothing')}`,
    });
  }
  if (expect.rejected !== undefined) {
    const got = r.rejections.map((x) => x.reason);
    checks.push({
      what: 'rejected',
      ok: got.length === expect.rejected.length && got.every((g, i) => g === expect.rejected![i]),
      detail: `expected [${expect.rejected.join(', ')}], got [${got.join(', ')}]`,
    });
  }
  if (expect.installerRuns !== undefined) {
    const got = (r.installerRuns ?? []).map((x) => x.verdict);
    checks.push({
      what: 'installerRuns',
      ok: got.length === expect.installerRuns.length && got.every((g, i) => g === expect.installerRuns![i]),
      detail: `expected [${expect.installerRuns.join(', ')}], got [${got.join(', ')}]`,
    });
  }
  if (expect.attestation !== undefined) {
    const verdict = r.attestation === undefined ? 'not run' : r.attestation.ok ? 'pass' : 'fail';
    checks.push({
      what: 'attestation',
      ok: verdict === expect.attestation,
      detail: `expected ${expect.attestation}, verifier said ${verdict}${
        r.attestation && !r.attestation.ok ? ` (${r.attestation.failed.join(', ')})` : ''
      }`,
    });
  }
  if (expect.secret !== undefined) {
    const got = r.secret === undefined ? 'not sealed' : r.secret.released ? 'released' : 'withheld';
    checks.push({ what: 'secret', ok: got === expect.secret, detail: `expected ${expect.secret}, TPM ${got}${r.secret && !r.secret.released ? ` (${r.secret.detail})` : ''}` });
  }
  if (expect.inventory !== undefined) {
    const got = r.inventory?.verdict ?? 'not-seen';
    checks.push({ what: 'inventory', ok: got === expect.inventory, detail: `expected ${expect.inventory}, inventory said ${got}${r.inventory ? ` (${r.inventory.detail})` : ''}`, reason: `expected ${expect.inventory}, inventory said ${got}` });
  }
  if (expect.powerLosses !== undefined) {
    const got = r.powerLosses ?? 0;
    checks.push({ what: 'powerLosses', ok: got === expect.powerLosses, detail: `expected ${expect.powerLosses}, power cut ${got} time${got === 1 ? '' : 's'}` });
  }
  if (expect.rogueDhcp !== undefined) {
    const took = r.rogueDhcp ?? [];
    checks.push({
      what: 'rogueDhcp',
      ok: expect.rogueDhcp === took.length > 0,
      detail: `expected ${expect.rogueDhcp ? 'a lease from a rogue server' : 'leases from the run\'s server only'}, ${took.length ? `leased from ${took.join(', ')}` : 'leased from the run\'s server only'}`,
    });
  }
  if (expect.within !== undefined) {
    checks.push({
      what: 'within',
      ok: r.durationMs <= expect.within && r.outcome !== 'timed-out',
      detail: `budget ${expect.within} ms, took ${r.durationMs} ms`,
      reason: r.outcome === 'timed-out' ? `no final state within the budget of ${expect.within} ms` : `over the budget of ${expect.within} ms`,
    });
  }
  return checks;
}
