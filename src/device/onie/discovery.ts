import type { DeviceIdentity } from '../identity.js';
import { onieDefaultFilenames } from './default-filenames.js';
import { vivsoUrlFromHex } from './vivso-url.js';

export type CandidateMethod = 'vivso' | 'default-url' | 'http-inexact' | 'bootfile-url';

export interface Candidate {
  url: string;
  method: CandidateMethod;
  /** inexact HTTP: the server whose port must answer a TCP probe first */
  probe?: { host: string; port: number };
}

export interface OnieCandidateOptions {
  bootReason?: 'install' | 'update' | 'embed';
  /** Port of the inexact HTTP method: 80 on a real network; loopback runs use a high port. */
  httpPort?: number;
  /** The well-known `onie-server` host, only if it resolves in this environment. */
  onieServerName?: string;
}

/** udhcpc leaves unset addresses as 0.0.0.0 (siaddr in a reply without next-server). */
const NO_ADDRESS = '0.0.0.0';

/**
 * The installer URLs exec_installer tries for one DHCP result, in its order
 * (onie.md §1.4 steps 6–8):
 *   6. the exact URL from VIVSO (option 125, enterprise 42623),
 *   7. the exact URL from option 114 (default-url),
 *   8. inexact HTTP: every server of onie-server, 72, siaddr, 54, 150, 66 (de-duplicated,
 *      first occurrence kept), each × the 12 default names after a TCP probe of its
 *      port; then option 67 tried as a URL.
 *
 * Not in this cut: steps 1–5 (CLI `onie-nos-install` / `onie-self-update` URLs, the
 * `install_url=` static URL, pending firmware updates, local file systems), the IPv4/IPv6
 * neighbours of step 8, and steps 9–10 (exact TFTP 66/150 + 67, the TFTP waterfall).
 *
 * `vars` are udhcpc's names without the `onie_disco_` prefix. The same URL reached by two
 * methods appears twice, as ONIE would fetch it twice.
 */
export function onieCandidates(vars: Record<string, string>, id: DeviceIdentity, opts: OnieCandidateOptions = {}): Candidate[] {
  const bootReason = opts.bootReason ?? 'install';
  const port = opts.httpPort ?? 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`onieCandidates: httpPort must be 1..65535, got ${port}`);
  const out: Candidate[] = [];

  const vivso = vars['vivso'];
  const vivsoUrl = vivso ? vivsoUrlFromHex(vivso, bootReason) : undefined;
  if (vivsoUrl) out.push({ url: vivsoUrl, method: 'vivso' });

  const defaultUrl = vars['url'];
  if (defaultUrl) out.push({ url: defaultUrl, method: 'default-url' });

  const names = onieDefaultFilenames(id, bootReason === 'install' ? 'onie-installer' : 'onie-updater');
  for (const host of inexactServers(vars, opts.onieServerName)) {
    const authority = `${host.includes(':') ? `[${host}]` : host}${port === 80 ? '' : `:${port}`}`;
    for (const name of names) out.push({ url: `http://${authority}/${name}`, method: 'http-inexact', probe: { host, port } });
  }

  // url_run on a bare file name finds no local file and fails quietly, so only values
  // with a scheme can ever fetch anything.
  const bootfile = vars['bootfile'];
  if (bootfile && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(bootfile)) out.push({ url: bootfile, method: 'bootfile-url' });
  return out;
}

/** http_download's server list: shell word-split, de-duplicated with first-seen order kept. */
function inexactServers(vars: Record<string, string>, onieServerName: string | undefined): string[] {
  const sources = [onieServerName, vars['wwwsrv'], vars['siaddr'], vars['serverid'], vars['tftpsiaddr'], vars['tftp']];
  const seen = new Set<string>();
  const servers: string[] = [];
  for (const value of sources) {
    for (const word of (value ?? '').split(/\s+/)) {
      if (word === '' || word === NO_ADDRESS || seen.has(word)) continue;
      seen.add(word);
      servers.push(word);
    }
  }
  return servers;
}
