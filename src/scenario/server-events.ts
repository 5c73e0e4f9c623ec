import type { EventBus } from '../event-bus.js';
import type { Dhcp4ServerEvent } from '../net/dhcp4/server-config.js';
import type { Dhcp6ServerEvent } from '../net/dhcp6/server.js';
import type { HttpConnectionEvent, HttpRequestEvent } from '../net/http-image-server.js';
import type { TftpServerEvent } from '../net/tftp/server.js';
import type { RouterAdvertEvent } from '../net/icmp6/router-advertiser.js';

/** What the DHCPv4, proxyDHCP and DHCPv6 servers' events have in common. */
type ServerEvent = Pick<Dhcp4ServerEvent, 'mac' | 'address' | 'className' | 'detail'> & Pick<Dhcp6ServerEvent, 'client'> & { type: string };

/** One log line per server event, the same in `bootlab run` and `bootlab serve`. */
function dhcpLine(label: string, e: ServerEvent): string {
  const who = e.mac ?? e.client;
  return `${label} ${e.type.slice(e.type.indexOf('.') + 1)}${who ? ` ${who}` : ''}${e.address ? ` ${e.address}` : ''}${e.className ? ` [${e.className}]` : ''}${
    e.detail ? `: ${e.detail}` : ''
  }`;
}

function httpLine(e: HttpRequestEvent): string {
  const headers = Object.entries(e.onieHeaders).map(([k, v]) => `${k}=${v}`);
  return `HTTP ${e.remote} ${e.method} ${e.path} ${e.status} ${e.bytes}${e.userAgent ? ` "${e.userAgent}"` : ''}${headers.length ? ` ${headers.join(' ')}` : ''}`;
}

/** Subscriber factories for the servers' `onEvent`: `show` decides which events reach the bus. */
export const publish = {
  dhcp: (bus: EventBus, label: string, show: (type: string) => boolean = () => true) => (e: ServerEvent) => {
    if (show(e.type)) bus.emit({ type: e.type, message: dhcpLine(label, e), data: { ...e } });
  },
  http: (bus: EventBus, show: () => boolean = () => true) => (e: HttpRequestEvent) => {
    if (show()) bus.emit({ type: e.type, message: httpLine(e), data: { ...e } });
  },
  /**
   * Refused and dropped connections, at most one line per kind a second (the next line says
   * how many were left out): a flood must not turn into a flood of log writes.
   */
  httpConnection: (bus: EventBus, now: () => number = Date.now) => {
    const last = new Map<string, { at: number; skipped: number }>();
    return (e: HttpConnectionEvent) => {
      const kind = `${e.type}:${e.reason}`;
      const t = now();
      const seen = last.get(kind);
      if (seen && t - seen.at < 1000) {
        seen.skipped++;
        return;
      }
      const skipped = seen?.skipped ?? 0;
      last.set(kind, { at: t, skipped: 0 });
      const more = skipped ? ` (+${skipped} more like it)` : '';
      bus.emit({ type: e.type, message: `HTTP ${e.type.slice(5)} ${e.reason}${e.remote ? ` ${e.remote}` : ''}: ${e.detail}${more}`, data: { ...e, skipped } });
    };
  },
  tftp: (bus: EventBus, show: (type: string) => boolean = () => true) => (e: TftpServerEvent) => {
    if (!show(e.type)) return;
    const line = `TFTP ${e.type.slice(5)}${e.remote ? ` ${e.remote}` : ''}${e.file ? ` ${e.file}` : ''}${e.bytes !== undefined ? ` ${e.bytes} bytes` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    bus.emit({ type: e.type, message: line, data: { ...e } });
  },
  ra: (bus: EventBus, show: (type: string) => boolean = () => true) => (e: RouterAdvertEvent) => {
    if (show(e.type)) bus.emit({ type: e.type, message: `RA ${e.type.slice(3)}${e.address ? ` ${e.address}` : ''}${e.detail ? `: ${e.detail}` : ''}`, data: { ...e } });
  },
};
