import type { EventLog, TcgEvent } from '../protocol/tcg/event-log.js';
import {
  EV_ACTION,
  EV_EFI_ACTION,
  EV_EFI_VARIABLE_AUTHORITY,
  EV_EFI_VARIABLE_BOOT,
  EV_EFI_VARIABLE_BOOT2,
  EV_EFI_VARIABLE_DRIVER_CONFIG,
  EV_EVENT_TAG,
  EV_IPL,
  EV_NO_ACTION,
  EV_S_CRTM_VERSION,
  EV_SEPARATOR,
} from '../protocol/tcg/event-types.js';
import { hashOf } from '../protocol/tcg/hash-alg.js';
import { TAG_REFERENCE_LIST, TAG_UNKNOWN_STAGE } from './reference-list.js';

/**
 * Whether an event's data is what its digests measured. The PCRs attest digests only; the
 * data next to them is free text unless the digest covers it, so a verifier (and a log
 * reader) must know, event by event, which data it may believe:
 *
 * - `bound`: every bank's digest is H(data) (or H of the part the type defines), or the
 *   data's claims are tied to something bound (see below).
 * - `mismatch`: the type says the digest covers the data, and it does not: the data (or a
 *   digest in some bank) was edited. A verifier fails on this.
 * - `unbound`: the digest is of something the log does not hold (firmware code, an image,
 *   a file): the data is a label that nothing attests.
 */
export type DataBinding = { status: 'bound' | 'unbound' | 'mismatch'; detail: string };

/** TCG_PCClientTaggedEvent ids whose digest is not the event data (bootlab's, measured-boot.ts). */
const TAG_INSTALLER = 0x4f4e4945; // 'ONIE': digest = the installer image
const TAG_INSTALLER_CONFIG = 0x434f4e46; // 'CONF': digest = H(data), holds onie_exec_url
/** GRUB's PCR 8 strings: "<kind>: TEXT\0", with the digest over TEXT alone. */
const GRUB_STRING = /^(grub_cmd|kernel_cmdline|module_cmdline): ([^\0]*)\0?$/s;
const GRUB_PCR = 8;

/** Event types whose digest is defined as H(event data) (TCG PC Client PFP §10.4.1). */
const DATA_DIGEST_TYPES = new Set([
  EV_S_CRTM_VERSION,
  EV_SEPARATOR,
  EV_ACTION,
  EV_EFI_ACTION,
  EV_EFI_VARIABLE_DRIVER_CONFIG,
  EV_EFI_VARIABLE_BOOT,
  EV_EFI_VARIABLE_BOOT2,
  EV_EFI_VARIABLE_AUTHORITY,
]);

/** One binding per event of the log, in log order. */
export function bindEventData(log: EventLog): DataBinding[] {
  const out = log.events.map(bindOne);
  crossBindInstallerUrls(log.events, out);
  return out;
}

function bindOne(e: TcgEvent): DataBinding {
  if (e.eventType === EV_NO_ACTION) return { status: 'bound', detail: 'not extended' };
  if (coversAll(e, e.data)) return { status: 'bound', detail: 'every digest is H(data)' };
  const wrong = (what: string, content: Uint8Array = e.data): DataBinding => ({ status: 'mismatch', detail: `${what} (banks not matching: ${banksNotCovering(e, content).join(', ')})` });
  if (DATA_DIGEST_TYPES.has(e.eventType)) {
    // Some firmware measures only VariableData for boot variables (tpm2_eventlog accepts both).
    if ((e.eventType === EV_EFI_VARIABLE_BOOT || e.eventType === EV_EFI_VARIABLE_BOOT2) && coversAll(e, variableData(e.data))) {
      return { status: 'bound', detail: 'every digest is H(VariableData)' };
    }
    return wrong('the digest of this event type is H(data), and the data does not hash to it');
  }
  if (e.eventType === EV_IPL) {
    const text = Buffer.from(e.data).toString('latin1');
    const m = GRUB_STRING.exec(text);
    if (m && coversAll(e, Buffer.from(m[2]!, 'latin1'))) return { status: 'bound', detail: `every digest is H(${m[1]} text)` };
    if (e.pcrIndex === GRUB_PCR) return wrong('a GRUB command in PCR 8 whose text does not hash to its digest', m ? Buffer.from(m[2]!, 'latin1') : e.data);
    return { status: 'unbound', detail: 'the digest is of the loaded file; the data (its path) is not covered' };
  }
  if (e.eventType === EV_EVENT_TAG) return bindTagged(e);
  return { status: 'unbound', detail: 'the digest is not of the event data' };
}

