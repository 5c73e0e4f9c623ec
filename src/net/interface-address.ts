import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { sleep, type Clock, ScaledClock } from '../clock.js';
import { BootlabError } from '../errors.js';

/** What the system says about one interface by name; undefined: there is none. */
export interface InterfaceState {
  ipv4: string[];
}

/** Finds one interface by name; `names` lists them all, for an error that says what there is. */
export type InterfaceLookup = ((name: string) => Promise<InterfaceState | undefined>) & { names?: () => Promise<string[]> };

/** A table as os.networkInterfaces() returns it (tests, and systems other than Linux). */
export type InterfaceTable = ReturnType<typeof networkInterfaces>;

/**
 * Looks interfaces up as the system has them. os.networkInterfaces() (libuv's getifaddrs)
 * leaves out every interface that is not up and running, so a bridge whose ports have no
 * carrier yet (QEMU has not opened its tap) looks absent although it exists and holds its
 * address. On Linux the interface is taken from /sys/class/net and its addresses from
 * `ip -j -4 addr`, which list it regardless of carrier.
 */
export function systemInterfaceLookup(platform: NodeJS.Platform = process.platform): InterfaceLookup {
  if (platform !== 'linux') return tableLookup(() => networkInterfaces());
  const find = async (name: string): Promise<InterfaceState | undefined> => {
    if (!/^[^/\s]{1,15}$/.test(name) || name === '.' || name === '..') return undefined;
    try {
      await access(`/sys/class/net/${name}`);
    } catch {
      return undefined;
    }
    const ipv4 = await ipAddrShow(name).catch(() => undefined);
    // Without iproute2 the table is all there is: it holds the interface once it has carrier.
    return { ipv4: ipv4 ?? (networkInterfaces()[name] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address) };
  };
  return Object.assign(find, { names: () => readdir('/sys/class/net') });
}

/** A lookup over a fixed or freshly read table. */
export function tableLookup(read: () => InterfaceTable): InterfaceLookup {
  const find = async (name: string): Promise<InterfaceState | undefined> => {
    const list = read()[name];
    return list ? { ipv4: list.filter((a) => a.family === 'IPv4').map((a) => a.address) } : undefined;
  };
  return Object.assign(find, { names: async () => Object.keys(read()) });
}

function ipAddrShow(name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', '-4', 'addr', 'show', 'dev', name], { timeout: 5000 }, (err, stdout) => {
      if (err) return reject(err);
      try {
        const links = JSON.parse(stdout) as Array<{ addr_info?: Array<{ family?: string; local?: string }> }>;
        resolve(links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && typeof a.local === 'string').map((a) => a.local!)));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

export interface InterfaceWait {
  /** How long to wait for an IPv4 address on an interface that exists (0: not at all). */
  waitMs: number;
  /** Between two looks. */
  pollMs?: number;
  clock?: Clock;
  /** Told once when the wait starts, so the operator sees why nothing is served yet. */
  onWait?: (message: string) => void;
}

/** The default wait for an interface's first IPv4 address: long enough for a link to come up and DHCP or NetworkManager to address it. */
export const DEFAULT_INTERFACE_WAIT_MS = 30_000;

/**
 * The first IPv4 address of `name`. An interface that does not exist is an error at once;
 * one that exists without an IPv4 address is looked at again every `pollMs` until `waitMs`
 * has passed, as dnsmasq starts on such an interface and answers once it is addressed.
 */
export async function interfaceIpv4(name: string, lookup: InterfaceLookup, wait: InterfaceWait): Promise<string> {
  const clock = wait.clock ?? new ScaledClock(1);
  const pollMs = wait.pollMs ?? 500;
  let state = await lookup(name);
  if (!state) {
    const known = (await lookup.names?.().catch(() => [])) ?? [];
    throw new BootlabError('BL_CLI_INPUT', `--interface ${name}: no such interface${known.length ? ` (have: ${known.join(', ')})` : ''}`);
  }
  let waited = 0;
  if (state.ipv4.length === 0 && wait.waitMs > 0) {
    wait.onWait?.(`--interface ${name}: no IPv4 address yet, waiting up to ${Math.round(wait.waitMs / 1000)}s for one`);
    while (state && state.ipv4.length === 0 && waited < wait.waitMs) {
      const step = Math.min(pollMs, wait.waitMs - waited);
      await sleep(clock, step);
      waited += step;
      state = await lookup(name);
    }
    if (!state) throw new BootlabError('BL_CLI_INPUT', `--interface ${name}: the interface went away while waiting for its IPv4 address`);
  }
  const first = state.ipv4[0];
  if (first === undefined) {
    const after = waited > 0 ? ` after waiting ${Math.round(waited / 1000)}s` : '';
    throw new BootlabError('BL_CLI_INPUT', `--interface ${name}: it has no IPv4 address to serve from${after} (add one, e.g. ip addr add 10.0.0.1/24 dev ${name}, or give --server-id)`);
  }
  return first;
}
