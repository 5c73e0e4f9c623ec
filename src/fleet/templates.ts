import { identitySchema, MAX_TEMPLATE_COUNT, type DeviceEntry } from '../scenario/device-schema.js';
import type { ScenarioDevice, ScenarioFile } from '../scenario/schema.js';
import { formatMac, parseNamePattern, type NamePattern } from './name-pattern.js';

type Fail = (path: (string | number)[], message: string) => never;

const ID = /^[A-Za-z0-9._-]+$/;
const TEXT_FIELDS = ['serial', 'arch', 'machine', 'switchAsic', 'onieVersion', 'partNumber', 'productName'] as const;

/**
 * The fleet, one entry per device: each template's `count` devices numbered from `start`,
 * their id and identity patterns filled in and checked as if written by hand, in file order.
 * Problems point at the entry and field in the file (and name the device).
 */
export function expandFleet(s: ScenarioFile, fail: Fail): ScenarioDevice[] {
  const total = s.devices.reduce((sum, e) => sum + (e.count ?? 1), 0);
  if (total > MAX_TEMPLATE_COUNT) fail(['devices'], `${total} devices; a run holds at most ${MAX_TEMPLATE_COUNT} (shard it: --shard i/n)`);
  const devices: ScenarioDevice[] = [];
  const seen = new Map<string, number>();
  // A fleet with two devices on one MAC or serial is a typo in a pattern, not a test case.
  const unique = { mac: new Map<string, string>(), serial: new Map<string, string>() };
  s.devices.forEach((entry, e) => {
    const patterns = compile(entry, e, fail);
    const count = entry.count ?? 1;
    if (count > 1 && !patterns.id.varies) fail(['devices', e, 'id'], `a template of ${count} devices needs {n} in its id (e.g. ${entry.id}-{n:03})`);
    const start = entry.start ?? 1;
    const suite = entry.template ?? (entry.count !== undefined ? entry.id : s.name);
    const overrides = definedOnly(entry.trust ?? {});
    const trust = { ...s.trust, ...overrides };
    const trustOverrides = Object.keys(overrides) as (keyof typeof trust)[];
    for (let k = 0; k < count; k++) {
      const n = start + k;
      const id = patterns.id.format(n);
      if (!ID.test(id)) fail(['devices', e, 'id'], `device ${n} gets id "${id}": device ids are file-name safe (letters, digits, . _ -)`);
      const other = seen.get(id);
      if (other !== undefined) fail(['devices', e, 'id'], `duplicate device id "${id}"${other === e ? '' : ` (also made by devices.${other})`}`);
      seen.set(id, e);
      const identity = identityOf(entry, patterns, n, id, e, fail);
      for (const key of ['mac', 'serial'] as const) {
        const value = identity[key];
        if (value === undefined) continue;
        const owner = unique[key].get(value.toLowerCase());
        if (owner !== undefined) fail(['devices', e, 'identity', key], `device ${id} has the ${key} ${value} of device ${owner}`);
        unique[key].set(value.toLowerCase(), id);
      }
      devices.push({ id, identity, tpm: entry.tpm, expect: entry.expect, ...(entry.faults ? { faults: entry.faults } : {}), ...(entry.timing ? { timing: entry.timing } : {}), trust, trustOverrides, suite, index: devices.length, entry: e });
    }
  });
  return devices;
}

interface Compiled {
  id: NamePattern;
  fields: Array<[key: (typeof TEXT_FIELDS)[number] | 'mac', pattern: NamePattern]>;
}

function compile(entry: DeviceEntry, e: number, fail: Fail): Compiled {
  const parse = (text: string, path: (string | number)[]): NamePattern => {
    try {
      return parseNamePattern(text);
    } catch (err) {
      return fail(path, (err as Error).message);
    }
  };
  const fields: Compiled['fields'] = [];
  for (const key of [...TEXT_FIELDS, 'mac'] as const) {
    const text = entry.identity[key];
    if (text !== undefined) fields.push([key, parse(text, ['devices', e, 'identity', key])]);
  }
  return { id: parse(entry.id, ['devices', e, 'id']), fields };
}

function identityOf(entry: DeviceEntry, patterns: Compiled, n: number, id: string, e: number, fail: Fail): ScenarioDevice['identity'] {
  const raw: Record<string, unknown> = {};
  if (entry.identity.vendorId !== undefined) raw['vendorId'] = entry.identity.vendorId;
  if (entry.identity.machineRev !== undefined) raw['machineRev'] = entry.identity.machineRev;
  for (const [key, pattern] of patterns.fields) {
    try {
      raw[key] = key === 'mac' ? formatMac(pattern, n) : pattern.format(n);
    } catch (err) {
      fail(['devices', e, 'identity', key], (err as Error).message);
    }
  }
  const checked = identitySchema.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    fail(['devices', e, 'identity', ...issue.path.filter((k): k is string => typeof k === 'string')], `device ${id}: ${issue.message}`);
  }
  return checked.data;
}

function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
