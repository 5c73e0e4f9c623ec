import { decodeGuid } from '../protocol/tcg/event-data.js';
import type { EventLog, TcgEvent } from '../protocol/tcg/event-log.js';
import {
  EV_ACTION,
  EV_EFI_ACTION,
  EV_EFI_BOOT_SERVICES_APPLICATION,
  EV_EFI_BOOT_SERVICES_DRIVER,
  EV_EFI_RUNTIME_SERVICES_DRIVER,
  EV_EFI_VARIABLE_AUTHORITY,
  EV_EFI_VARIABLE_BOOT,
  EV_EFI_VARIABLE_BOOT2,
  EV_EFI_VARIABLE_DRIVER_CONFIG,
  EV_EVENT_TAG,
  EV_POST_CODE,
  EV_S_CRTM_VERSION,
  EV_SEPARATOR,
  eventTypeName,
} from '../protocol/tcg/event-types.js';
import type { PcrBanks } from './pcr-bank.js';
import { bindEventData, type DataBinding } from './event-data-binding.js';

/** Known GUIDs by name, so a reader sees `EFI_IMAGE_SECURITY_DATABASE` rather than hex. */
const GUID_NAMES: Record<string, string> = {
  '8be4df61-93ca-11d2-aa0d-00e098032b8c': 'EFI_GLOBAL_VARIABLE',
  'd719b2cb-3d3a-4596-a3bc-dad00e67656f': 'EFI_IMAGE_SECURITY_DATABASE',
};

const MAX_TEXT = 120;

/**
 * One line saying what an event's data holds, for the event types bootlab and firmware
 * write (tpm.md §3.2). It never throws: data that does not parse as its type claims is
 * shown as hex with a note, since a log under inspection may well be a tampered one.
 */
export function describeEventData(e: TcgEvent): string {
  const d = Buffer.from(e.data);
  try {
    switch (e.eventType) {
      case EV_S_CRTM_VERSION:
        return quote(d.toString('utf16le').replace(/\0+$/, ''));
      case EV_EFI_ACTION:
      case EV_ACTION:
      case EV_POST_CODE:
        return printable(d) ? quote(d.toString('latin1')) : hexSummary(d);
      case EV_SEPARATOR:
        return d.length === 4 && d.readUInt32LE(0) === 0xffffffff ? 'FFFFFFFF (firmware error)' : d.toString('hex');
      case EV_EFI_VARIABLE_DRIVER_CONFIG:
      case EV_EFI_VARIABLE_BOOT:
      case EV_EFI_VARIABLE_BOOT2:
      case EV_EFI_VARIABLE_AUTHORITY:
        return variable(d);
      case EV_EFI_BOOT_SERVICES_APPLICATION:
      case EV_EFI_BOOT_SERVICES_DRIVER:
      case EV_EFI_RUNTIME_SERVICES_DRIVER:
        return `image at 0x${d.readBigUInt64LE(0).toString(16)}, ${d.readBigUInt64LE(8)} bytes`;
      case EV_EVENT_TAG: {
        const id = d.readUInt32LE(0);
        const size = d.readUInt32LE(4);
        const body = d.subarray(8, 8 + size);
        const tag = Buffer.alloc(4);
        tag.writeUInt32BE(id);
        const name = printable(tag) ? `'${tag.toString('latin1')}'` : `0x${id.toString(16).padStart(8, '0')}`;
        return `tag ${name}: ${printable(body) ? quote(body.toString('latin1')) : hexSummary(body)}`;
      }
      default:
        return hexSummary(d);
    }
  } catch {
    return `${hexSummary(d)} (does not parse as ${eventTypeName(e.eventType)})`;
  }
}

function variable(d: Buffer): string {
  const guid = decodeGuid(d, 0);
  const nameChars = Number(d.readBigUInt64LE(16));
  const dataLength = Number(d.readBigUInt64LE(24));
  const nameEnd = 32 + nameChars * 2;
  if (nameEnd + dataLength > d.length) throw new RangeError('variable longer than the event data');
  const name = d.subarray(32, nameEnd).toString('utf16le');
  const value = d.subarray(nameEnd, nameEnd + dataLength);
  const where = GUID_NAMES[guid] ?? guid;
  return `${where}:${name} = ${value.length <= 8 ? value.toString('hex') || '(empty)' : `${value.length} bytes`}`;
}

function printable(b: Uint8Array): boolean {
  return b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f);
}

function quote(text: string): string {
  return JSON.stringify(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);
}

function hexSummary(d: Uint8Array): string {
  const hex = Buffer.from(d.subarray(0, 24)).toString('hex');
  return d.length === 0 ? '(no data)' : `${hex}${d.length > 24 ? '…' : ''} (${d.length} bytes)`;
}

/**
 * A reader must not take a label for a measurement: data no digest covers says so, and data
 * its digest contradicts says that louder (the log was edited).
 */
function bindingNote(b: DataBinding): string {
  if (b.status === 'unbound') return '  [data not covered by the digest]';
  if (b.status === 'mismatch') return `  [DATA DOES NOT MATCH ITS DIGEST: ${b.detail}]`;
  return '';
}

/** The whole log as text: header, each event with its digests, then the replayed PCRs. */
export function formatEventLog(log: EventLog, replayed: PcrBanks, opts: { name?: string } = {}): string {
  const s = log.specId;
  const lines = [
    `${opts.name ?? 'event log'}: TCG crypto-agile log, spec ${s.specVersion.major}.${s.specVersion.minor} errata ${s.specVersion.errata}, ` +
      `banks ${s.algorithms.join(', ')}, ${log.events.length} events`,
    '',
  ];
  const bindings = bindEventData(log);
  log.events.forEach((e, i) => {
    lines.push(`#${String(i + 1).padEnd(4)} PCR ${String(e.pcrIndex).padStart(2)}  ${eventTypeName(e.eventType)}`);
    lines.push(`       ${describeEventData(e)}${bindingNote(bindings[i]!)}`);
    for (const { alg, digest } of e.digests) lines.push(`       ${alg.padEnd(7)} ${Buffer.from(digest).toString('hex')}`);
  });
  lines.push('', 'PCRs after replay (extended ones):');
  const extended = new Set(log.events.filter((e) => e.digests.some((d) => d.digest.some((b) => b !== 0))).map((e) => e.pcrIndex));
  for (const alg of s.algorithms) {
    for (const pcr of [...extended].sort((a, b) => a - b)) {
      const v = replayed[alg][pcr];
      if (v) lines.push(`  ${`${alg}:${pcr}`.padEnd(10)} ${Buffer.from(v).toString('hex')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
