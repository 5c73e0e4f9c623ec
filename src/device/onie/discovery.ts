import type { DeviceIdentity } from '../identity.js';
import { onieDefaultFilenames } from './default-filenames.js';
import { vivsoUrlFromHex } from './vivso-url.js';

export type CandidateMethod = 'vivso' | 'default-url' | 'http-inexact' | 'bootfile-url' | 'tftp-exact' | 'tftp-waterfall';

export interface Candidate {
  url: string;
  method: CandidateMethod;
  /** inexact HTTP: the server whose port must answer a TCP probe first */
  probe?: { host: string; port: number };
  /** TFTP waterfall: a timeout from this server skips its remaining paths. */
  waterfallServer?: string;
}

export interface OnieCandidateOptions {
  bootReason?: 'install' | 'update' | 'embed';
  /** Port of the inexact HTTP method: 80 on a real network; loopback runs use a high port. */
  httpPort?: number;
  /** The well-known `onie-server` host, only if it resolves in this environment. */
  onieServerName?: string;
  /** Port of the TFTP methods: 69 on a real network; loopback runs use a high port. */
  tftpPort?: number;
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
 *   9. exact TFTP: onie-server, siaddr, 66, 150, 54 × option 67 then the BOOTP file field,
 *      as `tftp://server/bootfile` (a bootfile that is an http URL is tried too: ONIE
 *      builds the string without looking).
 *  10. the TFTP waterfall: onie-server, siaddr, 66, 150 (de-duplicated) × the MAC
 *      directory, the eight IP-hex prefixes and the root, each with the platform's default
 *      name (all twelve names at the root); a timeout moves on to the next server.
 *
 * Not in this cut: steps 1–5 (CLI `onie-nos-install` / `onie-self-update` URLs, the
 * `install_url=` static URL, pending firmware updates, local file systems) and the
 * IPv4/IPv6 neighbours of step 8.
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

  const tftpPort = opts.tftpPort ?? 69;
  if (!Number.isInteger(tftpPort) || tftpPort < 1 || tftpPort > 65535) throw new RangeError(`onieCandidates: tftpPort must be 1..65535, got ${tftpPort}`);
  const tftpUrl = (host: string, path: string): string => `tftp://${host.includes(':') ? `[${host}]` : host}${tftpPort === 69 ? '' : `:${tftpPort}`}/${path}`;
  const bootfiles = uniqueWords([vars['bootfile'], vars['boot_file']]);
  for (const host of uniqueWords([opts.onieServerName, vars['siaddr'], vars['tftp'], vars['tftpsiaddr'], vars['serverid']])) {
    for (const file of bootfiles) out.push({ url: tftpUrl(host, file.replace(/^\/+/, '')), method: 'tftp-exact' });
  }

  for (const host of uniqueWords([opts.onieServerName, vars['siaddr'], vars['tftp'], vars['tftpsiaddr']])) {
    for (const path of waterfallPaths(id, vars['ip'], names)) out.push({ url: tftpUrl(host, path), method: 'tftp-waterfall', waterfallServer: host });
  }
  return out;
}

/**
 * The waterfall's paths for one server: `<MAC with - for :>/<name>`, then the leased
 * address in upper-case hex cut from eight digits down to one (`C0A801B2/<name>` …
 * `C/<name>`), then every default name at the root. `<name>` is the most specific default
 * name (onie_default_filename, the platform form).
 */
function waterfallPaths(id: DeviceIdentity, ip: string | undefined, names: string[]): string[] {
  const name = names[0]!;
  const paths = [`${id.mac.replaceAll(':', '-')}/${name}`];
  const octets = ip?.split('.').map(Number);
  if (octets && octets.length === 4 && octets.every((o) => Number.isInteger(o) && o >= 0 && o <= 255)) {
    const hex = octets.map((o) => o.toString(16).toUpperCase().padStart(2, '0')).join('');
    for (let len = 8; len > 0; len--) paths.push(`${hex.slice(0, len)}/${name}`);
  }
  return [...paths, ...names];
}

/** http_download's server list. */
function inexactServers(vars: Record<string, string>, onieServerName: string | undefined): string[] {
  return uniqueWords([onieServerName, vars['wwwsrv'], vars['siaddr'], vars['serverid'], vars['tftpsiaddr'], vars['tftp']]);
}

/** Shell word-splitting of several variables, de-duplicated with first-seen order kept. */
function uniqueWords(values: Array<string | undefined>): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const value of values) {
    for (const word of (value ?? '').split(/\s+/)) {
      if (word === '' || word === NO_ADDRESS || seen.has(word)) continue;
      seen.add(word);
      words.push(word);
    }
  }
  return words;
}
