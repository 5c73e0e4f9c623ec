import { createCipheriv } from 'node:crypto';
import { copyFile, cp, link, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage } from '../image/build.js';
import { buildManifest } from '../image/manifest.js';
import { countersignImage, signImage } from '../image/sign.js';
import { parseSharchHeader, SHARCH_MAX_HEADER_BYTES } from '../protocol/sharch/layout.js';
import type { TrustStore } from '../trust/trust-store.js';
import type { DigestedImage } from '../trust/image-digester.js';
import { readFileHead } from '../trust/file-range.js';
import { verifyImageFile } from '../trust/image-verifier.js';
import type { Random } from '../random.js';
import type { RunPki } from './pki.js';
import type { ScenarioImage } from './schema.js';
import type { FailAt } from './yaml-file.js';
import { publishTarget } from './published-path.js';
import { InputTooLargeError, readBoundedFile } from './input-file.js';

/** An image as the run built, signed, maybe tampered with, and published it. */
export interface PreparedImage {
  name: string;
  path: string;
  size: number;
  sha256: Buffer;
  sha1?: Buffer;
  /** Everything the one pass over the file found: lets the image be judged again by other rules without reading it again. */
  digest: DigestedImage;
  /** Of the signed content (header + payload): what a dbx digest entry names. */
  signedSha256?: Buffer;
  /** The db certificate that authorises this image for the run's trust store, if any. */
  authorityDer?: Buffer;
  /** dual-signer: the operator certificate that vouches for the countersignature. */
  operatorAuthorityDer?: Buffer;
  /** Why the run's own trust store refuses it, if it does. */
  refusal?: string;
  /** The subject of the signer the scenario's certificates accept, if they accept one. */
  signer?: string;
  published: string[];
}

