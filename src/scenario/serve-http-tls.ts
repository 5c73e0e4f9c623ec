import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { BootlabError } from '../errors.js';

/** Where a PEM file was named: the flag (`http-tls-cert`) or the config key (`http.tlsCert`). */
export interface PemSource {
  flag: string;
  path: string;
}

/**
 * Reads `bootlab serve`'s HTTPS certificate and key, and checks them together before any
 * socket opens: a missing half, an unreadable file, text that is no PEM or a key that does
 * not match the certificate is one line naming the file.
 */
export async function readHttpTls(cert: PemSource | undefined, key: PemSource | undefined): Promise<{ cert: string; key: string } | undefined> {
  if (!cert && !key) return undefined;
  if (!cert || !key) {
    const [has, lacks] = cert ? [cert.flag, 'http-tls-key'] : [key!.flag, 'http-tls-cert'];
    throw new BootlabError('BL_CLI_INPUT', `${label(has)} needs ${label(lacks)} too: HTTPS takes a certificate and its key`);
  }
  const [certPem, keyPem] = await Promise.all([readPem(cert), readPem(key)]);
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (e) {
    throw new BootlabError('BL_CLI_INPUT', `${label(cert.flag)} ${cert.path} with ${label(key.flag)} ${key.path}: ${(e as Error).message}`);
  }
  return { cert: certPem, key: keyPem };
}

async function readPem(src: PemSource): Promise<string> {
  let text: string;
  try {
    text = await readFile(src.path, 'utf8');
  } catch (e) {
    throw new BootlabError('BL_CLI_INPUT', `${label(src.flag)} ${src.path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!text.includes('-----BEGIN ')) throw new BootlabError('BL_CLI_INPUT', `${label(src.flag)} ${src.path}: not a PEM file (no -----BEGIN line)`);
  return text;
}

/** `--http-tls-cert` for a flag, `http.tlsCert` for a config key. */
function label(name: string): string {
  return name.includes('.') ? name : `--${name}`;
}
