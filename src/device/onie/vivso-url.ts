import { decodeVivso, ONIE_ENTERPRISE_NUMBER, OnieVivsoCode } from '../../protocol/dhcp4/vivso.js';

/**
 * import_vivso / import_vendoropts give up with "looping detected" once their counter,
 * bumped after each entry, exceeds 100, so the 101st entry is still handled.
 */
const MAX_ENTRIES = 101;

/**
 * ONIE's `import_vivso` on the raw option-125 payload: the exact URL it exports as
 * `onie_disco_onie_url`, or undefined. Only enterprise 42623 counts; sub-option 1
 * (installer URL) always sets the URL, sub-option 2 (updater URL) only in update/embed
 * boots; the last one that applies wins.
 *
 * Like ONIE, blocks of other enterprises are skipped unread (their data need not be
 * TLVs), and blocks before a truncated one keep their effect. An OCP block whose
 * sub-options do not decode contributes nothing: the shell would read garbage lengths
 * from it, and guessing what it makes of them is not worth an emulated quirk.
 */
export function vivsoInstallerUrl(data: Uint8Array, bootReason: 'install' | 'update' | 'embed' = 'install'): string | undefined {
  const updating = bootReason === 'update' || bootReason === 'embed';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let url: string | undefined;
  let offset = 0;
  for (let entries = 0; entries < MAX_ENTRIES && offset + 5 <= data.length; entries++) {
    const enterprise = view.getUint32(offset);
    const end = offset + 5 + data[offset + 4]!;
    if (end > data.length) break;
    if (enterprise === ONIE_ENTERPRISE_NUMBER) {
      const decoded = decodeVivso(data.subarray(offset, end), offset);
      const subOptions = decoded.ok ? (decoded.value[0]?.subOptions ?? []) : [];
      for (const sub of subOptions.slice(0, MAX_ENTRIES)) {
        if (sub.code === OnieVivsoCode.INSTALLER_URL || (sub.code === OnieVivsoCode.UPDATER_URL && updating)) {
          url = new TextDecoder().decode(sub.data);
        }
      }
    }
    offset = end;
  }
  return url;
}

/** The `vivso` variable busybox udhcpc exports: the option payload as hex digits. */
export function vivsoUrlFromHex(hex: string, bootReason: 'install' | 'update' | 'embed' = 'install'): string | undefined {
  const text = hex.trim();
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return vivsoInstallerUrl(bytes, bootReason);
}
