import { parseNamePattern, type NamePattern } from '../fleet/name-pattern.js';
import { positionSchema, type RackSpec } from '../scenario/rack-schema.js';

type Fail = (path: (string | number)[], message: string) => never;

/**
 * The racks with their `fill` entries written out as positions: each fill takes its
 * template's next devices (fleet order) that no position names and no earlier fill took,
 * and gives each the position, management port and uplinks its patterns make. Every
 * position made is checked as if written by hand; a problem names the fill and the device.
 */
export function fillPositions(racks: readonly RackSpec[], devices: ReadonlyArray<{ id: string; suite: string }>, fail: Fail): RackSpec[] {
  const taken = new Set<string>();
  for (const r of racks) {
    for (const p of r.positions) taken.add(p.device);
    for (const u of r.unplanned) taken.add(u.device);
  }
  const bySuite = new Map<string, string[]>();
  for (const d of devices) {
    const list = bySuite.get(d.suite) ?? [];
    list.push(d.id);
    bySuite.set(d.suite, list);
  }
  return racks.map((r, i) => {
    if (r.positions.length === 0 && r.fill.length === 0) fail(['racks', i, 'positions'], `rack ${r.name} has no positions: write positions or a fill from a template`);
    if (r.fill.length === 0) return r;
    const positions = [...r.positions];
    r.fill.forEach((f, j) => {
      const at = ['racks', i, 'fill', j];
      const pool = bySuite.get(f.template);
      if (!pool) fail([...at, 'template'], `no device template "${f.template}" (have: ${[...bySuite.keys()].join(', ')})`);
      const free = pool.filter((id) => !taken.has(id));
      const count = f.count ?? free.length;
      if (free.length < count) fail([...at, 'count'], `template ${f.template} has ${free.length} devices left to place, not ${count}`);
      if (count === 0) fail([...at, 'template'], `every device of template ${f.template} is already placed`);
      const pattern = (text: string, field: (string | number)[]): NamePattern => {
        try {
          const p = parseNamePattern(text);
          if (count > 1 && !p.varies) fail([...at, ...field], `${count} positions need {n} in "${text}" to differ`);
          return p;
        } catch (e) {
          return fail([...at, ...field], (e as Error).message);
        }
      };
      const position = pattern(f.position, ['position']);
      const mgmt = pattern(f.mgmt, ['mgmt']);
      const uplinks = Object.entries(f.uplinks).map(([port, to]) => [port, pattern(to, ['uplinks', port])] as const);
      for (let k = 0; k < count; k++) {
        const n = f.start + k;
        const device = free[k]!;
        taken.add(device);
        const made = positionSchema.safeParse({ position: position.format(n), device, mgmt: mgmt.format(n), uplinks: Object.fromEntries(uplinks.map(([port, p]) => [port, p.format(n)])) });
        if (!made.success) {
          const issue = made.error.issues[0]!;
          fail([...at, ...issue.path.map((x) => (typeof x === 'symbol' ? String(x) : x))], `device ${device} (n=${n}): ${issue.message}`);
        }
        positions.push(made.data);
      }
    });
    return { ...r, positions };
  });
}
