import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import type { Clock } from '../../clock.js';
import { BootlabError } from '../../errors.js';
import type { TftpOptions } from '../../protocol/tftp/packet.js';
import type { DatagramPortFactory } from '../datagram-port.js';
import { BUSYBOX_TFTP_TIMERS, tftpGet } from './client.js';

/**
 * `tftp://server[:port]/path` split the way ONIE's url_run splits it: the server is
 * everything up to the first `/`, the path everything after it, taken as is (no
 * percent-decoding: busybox tftp sends the bytes it was given).
 */
export function parseTftpUrl(url: string): { host: string; port: number; path: string } {
  const m = /^tftp:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?\/(.+)$/.exec(url);
  if (!m) throw new BootlabError('BL_TFTP_URL', `not a tftp://server/path URL: ${url}`);
  const port = m[2] === undefined ? 69 : Number(m[2]);
  if (port < 1 || port > 65535) throw new BootlabError('BL_TFTP_URL', `${url}: port ${m[2]} is not 1..65535`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, path: m[3]! };
}

export interface TftpDownloadOptions {
  /** File written while receiving; deleted again when the download fails. */
  to: string;
  /** Every block's data, in order, once (a hasher). */
  onChunk?: (chunk: Uint8Array) => void;
  clock: Clock;
  signal?: AbortSignal;
  /** Options to request; none: busybox's plain RFC 1350 read. */
  options?: TftpOptions;
  openPort?: DatagramPortFactory;
}

/** Fetches a tftp:// URL to a file as busybox tftp does (ONIE's `tftp -g -l FILE -r PATH SERVER`). */
export async function downloadTftp(url: string, o: TftpDownloadOptions): Promise<{ bytes: number }> {
  const { host, port, path } = parseTftpUrl(url);
  const out = createWriteStream(o.to);
  try {
    const r = await tftpGet({
      server: { address: host, port },
      filename: path,
      ...(o.options ? { options: o.options } : {}),
      ...BUSYBOX_TFTP_TIMERS,
      clock: o.clock,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.openPort ? { openPort: o.openPort } : {}),
      onData: (chunk) => {
        o.onChunk?.(chunk);
        out.write(chunk);
      },
    });
    out.end();
    await once(out, 'finish');
    return { bytes: r.bytes };
  } catch (e) {
    out.destroy();
    await rm(o.to, { force: true });
    throw e;
  }
}
