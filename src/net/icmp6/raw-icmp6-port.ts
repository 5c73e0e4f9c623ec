import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BootlabError } from '../../errors.js';
import { RAW_ICMP6_SCRIPT } from './raw-icmp6-script.js';

/** An ICMPv6 message as it arrived: its link-local source and the hop limit it came with (-1: unknown). */
export interface Icmp6From {
  address: string;
  hopLimit: number;
}

/** Raw ICMPv6 on one interface: what Neighbor Discovery needs and node:dgram cannot do. */
export interface Icmp6Port {
  /** Queues one message to `address` (link-local or multicast, scoped to the port's interface). */
  send(bytes: Uint8Array, address: string): void;
  onMessage(fn: (bytes: Uint8Array, from: Icmp6From) => void): () => void;
  /** Problems after start (a send the kernel refused, the helper gone): reported, never thrown. */
  onProblem(fn: (message: string) => void): void;
  close(): Promise<void>;
}

export interface RawIcmp6Options {
  interface: string;
  /** ICMPv6 types to receive (the kernel filters the rest out). */
  accept: number[];
  /** Multicast groups to join on the interface, e.g. ff02::2 to hear Router Solicitations. */
  join: string[];
  /** Default `python3`. */
  python?: string;
  /** How long the helper may take to open its socket (default 5000 ms). */
  startMs?: number;
}

export type Icmp6PortFactory = (o: RawIcmp6Options) => Promise<Icmp6Port>;

const INSTALL = 'apt-get install python3-minimal';
/** A line longer than any ICMPv6 message in hex is not the helper speaking. */
const MAX_LINE = 2 * 65_535 + 128;

/**
 * Opens raw ICMPv6 through a supervised python3 helper (RAW_ICMP6_SCRIPT). The helper
 * dies with us: it exits when its stdin closes, and `close` kills it.
 */
export const openRawIcmp6: Icmp6PortFactory = (o) => {
  const child = spawn(o.python ?? 'python3', ['-c', RAW_ICMP6_SCRIPT, o.interface, o.accept.join(','), o.join.join(',')], { stdio: ['pipe', 'pipe', 'pipe'] });
  const where = `router advertisements on ${o.interface}`;
  return new Promise<Icmp6Port>((resolve, reject) => {
    let stderr = '';
    let started = false;
    const listeners = new Set<(bytes: Uint8Array, from: Icmp6From) => void>();
    const problems: Array<(m: string) => void> = [];
    const problem = (m: string): void => problems.forEach((fn) => fn(`${where}: ${m}`));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BootlabError('BL_SERVE_RAW', `${where}: the raw ICMPv6 helper did not start within ${o.startMs ?? 5000} ms`));
    }, o.startMs ?? 5000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (!started) stderr = (stderr + d).slice(-2000);
      else problem(d.trim());
    });
    child.stdin.on('error', () => undefined);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new BootlabError('BL_SERVE_RAW', e.code === 'ENOENT' ? `${where} need python3 for a raw ICMPv6 socket: ${INSTALL}` : `${where}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!started) {
        const why = stderr.trim().split('\n').at(-1) ?? `exit ${code ?? signal}`;
        const hint = /not permitted|permission/i.test(why) ? ' (raw sockets need root or CAP_NET_RAW)' : '';
        reject(new BootlabError('BL_SERVE_RAW', `${where}: cannot open a raw ICMPv6 socket: ${why}${hint}`));
      } else if (!closing) problem(`the raw ICMPv6 helper exited (${code ?? signal})`);
    });
    let closing = false;
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!started) {
        if (!line.startsWith('ready ')) return;
        started = true;
        clearTimeout(timer);
        resolve(port(child, listeners, problems, () => (closing = true)));
        return;
      }
      if (line.length > MAX_LINE) return;
      const [address, hops, hex] = line.split(' ');
      if (!address || hops === undefined || hex === undefined || !/^[0-9a-f]*$/.test(hex)) return problem(`unreadable helper line: ${line.slice(0, 60)}`);
      const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
      for (const fn of listeners) fn(bytes, { address, hopLimit: Number(hops) });
    });
  });
};

function port(child: ChildProcess, listeners: Set<(bytes: Uint8Array, from: Icmp6From) => void>, problems: Array<(m: string) => void>, markClosing: () => void): Icmp6Port {
  let closed: Promise<void> | undefined;
  return {
    send(bytes, address) {
      if (closed || !child.stdin?.writable) return;
      child.stdin.write(`${address} ${Buffer.from(bytes).toString('hex')}\n`);
    },
    onMessage(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onProblem(fn) {
      problems.push(fn);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        markClosing();
        listeners.clear();
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        // EOF ends the helper's loop after it has sent what was queued (a final advertisement).
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      });
      return closed;
    },
  };
}
