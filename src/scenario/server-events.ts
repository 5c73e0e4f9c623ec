import type { EventBus } from '../event-bus.js';
import type { Dhcp4ServerEvent } from '../net/dhcp4/server-config.js';
import type { Dhcp6ServerEvent } from '../net/dhcp6/server.js';
import type { HttpRequestEvent } from '../net/http-image-server.js';
import type { TftpServerEvent } from '../net/tftp/server.js';

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
  tftp: (bus: EventBus, show: (type: string) => boolean = () => true) => (e: TftpServerEvent) => {
    if (!show(e.type)) return;
    const line = `TFTP ${e.type.slice(5)}${e.remote ? ` ${e.remote}` : ''}${e.file ? ` ${e.file}` : ''}${e.bytes !== undefined ? ` ${e.bytes} bytes` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    bus.emit({ type: e.type, message: line, data: { ...e } });
  },
};
