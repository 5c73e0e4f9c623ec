import { ipListOption, ipOption, stringOption } from '../../protocol/dhcp4/options.js';
import type { Dhcp4OptionEntry } from '../../protocol/dhcp4/packet.js';
import { EncodeError } from '../../errors.js';
import { encodeVivso, ONIE_ENTERPRISE_NUMBER, OnieVivsoCode, type VivsoSubOption } from '../../protocol/dhcp4/vivso.js';
import type { Dhcp4OptionValues } from './server-config.js';

/** The option bytes for each value given, by code. Throws EncodeError for a value that cannot be encoded. */
export function encodeOptionValues(v: Dhcp4OptionValues): Map<number, Uint8Array> {
  const entries: Dhcp4OptionEntry[] = [];
  const add = (e: Dhcp4OptionEntry | undefined): void => {
    if (e) entries.push(e);
  };
  add(v.subnetMask !== undefined ? ipOption(1, v.subnetMask) : undefined);
  add(v.router?.length ? ipListOption(3, v.router) : undefined);
  add(v.dns?.length ? ipListOption(6, v.dns) : undefined);
  add(v.logServer?.length ? ipListOption(7, v.logServer) : undefined);
  add(v.hostname !== undefined ? stringOption(12, v.hostname) : undefined);
  add(v.domainName !== undefined ? stringOption(15, v.domainName) : undefined);
  add(v.broadcastAddress !== undefined ? ipOption(28, v.broadcastAddress) : undefined);
  add(v.ntpServers?.length ? ipListOption(42, v.ntpServers) : undefined);
  add(v.tftpServerName !== undefined ? stringOption(66, v.tftpServerName) : undefined);
  add(v.bootFileName !== undefined ? stringOption(67, v.bootFileName) : undefined);
  add(v.wwwServer?.length ? ipListOption(72, v.wwwServer) : undefined);
  add(v.defaultUrl !== undefined ? stringOption(114, v.defaultUrl) : undefined);
  add(v.onie ? onieVivsoOption(v.onie) : undefined);
  add(v.tftpServerAddresses?.length ? ipListOption(150, v.tftpServerAddresses) : undefined);
  add(pxeVendorOptions(v));
  // iPXE's encapsulated options: 176 (no ProxyDHCP wait) = 1.
  add(v.ipxeNoProxyWait ? { code: 175, data: Uint8Array.of(176, 1, 1) } : undefined);
  return new Map(entries.map((e) => [e.code, e.data]));
}

/** Global values overridden field by field by a class rule's. */
export function mergeOptionValues(base: Dhcp4OptionValues, override: Dhcp4OptionValues): Dhcp4OptionValues {
  const merged: Dhcp4OptionValues = { ...base };
  for (const [k, v] of Object.entries(override) as Array<[keyof Dhcp4OptionValues, unknown]>) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** Option 43 for PXE clients (PXE 2.1 §2.2.6): sub-options 6, 8, 9, 10 and the end marker. */
function pxeVendorOptions(v: Dhcp4OptionValues): Dhcp4OptionEntry | undefined {
  const subs: number[] = [];
  const sub = (code: number, data: number[]): void => {
    if (data.length > 255) throw new EncodeError('dhcp4', `option 43.${code}`, `${data.length} bytes do not fit one sub-option`);
    subs.push(code, data.length, ...data);
  };
  if (v.pxeDiscoveryControl !== undefined) sub(6, [v.pxeDiscoveryControl & 0xff]);
  if (v.pxeBootServers?.length) {
    sub(8, v.pxeBootServers.flatMap((b) => [b.type >> 8, b.type & 0xff, b.addresses.length, ...b.addresses.flatMap((a) => [...ipOption(0, a).data])]));
  }
  if (v.pxeBootMenu?.length) {
    sub(9, v.pxeBootMenu.flatMap((m) => [m.type >> 8, m.type & 0xff, Buffer.byteLength(m.description, 'latin1'), ...Buffer.from(m.description, 'latin1')]));
  }
  if (v.pxeMenuPrompt) sub(10, [v.pxeMenuPrompt.timeout & 0xff, ...Buffer.from(v.pxeMenuPrompt.text, 'latin1')]);
  return subs.length ? { code: 43, data: Uint8Array.from([...subs, 255]) } : undefined;
}

function onieVivsoOption(onie: NonNullable<Dhcp4OptionValues['onie']>): Dhcp4OptionEntry | undefined {
  const subOptions: VivsoSubOption[] = [];
  if (onie.installerUrl !== undefined) subOptions.push({ code: OnieVivsoCode.INSTALLER_URL, data: utf8(onie.installerUrl) });
  if (onie.updaterUrl !== undefined) subOptions.push({ code: OnieVivsoCode.UPDATER_URL, data: utf8(onie.updaterUrl) });
  if (subOptions.length === 0) return undefined;
  return { code: 125, data: encodeVivso([{ enterprise: ONIE_ENTERPRISE_NUMBER, subOptions }]) };
}

function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}
