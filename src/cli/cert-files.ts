import { X509Certificate } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readSmallInput } from './read-input.js';

/** The names a directory given as --db (like openssl's -CApath) contributes: certificates by their usual suffixes. */
const CERT_FILE = /\.(pem|crt|cer)$/i;

/**
 * The certificate texts (PEM) behind a certificate flag (--db, --dbx, --operator-db, …):
 * each path a PEM or DER file, or a directory whose *.pem / *.crt / *.cer files all count
 * (in name order; other names, subdirectories and private keys among them are passed over). A file that holds no
 * certificate is named with its flag, so `--db random.bin` is not a mystery.
 */
export async function readCertificateFlag(flag: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`${flag} ${p}: ${e.code === 'ENOENT' ? 'no such file or directory' : (e.code ?? e.message)}`);
    });
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => CERT_FILE.test(n)).sort();
      const files: string[] = [];
      for (const n of names) if ((await stat(join(p, n)).catch(() => undefined))?.isFile()) files.push(join(p, n));
      if (files.length === 0) throw new UsageError(`${flag} ${p}: a directory without *.pem, *.crt or *.cer files`);
      // Keys kept beside their certificates (as `keys init` writes them) are passed over; any other file must be a certificate.
      for (const f of files) {
        const text = await certificateText(flag, f, true);
        if (text !== undefined) out.push(text);
      }
    } else {
      out.push(await certificateText(flag, p));
    }
  }
  return out;
}

/** One file's certificates as PEM: PEM text as it is (every block), DER converted. */
async function certificateText(flag: string, path: string, skipKeys?: false): Promise<string>;
async function certificateText(flag: string, path: string, skipKeys: true): Promise<string | undefined>;
async function certificateText(flag: string, path: string, skipKeys = false): Promise<string | undefined> {
  const bytes = await readSmallInput(path, flag);
  const text = bytes.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
  try {
    return new X509Certificate(bytes).toString();
  } catch {
    const isKey = text.includes('PRIVATE KEY-----');
    if (isKey && skipKeys) return undefined;
    const hint = isKey ? ' (it holds a private key)' : '';
    throw new UsageError(`${flag} ${path}: not a PEM or DER certificate${hint}`);
  }
}
