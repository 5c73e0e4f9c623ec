import { stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { parseIpv4 } from '../protocol/dhcp4/packet.js';

/**
 * Checks of `bootlab serve` inputs that the schemas cannot make: each names the flag (or
 * the config key) so the operator sees where to look, before any socket is opened.
 */

/** A directory to serve or to write into must exist and be a directory (a file is not "served"). */
export async function checkServeDir(label: string, path: string): Promise<void> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${label} ${path}: ${e.code === 'ENOENT' ? 'no such directory' : (e.code ?? e.message)}`);
  });
  if (!s.isDirectory()) throw new UsageError(`${label} ${path}: not a directory`);
}

const toU32 = (ip: string): number => {
  const b = parseIpv4(ip)!;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
};

/**
 * A lease range runs forward and lies inside one subnet of its mask: a range that crosses
 * the mask would hand out a network or broadcast address and addresses a client cannot
 * reach without a router.
 */
export function checkDhcpRange(range: { start: string; end: string }, mask: string, labels: { range: string; mask: string }): void {
  const start = toU32(range.start);
  const end = toU32(range.end);
  const where = `${labels.range} ${range.start}-${range.end}`;
  if (start > end) throw new UsageError(`${where}: start is after end (give the lower address first)`);
  const m = toU32(mask);
  // Contiguous ones, then zeros: ~m + 1 is a power of two (or 0 for /0).
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) throw new UsageError(`${labels.mask} ${mask}: not a subnet mask (ones, then zeros)`);
  if ((start & m) >>> 0 !== (end & m) >>> 0) {
    const bits = 32 - Math.log2(inv + 1);
    throw new UsageError(`${where} is wider than ${labels.mask} ${mask} (/${bits}): both ends must be in one subnet`);
  }
}

/** The schemes ONIE's url_run fetches (http, https and ftp by wget, tftp by tftp): option 114 is used as given. */
const ONIE_URL_SCHEMES = new Set(['http:', 'https:', 'ftp:', 'tftp:']);

/** An installer URL (option 114, option 125 sub-option 1) is absolute, with a scheme ONIE fetches and a host. */
export function checkInstallerUrl(label: string, url: string): void {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || !ONIE_URL_SCHEMES.has(u.protocol) || u.host === '') {
    throw new UsageError(`${label} ${url}: expected an absolute http://, https://, ftp:// or tftp:// URL with a host, e.g. http://10.0.0.1/onie-installer`);
  }
}