/**
 * bootlab's tags whose digest is of content outside the log carry that content's sha256 in
 * their JSON: it must be the sha256 digest, or the data lies about what was measured.
 */
function bindTagged(e: TcgEvent): DataBinding {
  const d = Buffer.from(e.data);
  if (d.length < 8 || d.readUInt32LE(4) !== d.length - 8) return { status: 'mismatch', detail: 'not a TCG_PCClientTaggedEvent, and the digest is not H(data)' };
  const id = d.readUInt32LE(0);
  if (id !== TAG_INSTALLER && id !== TAG_UNKNOWN_STAGE && id !== TAG_REFERENCE_LIST) {
    return { status: 'mismatch', detail: `tag 0x${id.toString(16).padStart(8, '0')}: its digest is H(data), and the data does not hash to it` };
  }
  let claimed: unknown;
  try {
    claimed = (JSON.parse(d.subarray(8).toString('utf8')) as { sha256?: unknown }).sha256;
  } catch {
    return { status: 'mismatch', detail: 'the tagged data is not the JSON bootlab measures, and the digest is not H(data)' };
  }
  const sha256 = e.digests.find((x) => x.alg === 'sha256');
  if (!sha256) return { status: 'unbound', detail: 'the digest is of the measured content; without a sha256 bank the data cannot be tied to it' };
  if (claimed !== Buffer.from(sha256.digest).toString('hex')) {
    return { status: 'mismatch', detail: `the data claims sha256 ${String(claimed).slice(0, 64)}, the event's sha256 digest is ${Buffer.from(sha256.digest).toString('hex')}` };
  }
  return { status: 'unbound', detail: "the digest is of the measured content; the data's sha256 matches it, its other fields are not covered" };
}

/**
 * An installer's URL in PCR 13 is not covered by its digest (that is the image), but ONIE
 * measures the same URL as onie_exec_url into PCR 15 with a digest over the data just
 * before it runs that installer. A URL with such a covered twin is bound; one that differs
 * from its twin was rewritten.
 */
function crossBindInstallerUrls(events: readonly TcgEvent[], out: DataBinding[]): void {
  events.forEach((e, i) => {
    if (tagOf(e) !== TAG_INSTALLER || out[i]!.status !== 'unbound') return;
    const url = jsonField(e.data, 'url');
    for (let j = i + 1; j < events.length; j++) {
      const next = events[j]!;
      if (tagOf(next) === TAG_INSTALLER) return;
      if (tagOf(next) !== TAG_INSTALLER_CONFIG || out[j]!.status !== 'bound') continue;
      const execUrl = /^onie_exec_url=(.*)$/m.exec(Buffer.from(next.data.subarray(8)).toString('utf8'))?.[1];
      if (execUrl === undefined) return;
      out[i] =
        execUrl === url
          ? { status: 'bound', detail: `sha256 matches the digest; url is the onie_exec_url measured in PCR ${next.pcrIndex} (event #${j + 1})` }
          : { status: 'mismatch', detail: `url ${JSON.stringify(url)} is not the onie_exec_url ${JSON.stringify(execUrl)} measured in PCR ${next.pcrIndex} (event #${j + 1})` };
      return;
    }
  });
}

function tagOf(e: TcgEvent): number | undefined {
  if (e.eventType !== EV_EVENT_TAG || e.data.length < 8) return undefined;
  return Buffer.from(e.data).readUInt32LE(0);
}

function jsonField(data: Uint8Array, field: string): unknown {
  try {
    return (JSON.parse(Buffer.from(data.subarray(8)).toString('utf8')) as Record<string, unknown>)[field];
  } catch {
    return undefined;
  }
}

function coversAll(e: TcgEvent, content: Uint8Array | undefined): boolean {
  return content !== undefined && e.digests.length > 0 && banksNotCovering(e, content).length === 0;
}

function banksNotCovering(e: TcgEvent, content: Uint8Array): string[] {
  return e.digests.filter((d) => !hashOf(d.alg, content).equals(Buffer.from(d.digest))).map((d) => d.alg);
}

/** UEFI_VARIABLE_DATA's VariableData, or undefined when the structure does not parse. */
function variableData(data: Uint8Array): Uint8Array | undefined {
  const d = Buffer.from(data);
  if (d.length < 32) return undefined;
  const nameEnd = 32 + Number(d.readBigUInt64LE(16)) * 2;
  const end = nameEnd + Number(d.readBigUInt64LE(24));
  return end === d.length ? d.subarray(nameEnd) : undefined;
}
