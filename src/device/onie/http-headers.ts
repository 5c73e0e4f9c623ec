import type { DeviceIdentity } from '../identity.js';

/**
 * The busybox ONIE builds (build-config/make/busybox.make: BUSYBOX_VERSION = 1.25.1).
 * wget_run derives the User-Agent token from `busybox | head -1`, e.g.
 * "BusyBox v1.25.1 (date) multi-call binary." → "BusyBox-v1.25.1".
 */
export const ONIE_BUSYBOX_VERSION = '1.25.1';

/**
 * `onie/1.0 (<uname -s>-<uname -r><onie_version>; BusyBox-v<x.y.z>)`. The kernel release
 * and the ONIE version are glued together with no separator, exactly as exec_installer
 * builds it; servers that parse this string see the same thing a real switch sends.
 */
export function onieUserAgent(id: DeviceIdentity, kernel: { sysname: string; release: string }): string {
  return `onie/1.0 (${kernel.sysname}-${kernel.release}${id.onieVersion}; BusyBox-v${ONIE_BUSYBOX_VERSION})`;
}

/**
 * The nine ONIE-* headers of exec_installer's wget_run, in its order. Every header is
 * always sent, empty when ONIE has no value (ONIE-SECURITY-KEY without `sec_key=`).
 */
export function onieRequestHeaders(
  id: DeviceIdentity,
  opts: { operation: 'os-install' | 'onie-update'; securityKey?: string },
): Record<string, string> {
  return {
    'ONIE-SERIAL-NUMBER': id.serial,
    'ONIE-ETH-ADDR': id.mac,
    'ONIE-VENDOR-ID': String(id.vendorId),
    'ONIE-MACHINE': id.machine,
    'ONIE-MACHINE-REV': String(id.machineRev),
    'ONIE-ARCH': id.arch,
    'ONIE-SECURITY-KEY': opts.securityKey ?? '',
    'ONIE-OPERATION': opts.operation,
    'ONIE-VERSION': id.onieVersion,
  };
}
