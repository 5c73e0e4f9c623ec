import { getOption } from '../../protocol/dhcp4/options.js';
import type { Dhcp4Packet } from '../../protocol/dhcp4/packet.js';

/**
 * Who holds a lease. RFC 2131 §4.2 keys a lease by option 61 when the client sends one,
 * else by chaddr; RFC 2132 §9.14 defines a client id of type 1..255 as a hardware type
 * and address. On one NIC the firmware stages disagree: EDK2 PXE sends no 61, iPXE and
 * udhcpc send 61 = 01 + MAC. So a client id that is exactly htype + chaddr names the
 * same client as chaddr alone (dnsmasq matches the two the same way), and both key as
 * `hw:<htype>:<chaddr>`. Any other id — ONIE's `00` + serial number, a DUID — is its own
 * client, `id:<hex>`.
 */
export function leaseKey(req: Dhcp4Packet): string {
  const id = getOption(req, 61);
  if (!id || id.length === 0 || isHardwareId(id, req)) return hardwareKey(req.htype, req.chaddr);
  return `id:${hex(id)}`;
}

/**
 * A key read back from a lease file. Files written before hardware ids were folded in
 * hold `id:01` + a 6-byte MAC for iPXE and udhcpc; that is the key such a client now
 * has (an Ethernet id is its MAC by RFC 2132), so the lease comes back to it.
 */
export function canonicalLeaseKey(stored: string): string {
  const m = /^id:01([0-9a-f]{12})$/.exec(stored);
  return m ? hardwareKey(1, m[1]!.match(/../g)!.join(':')) : stored;
}

/**
 * The option 61 values (hex) a reservation by client id may be written with for this
 * request: the id it sent, and — for a client without one, or whose id is its hardware
 * address — htype + chaddr, so a reservation for iPXE's `01` + MAC also holds for the
 * same NIC's EDK2 stage.
 */
export function reservationIds(req: Dhcp4Packet): string[] {
  const id = getOption(req, 61);
  const sent = id && id.length > 0 ? [hex(id)] : [];
  if (sent.length > 0 && !isHardwareId(id!, req)) return sent;
  const hw = hardwareId(req);
  return hw !== undefined && !sent.includes(hw) ? [...sent, hw] : sent;
}

function hardwareKey(htype: number, chaddr: string): string {
  return `hw:${htype}:${chaddr}`;
}

function isHardwareId(id: Uint8Array, req: Dhcp4Packet): boolean {
  return hex(id) === hardwareId(req);
}

/** htype + chaddr bytes as hex; undefined when chaddr holds no hardware address. */
function hardwareId(req: Dhcp4Packet): string | undefined {
  const bytes = req.chaddr.replace(/[:-]/g, '').toLowerCase();
  if (bytes.length === 0 || req.htype === 0) return undefined;
  return req.htype.toString(16).padStart(2, '0') + bytes;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
