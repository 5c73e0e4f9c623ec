import type { InventoryVerdict } from '../scenario/rack-schema.js';

/** What the inventory holds for one rack position. */
export interface InventoryRecord {
  rack: string;
  position: string;
  /** The relay's circuit-id for the position: the switch port its management port is on. */
  circuitId: string;
  serial: string;
  /** Lower case. */
  mac: string;
}

/** A device as its DHCP request shows it: the rack (from giaddr), the relay's port, its MAC and serial. */
export interface AdmissionRequest {
  rack: string;
  circuitId: string | undefined;
  mac: string;
  /** ONIE's option 61 (type 0, the serial number); undefined when the client sent none. */
  serial: string | undefined;
}

export interface AdmissionVerdict {
  verdict: Exclude<InventoryVerdict, 'not-seen'>;
  detail: string;
}

/**
 * Inventory admission: a device is admitted only at its own position — the relay port it
 * asks from is the one the plan gives its MAC, and its serial is the one recorded there.
 * Anything else is a named verdict: a box the inventory has never heard of (an RMA
 * replacement not yet entered), a serial or MAC that disagrees with the record (swapped
 * labels, a replaced board), or a known device in another position. Lookups are Maps
 * built once, so checking costs the same in a rack or a data hall.
 */
export class Inventory {
  private readonly byPort = new Map<string, InventoryRecord>();
  private readonly byMac = new Map<string, InventoryRecord>();
  private readonly bySerial = new Map<string, InventoryRecord>();

  constructor(records: readonly InventoryRecord[]) {
    for (const r of records) {
      this.byPort.set(portKey(r.rack, r.circuitId), r);
      this.byMac.set(r.mac, r);
      this.bySerial.set(r.serial, r);
    }
  }

  check(req: AdmissionRequest): AdmissionVerdict {
    const mac = req.mac.toLowerCase();
    const here = req.circuitId === undefined ? undefined : this.byPort.get(portKey(req.rack, req.circuitId));
    const who = `MAC ${mac}${req.serial !== undefined ? `, serial ${req.serial}` : ', no serial (option 61)'}`;
    if (!here) {
      return { verdict: 'unknown-port', detail: `${who} asked from ${req.circuitId === undefined ? 'no relay port (no option 82 circuit-id)' : `port ${req.circuitId}`} of rack ${req.rack}, which the plan does not hold` };
    }
    const at = `${here.rack}/${here.position}`;
    if (here.mac === mac && here.serial === req.serial) return { verdict: 'admitted', detail: `${who} at ${at}` };
    const elsewhere = this.byMac.get(mac) ?? (req.serial !== undefined ? this.bySerial.get(req.serial) : undefined);
    if (elsewhere && elsewhere !== here) {
      return { verdict: 'wrong-position', detail: `${who} is planned at ${elsewhere.rack}/${elsewhere.position} but asked from ${at} (port ${here.circuitId})` };
    }
    if (here.mac === mac) return { verdict: 'serial-mismatch', detail: `${at} records serial ${here.serial}; the device with its MAC ${mac} says ${req.serial ?? 'nothing'}` };
    if (here.serial === req.serial) return { verdict: 'mac-mismatch', detail: `${at} records MAC ${here.mac}; the device with its serial ${here.serial} has ${mac}` };
    return { verdict: 'unknown-device', detail: `${who} at ${at} is not in the inventory (it records serial ${here.serial}, MAC ${here.mac}): an RMA replacement not yet entered?` };
  }
}

function portKey(rack: string, circuitId: string): string {
  return `${rack}\u0000${circuitId}`;
}
