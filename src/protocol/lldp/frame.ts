import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { ok, type Result } from '../result.js';
import { formatMac, parseMac, PROTOCOL } from './ids.js';
import { readLldpdu, writeLldpdu, type Lldpdu, type LldpLimits } from './lldpdu.js';

/**
 * LLDP's Ethernet framing (IEEE 802.1AB-2016 §7.1, Table 7-1): one of three group
 * addresses, the LLDP ethertype, the LLDPDU. We send to the nearest-bridge address (a
 * switch port never forwards it, so a neighbour is always the cable's other end); we accept
 * all three, and an 802.1Q tag in front of the ethertype when a capture kept it.
 */
export const LLDP_NEAREST_BRIDGE = '01:80:c2:00:00:0e';
export const LLDP_NEAREST_NON_TPMR_BRIDGE = '01:80:c2:00:00:03';
export const LLDP_NEAREST_CUSTOMER_BRIDGE = '01:80:c2:00:00:00';
const GROUP_ADDRESSES = [LLDP_NEAREST_BRIDGE, LLDP_NEAREST_NON_TPMR_BRIDGE, LLDP_NEAREST_CUSTOMER_BRIDGE];

export const ETHERTYPE_LLDP = 0x88cc;
const ETHERTYPE_VLAN = 0x8100;
/** The shortest Ethernet frame without its FCS; a NIC pads up to it, and so do we. */
const MIN_FRAME = 60;

export interface VlanTag {
  id: number;
  priority: number;
  dropEligible: boolean;
}

export interface LldpFrame {
  destination: string;
  /** The sending port's MAC address. */
  source: string;
  vlan?: VlanTag;
  lldpdu: Lldpdu;
}

export function decodeLldpFrame(buf: Uint8Array, limits: LldpLimits = {}): Result<LldpFrame, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTOCOL);
    const destination = formatMac(r.bytes(6, 'destination'));
    if (!GROUP_ADDRESSES.includes(destination)) r.fail('malformed', 'destination', `${destination} is not an LLDP group address`, 0);
    const source = formatMac(r.bytes(6, 'source'));
    let at = r.offset;
    let ethertype = r.u16('ethertype');
    let vlan: VlanTag | undefined;
    if (ethertype === ETHERTYPE_VLAN) {
      const tci = r.u16('vlan.tci');
      vlan = { id: tci & 0xfff, priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0 };
      at = r.offset;
      ethertype = r.u16('ethertype');
    }
    if (ethertype !== ETHERTYPE_LLDP) r.fail('unsupported', 'ethertype', `0x${ethertype.toString(16).padStart(4, '0')} is not LLDP (0x88cc)`, at);
    const lldpdu = readLldpdu(r, limits);
    return ok({ destination, source, ...(vlan ? { vlan } : {}), lldpdu });
  });
}

/** The frame a raw socket sends (no FCS: the NIC adds it), padded to 60 bytes. */
export function encodeLldpFrame(frame: Omit<LldpFrame, 'destination'> & { destination?: string }): Buffer {
  const destination = parseMac(frame.destination ?? LLDP_NEAREST_BRIDGE);
  if (!destination) throw new EncodeError(PROTOCOL, 'destination', `'${frame.destination}' is not a MAC address`);
  const source = parseMac(frame.source);
  if (!source) throw new EncodeError(PROTOCOL, 'source', `'${frame.source}' is not a MAC address`);
  const w = new ByteWriter(128).bytes(destination).bytes(source);
  if (frame.vlan) {
    const { id, priority, dropEligible } = frame.vlan;
    if (!Number.isInteger(id) || id < 0 || id > 4095) throw new EncodeError(PROTOCOL, 'vlan.id', `${id} is not 0..4095`);
    if (!Number.isInteger(priority) || priority < 0 || priority > 7) throw new EncodeError(PROTOCOL, 'vlan.priority', `${priority} is not 0..7`);
    w.u16(ETHERTYPE_VLAN).u16((priority << 13) | (dropEligible ? 0x1000 : 0) | id);
  }
  w.u16(ETHERTYPE_LLDP);
  writeLldpdu(w, frame.lldpdu);
  while (w.length < MIN_FRAME) w.u8(0);
  return w.finish();
}