export async function prepareImage(
  spec: ScenarioImage,
  sourceDir: string,
  pki: RunPki,
  store: TrustStore,
  dirs: { work: string; www: string; tftp: string },
  /** The image's place in the file: its index in `images`, and how to fail at a line there. */
  at: { index: number; fail: FailAt },
  random: Random,
): Promise<PreparedImage> {
  const fail = (field: (string | number)[], message: string): never => at.fail(['images', at.index, ...field], message);
  const path = join(dirs.work, `${spec.name}.bin`);
  let manifest: string | undefined;
  if (spec.file !== undefined) {
    try {
      await copyFile(sourceDir, path);
    } catch (e) {
      fail(['file'], `cannot read ${sourceDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else {
    const unsigned = join(dirs.work, `${spec.name}.unsigned.bin`);
    const source = spec.paddingMiB ? await paddedCopy(sourceDir, join(dirs.work, `${spec.name}.src`), spec.paddingMiB, random) : sourceDir;
    try {
      await buildImage(source, unsigned, { mtime: 0 });
    } catch (e) {
      fail(['source'], (e as Error).message);
    }
    if (spec.signedBy === 'none') {
      if (spec.countersignedBy) fail(['countersignedBy'], 'an unsigned image has no signature to countersign');
      await copyFile(unsigned, path);
    } else {
      const key = pki[spec.signedBy];
      if (spec.countersignedBy) {
        const counter = pki[spec.countersignedBy];
        const single = join(dirs.work, `${spec.name}.vendor-only.bin`);
        await signImage(unsigned, { keyPem: key.keyPem, certPem: key.certPem }, single);
        await countersignImage(single, { keyPem: counter.keyPem, certPem: counter.certPem }, path);
      } else {
        await signImage(unsigned, { keyPem: key.keyPem, certPem: key.certPem }, path);
      }
    }
    // Build inputs and steps, not evidence: the artifacts keep the image once (as `path`),
    // not a padded source tree and an unsigned copy of each 48 MiB image besides.
    await Promise.all([
      rm(unsigned, { force: true }),
      rm(join(dirs.work, `${spec.name}.vendor-only.bin`), { force: true }),
      spec.paddingMiB ? rm(source, { recursive: true, force: true }) : undefined,
    ]);
  }
  // The manifest describes what its signer released; tampering below is what a mirror serves.
  if (spec.manifest) {
    manifest = `${path}.merkle`;
    const key = pki[spec.manifest.signedBy];
    await buildManifest(path, { keyPem: key.keyPem, certPem: key.certPem }, manifest, { chunkSize: spec.manifest.chunkSize });
  }
  if (spec.tamper) {
    if (spec.file !== undefined) fail(['tamper'], 'only built images can be tampered with');
    await tamper(path, spec.tamper.region, spec.tamper.offset);
  }

  const verdict = await verifyImageFile(path, store);
  const prepared: PreparedImage = {
    name: spec.name,
    path,
    digest: verdict.digest,
    size: verdict.digest.size,
    sha256: verdict.digest.fileSha256,
    ...(verdict.digest.fileSha1 ? { sha1: verdict.digest.fileSha1 } : {}),
    ...(verdict.digest.signedSha256 ? { signedSha256: verdict.digest.signedSha256 } : {}),
    published: [...spec.publish, ...spec.publishTftp.map((p) => `tftp:${p}`)],
    ...(verdict.ok ? { authorityDer: verdict.authority.entry, signer: verdict.signer.subject } : { refusal: verdict.reason }),
  };
  const targets = [
    ...spec.publish.map((name, j) => ({ root: dirs.www, name, field: ['publish', j] })),
    ...spec.publishTftp.map((name, j) => ({ root: dirs.tftp, name, field: ['publishTftp', j] })),
  ];
  for (const { root, name, field } of targets) {
    // Each file is placed part by part below its root, never through a link out of it.
    for (const [from, to] of manifest ? [[path, name], [manifest, `${name}.merkle`]] : [[path, name]]) {
      const target = await publishTarget(root, to!);
      if (!target.ok) fail(field, `cannot publish "${to}": ${target.reason}`);
      else await placeOnce(from!, target.path);
    }
  }
  return prepared;
}

/**
 * Publishes `from` at `to` as a second name of the same file where the filesystem allows
 * (no second copy of a large image), else as a copy. The servers only read what they
 * publish, and nothing writes the image after this, so one file serves both names.
 */
async function placeOnce(from: string, to: string): Promise<void> {
  await rm(to, { force: true });
  try {
    await link(from, to);
  } catch {
    // EXDEV (another filesystem), EPERM (no hard links there): a copy is still correct.
    await copyFile(from, to);
  }
}

/**
 * The source directory plus installer/padding.bin: `mib` MiB of an AES-CTR keystream keyed
 * from the run's seed, so the same scenario builds the same image.
 */
async function paddedCopy(sourceDir: string, to: string, mib: number, random: Random): Promise<string> {
  await rm(to, { recursive: true, force: true });
  await cp(sourceDir, to, { recursive: true });
  const key = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) key.writeUInt32BE(random.u32(), i * 4);
  const stream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(1 << 20);
  const fh = await open(join(to, 'padding.bin'), 'wx');
  try {
    for (let i = 0; i < mib; i++) await fh.write(stream.update(zeros));
  } finally {
    await fh.close();
  }
  return to;
}

/** Flips every bit of one byte of the chosen region: the smallest change a signature must catch. */
async function tamper(path: string, region: 'header' | 'payload' | 'signature', offset?: number): Promise<void> {
  const head = await readFileHead(path, SHARCH_MAX_HEADER_BYTES);
  const layout = parseSharchHeader(head);
  if (!layout.ok) throw new Error(`cannot tamper with ${path}: ${layout.error.message}`);
  const { headerLength, payloadSize } = layout.value;
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    const [start, length] =
      region === 'header'
        ? [0, headerLength]
        : region === 'payload'
          ? [headerLength, payloadSize]
          : [headerLength + payloadSize, size - headerLength - payloadSize];
    if (length <= 0) throw new Error(`cannot tamper with ${path}: it has no ${region}`);
    const at = start + Math.min(offset ?? Math.floor(length / 2), length - 1);
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await fh.write(byte, 0, 1, at);
  } finally {
    await fh.close();
  }
}

/** Reads a PEM trust entry; `fail` names the entry's line in the scenario. */
export async function readPemFile(path: string, fail: (message: string) => never): Promise<string> {
  try {
    return (await readBoundedFile(path)).toString('utf8');
  } catch (e) {
    return fail(e instanceof InputTooLargeError ? `${path} is ${e.message}` : `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
