import { getOption, readIp, readString } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';

/**
 * What a firmware does once DHCP is over, decided from the offers it saw and the ACK it
 * got — the step a user would see on the console next.
 * - `boot`: fetch `file` from `server` (TFTP, or the URI's host for HTTP Boot).
 * - `ask-boot-server`: send a REQUEST to `server`:`port` first (a BINL offer, a proxy
 *   offer without boot data, a PXE boot menu item); `ifNoAnswer` is what happens when
 *   nobody answers there.
 * - `fail`: the firmware stops, with the message it prints.
 */
export type BootPlan =
  | { kind: 'boot'; server: string; file: string; from: 'dhcp' | 'proxy' }
  | { kind: 'ask-boot-server'; server: string; port: number; why: string; ifNoAnswer: BootPlan }
  | { kind: 'fail'; message: string };

/** When the DHCP client asks which offer to take: as each one arrives, and when a DISCOVER's wait ends. */
export interface OfferWindow {
  /** Since the first DISCOVER (at an arrival: since the start of the current wait). */
  elapsedMs: number;
  /** The wait after a DISCOVER has run out. */
  windowEnded: boolean;
}

export const PXE_BOOT_SERVER_PORT = 4011;
const ZERO = '0.0.0.0';

export const isProxyOffer = (p: Dhcp4Packet): boolean => p.yiaddr === ZERO;

/** Option 60 starts with `prefix` (EDK2 and iPXE compare the first 9 or 10 bytes only). */
export function vendorClassIs(p: Dhcp4Packet, prefix: string): boolean {
  const data = getOption(p, 60);
  return data !== undefined && data.length >= prefix.length && Buffer.from(data.subarray(0, prefix.length)).toString('latin1') === prefix;
}

/** The boot file as firmware reads it: option 67 if present, else the BOOTP `file` field (RFC 2132 §9.5). */
export function bootFileOf(p: Dhcp4Packet): string | undefined {
  const opt = getOption(p, 67);
  if (opt !== undefined) {
    const s = readString(opt) ?? '';
    return s.length > 0 ? s : undefined;
  }
  return p.file !== '' ? p.file : undefined;
}

export function serverIdOf(p: Dhcp4Packet): string | undefined {
  const data = getOption(p, 54);
  return data ? readIp(data) : undefined;
}

/** siaddr, else option 54: where PXE firmware sends its boot server REQUEST and its TFTP reads. */
export function nextServerOf(p: Dhcp4Packet): string | undefined {
  return p.siaddr !== ZERO ? p.siaddr : serverIdOf(p);
}

/** The sub-options of an encapsulated option (43, 175) by code; stops at 255, skips pads, ignores a torn tail. */
export function subOptions(p: Dhcp4Packet, code: number): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const data = getOption(p, code);
  if (!data) return out;
  for (let i = 0; i < data.length; ) {
    const tag = data[i]!;
    if (tag === 255) break;
    if (tag === 0) {
      i++;
      continue;
    }
    const len = data[i + 1];
    if (len === undefined || i + 2 + len > data.length) break;
    if (!out.has(tag)) out.set(tag, data.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}
