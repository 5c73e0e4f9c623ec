import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { getOption, readDomainList, readIp, readIpList, readString, readU16, readU32 } from '../../protocol/dhcp4/options.js';

type Format = 'ip' | 'ip-list' | 'string' | 'u8' | 'u16' | 'u32' | 's32' | 'hex' | 'domain-list';

/**
 * busybox udhcpc's option → variable table with ONIE's dhcp-additional-options patch
 * (logsrv, vendoropts, wwwsrv, url, vivso, tftpsiaddr), in the order fill_envp walks it.
 * Options not listed here are exported as `opt<N>` hex.
 */
const UDHCPC_VARIABLES: ReadonlyArray<readonly [code: number, name: string, format: Format]> = [
  [1, 'subnet', 'ip'],
  [2, 'timezone', 's32'],
  [3, 'router', 'ip-list'],
  [6, 'dns', 'ip-list'],
  [7, 'logsrv', 'ip-list'],
  [9, 'lprsrv', 'ip-list'],
  [12, 'hostname', 'string'],
  [13, 'bootsize', 'u16'],
  [15, 'domain', 'string'],
  [16, 'swapsrv', 'ip'],
  [17, 'rootpath', 'string'],
  [23, 'ipttl', 'u8'],
  [26, 'mtu', 'u16'],
  [28, 'broadcast', 'ip'],
  [40, 'nisdomain', 'string'],
  [41, 'nissrv', 'ip-list'],
  [42, 'ntpsrv', 'ip-list'],
  [43, 'vendoropts', 'hex'],
  [44, 'wins', 'ip-list'],
  [51, 'lease', 'u32'],
  [54, 'serverid', 'ip'],
  [56, 'message', 'string'],
  [66, 'tftp', 'string'],
  [67, 'bootfile', 'string'],
  [72, 'wwwsrv', 'ip-list'],
  [114, 'url', 'string'],
  [119, 'search', 'domain-list'],
  [125, 'vivso', 'hex'],
  [150, 'tftpsiaddr', 'ip-list'],
];

/**
 * What ONIE's `udhcp4_sd` hook sees of an ACK (fill_envp in busybox udhcpc), before it
 * prefixes every name with `onie_disco_`: ip, siaddr, boot_file, sname, then the table
 * above (subnet also yields `mask`), then `opt<N>` for the rest. Lists are
 * space-separated; empty values are dropped as udhcp4_sd drops them.
 */
export function onieDiscoVars(ack: Dhcp4Packet): Record<string, string> {
  const vars: Record<string, string> = {};
  const put = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') vars[name] = value;
  };
  put('ip', ack.yiaddr);
  if (ack.siaddr !== '0.0.0.0') put('siaddr', ack.siaddr);
  // The decoder already empties file/sname when option 52 used them for options.
  put('boot_file', ack.file);
  put('sname', ack.sname);

  const known = new Set<number>();
  for (const [code, name, format] of UDHCPC_VARIABLES) {
    const data = getOption(ack, code);
    if (!data) continue;
    known.add(code);
    put(name, formatValue(data, format));
    if (code === 1 && data.length === 4) put('mask', String(prefixLength(data)));
  }
  const unknown = ack.options.filter((o) => !known.has(o.code)).sort((a, b) => a.code - b.code);
  for (const o of unknown) put(`opt${o.code}`, hex(o.data));
  return vars;
}

function formatValue(data: Uint8Array, format: Format): string | undefined {
  switch (format) {
    case 'ip':
      return readIp(data.subarray(0, 4));
    case 'ip-list':
      return readIpList(data.subarray(0, data.length - (data.length % 4)))?.join(' ');
    case 'string':
      return readString(data);
    case 'u8':
      return data.length >= 1 ? String(data[0]) : undefined;
    case 'u16':
      return mapDefined(readU16(data.subarray(0, 2)), String);
    case 'u32':
      return mapDefined(readU32(data.subarray(0, 4)), String);
    case 's32':
      return mapDefined(readU32(data.subarray(0, 4)), (v) => String(v | 0));
    case 'hex':
      return hex(data);
    case 'domain-list':
      return readDomainList(data)?.join(' ');
  }
}

/** busybox's mton: leading one bits of the mask. */
function prefixLength(mask: Uint8Array): number {
  let v = (((mask[0]! << 24) | (mask[1]! << 16) | (mask[2]! << 8) | mask[3]!) >>> 0) as number;
  let n = 0;
  while (v !== 0) {
    n++;
    v = (v << 1) >>> 0;
  }
  return n;
}

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

function mapDefined<T>(v: number | undefined, f: (n: number) => T): T | undefined {
  return v === undefined ? undefined : f(v);
}
