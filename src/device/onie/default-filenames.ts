import { oniePlatform, type DeviceIdentity } from '../identity.js';

/** `onie_image_suffixes`: each base name is followed by these variants (since 2017.08). */
const IMAGE_SUFFIXES = ['.bin'];

/**
 * ONIE's default installer names, most specific first (lib/onie/functions,
 * get_default_filenames): six base names, each followed by its `.bin` variant.
 * `update` and `embed` boots use the `onie-updater` prefix with the same list.
 */
export function onieDefaultFilenames(id: DeviceIdentity, prefix: 'onie-installer' | 'onie-updater'): string[] {
  const bases = [
    `${prefix}-${oniePlatform(id)}`,
    `${prefix}-${id.arch}-${id.machine}`,
    `${prefix}-${id.machine}`,
    `${prefix}-${id.arch}-${id.switchAsic}`,
    `${prefix}-${id.arch}`,
    prefix,
  ];
  return bases.flatMap((b) => [b, ...IMAGE_SUFFIXES.map((s) => b + s)]);
}
