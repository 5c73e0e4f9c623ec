import type { FleetReport, ReportDevice } from './fleet-report.js';
import { duration, funnelLine, funnelOf } from './funnel.js';
import { STAGE_LABEL } from './stages.js';

export { percentile } from './funnel.js';

/** How many device ids a failure group names before "…". */
const IDS_SHOWN = 5;
/** How many failure groups the summary lists. */
const GROUPS_SHOWN = 10;

/**
 * The closing summary: the funnel (how many devices reached each stage and how long they
 * spent getting there from the stage before: p50/p95/max), installs per minute, what the
 * servers served, and the failures grouped by reason with the first few device ids.
 */
export function summaryLines(r: FleetReport): string[] {
  const n = r.devices.length;
  const lines: string[] = [];
  const shardNote = r.shards.count > 1 ? ` (shards ${r.shards.included.join(', ')} of ${r.shards.count}; fleet of ${r.fleetSize})` : '';
  lines.push(`${n} device${n === 1 ? '' : 's'}${shardNote} in ${seconds(r.wallMs)}`);
  lines.push(`  ${'stage'.padEnd(12)}${'devices'.padStart(12)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'max'.padStart(10)}   (time from the stage before)`);
  for (const row of funnelOf(r.devices)) {
    const cols = row.p50Ms === undefined ? '' : [row.p50Ms, row.p95Ms!, row.maxMs!].map((ms) => seconds(ms).padStart(10)).join('');
    lines.push(`  ${STAGE_LABEL[row.stage].padEnd(12)}${`${row.reached}/${n}`.padStart(12)}${cols}`);
  }
  const installed = r.devices.filter((d) => d.outcome === 'installed').length;
  const minutes = r.wallMs / 60_000;
  const rate = (bytes: number): string => (r.wallMs > 0 ? ` (${mib(bytes / (r.wallMs / 1000))}/s)` : '');
  lines.push(
    `  installs: ${installed}${minutes > 0 ? ` (${(installed / minutes).toFixed(1)}/min)` : ''} · served: HTTP ${mib(r.served.httpBytes)}${rate(r.served.httpBytes)}, TFTP ${mib(r.served.tftpBytes)}${rate(r.served.tftpBytes)}`,
  );
  if (r.bringUp) lines.push(...bringUpLines(r.bringUp, r.devices));
  const groups = failureGroups(r.devices);
  if (groups.length) {
    lines.push('  failures by reason:');
    for (const g of groups.slice(0, GROUPS_SHOWN)) {
      lines.push(`    ${g.ids.length} × ${g.reason}: ${g.ids.slice(0, IDS_SHOWN).join(', ')}${g.ids.length > IDS_SHOWN ? ', …' : ''}`);
    }
    if (groups.length > GROUPS_SHOWN) lines.push(`    … and ${groups.length - GROUPS_SHOWN} more reasons (see --report)`);
  }
  return lines;
}

/** Failed devices grouped by their first failed check, the largest group first. */
export function failureGroups(devices: readonly ReportDevice[]): Array<{ reason: string; ids: string[] }> {
  const groups = new Map<string, string[]>();
  for (const d of devices) {
    const first = d.checks.find((c) => !c.ok);
    if (!first) continue;
    const reason = `${first.what}: ${first.reason ?? first.detail}`;
    const ids = groups.get(reason) ?? [];
    ids.push(d.id);
    groups.set(reason, ids);
  }
  return [...groups].map(([reason, ids]) => ({ reason, ids })).sort((a, b) => b.ids.length - a.ids.length || a.reason.localeCompare(b.reason));
}

const seconds = duration;

function mib(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Per wave its timeline, gate and funnel, per rack its funnel, inventory and cabling findings (all but the ok links). */
function bringUpLines(b: NonNullable<FleetReport['bringUp']>, devices: readonly ReportDevice[]): string[] {
  const lines: string[] = [];
  for (const w of b.waves) {
    const gate = w.gate ? `: ${w.gate.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.what} ${c.detail}`).join('; ')}` : '';
    const when = w.startedMs !== undefined ? ` [${seconds(w.startedMs)} → ${seconds(w.endedMs ?? w.startedMs)}]` : '';
    lines.push(`  wave ${w.name}: ${w.status}${when} (${w.installed}/${w.devices} installed)${gate}`);
    if (w.status !== 'not-started') lines.push(`    funnel: ${funnelLine(funnelOf(devices.filter((d) => d.wave === w.name)), w.devices)}`);
  }
  if (b.halted) lines.push(`  rollout halted at wave ${b.halted.wave}: ${b.halted.reason}`);
  for (const r of b.racks) {
    const inv = Object.entries(r.inventory).map(([v, n]) => `${n} ${v}`).join(', ');
    const drops = Object.entries(r.relay.dropped).map(([why, n]) => `${n} ${why}`).join(', ');
    const rogue = Object.entries(r.rogueDhcp).map(([server, n]) => `${server} leased ${n} device${n === 1 ? '' : 's'}`).join(', ');
    lines.push(`  rack ${r.name} (${r.subnet}): ${r.installed}/${r.devices} installed; inventory: ${inv || 'nothing asked'}; relay: ${r.relay.relayedUp} up, ${r.relay.relayedDown} down${drops ? `, dropped ${drops}` : ''}${rogue ? `; rogue DHCP: ${rogue}` : ''}`);
    const mine = devices.filter((d) => d.rack === r.name && d.outcome !== 'not-started');
    if (mine.length) lines.push(`    funnel: ${funnelLine(funnelOf(mine), r.devices)}`);
    for (const c of r.cabling) if (c.kind !== 'ok') lines.push(`    ${c.port}: ${c.kind}: ${c.detail}`);
  }
  for (const c of [...b.checks, ...b.racks.flatMap((r) => r.checks)]) if (!c.ok) lines.push(`  ✗ ${c.what}: ${c.detail}`);
  return lines;
}
