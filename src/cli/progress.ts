import type { BusEvent } from '../event-bus.js';

/**
 * The run's progress as plain lines, one per event worth a human's attention.
 * Packet-level events, each candidate attempt (a failure or a fetch names its URL anyway)
 * and installer output stay in the JSON-lines log unless `verbose`.
 */
const QUIET = new Set(['candidate.trying', 'dhcp.discover', 'dhcp.offer', 'dhcp.request', 'dhcp.ack', 'http.request', 'dhcp.client.send', 'dhcp.client.receive', 'installer.output', 'tpm.extend']);

export function progressPrinter(write: (line: string) => void, opts: { verbose?: boolean } = {}): (e: BusEvent) => void {
  return (e) => {
    if (!opts.verbose && QUIET.has(e.type)) return;
    const t = (e.at / 1000).toFixed(2).padStart(7);
    const who = e.device ? `${e.device} ` : '';
    write(`${t}s  ${who}${e.message}`);
  };
}
