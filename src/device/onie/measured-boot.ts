import { createHash } from 'node:crypto';
import type { HashAlg } from '../../protocol/tcg/hash-alg.js';
import type { TcgEvent } from '../../protocol/tcg/event-log.js';
import {
  EV_EFI_ACTION,
  EV_EFI_BOOT_SERVICES_APPLICATION,
  EV_EFI_VARIABLE_AUTHORITY,
  EV_EFI_VARIABLE_BOOT,
  EV_EFI_VARIABLE_DRIVER_CONFIG,
  EV_EVENT_TAG,
  EV_IPL,
  EV_POST_CODE,
  EV_S_CRTM_VERSION,
  EV_SEPARATOR,
} from '../../protocol/tcg/event-types.js';
import type { TrustStore } from '../../trust/trust-store.js';
import {
  crtmVersion,
  efiAction,
  efiImageLoadEvent,
  efiSignatureData,
  efiSignatureListSha256,
  efiSignatureListX509,
  separator,
  taggedEvent,
  uefiVariableData,
  EFI_GLOBAL_VARIABLE_GUID,
  EFI_IMAGE_SECURITY_DATABASE_GUID,
} from '../../protocol/tcg/event-data.js';
import type { DeviceIdentity } from '../identity.js';
import { TAG_REFERENCE_LIST, TAG_UNKNOWN_STAGE } from '../../trust/reference-list.js';
import { oniePlatform } from '../identity.js';

/**
 * What an ONIE switch measures, and where (README's table says why). PCRs 0–9 follow the
 * TCG PC Client profile and GRUB; 12–15 are bootlab's own, since ONIE measures nothing:
 *
 * | PCR | what                                                     | event                                   |
 * |-----|----------------------------------------------------------|-----------------------------------------|
 * | 0   | firmware version and firmware code                       | EV_S_CRTM_VERSION, EV_POST_CODE         |
 * | 1   | BootOrder                                                | EV_EFI_VARIABLE_BOOT                    |
 * | 7   | Secure Boot state and the db list                        | EV_EFI_VARIABLE_DRIVER_CONFIG           |
 * | 0–7 | end of pre-boot                                          | EV_SEPARATOR                            |
 * | 4   | ONIE's GRUB, started by the boot manager                 | EV_EFI_ACTION, EV_EFI_BOOT_SERVICES_APPLICATION |
 * | 9   | the ONIE kernel and initramfs GRUB loads                 | EV_IPL                                  |
 * | 8   | GRUB's commands and the kernel command line              | EV_IPL                                  |
 * | 5   | ExitBootServices                                         | EV_EFI_ACTION                           |
 * | 12  | a provisioned reference list, then installers not in it  | EV_EVENT_TAG 'DLST', 'UNKN'             |
 * | 7   | each db certificate that authorised an installer (once)  | EV_EFI_VARIABLE_AUTHORITY               |
 * | 13  | each installer image before it runs (digest = image)     | EV_EVENT_TAG 'ONIE'                     |
 * | 14  | each image rejected by verification                      | EV_EVENT_TAG 'RJCT'                     |
 * | 15  | the installer's configuration (per device: never golden) | EV_EVENT_TAG 'CONF'                     |
 *
 * Per-device values (serial, MAC, URLs with ephemeral ports) never go into a golden PCR's
 * digest, so golden values hold for every switch of one platform and firmware release.
 * URLs do go into event data, where the log reader can see them without changing a PCR.
 */
export const PCR = {
  firmware: 0,
  platformConfig: 1,
  bootManagerCode: 4,
  bootManagerData: 5,
  secureBoot: 7,
  bootCommands: 8,
  bootFiles: 9,
  referenceList: 12,
  installer: 13,
  rejected: 14,
  installerConfig: 15,
} as const;

/** What the verifier quotes, and the subset with golden values (14 varies with faults, 15 per device). */
export const QUOTED_PCRS = [0, 1, 4, 5, 7, 8, 9, 12, 13, 14, 15];
export const GOLDEN_PCRS = [0, 1, 4, 5, 7, 8, 9, 13];
/**
 * With a reference list, 12 replaces 13 among the golden PCRs: 12 then depends only on
 * which list was trusted (and any unknown stage), 13 on which listed installer ran.
 */
export const GOLDEN_PCRS_WITH_LIST = [0, 1, 4, 5, 7, 8, 9, 12];
/** Tagged event of the installer's configuration (PCR 15). */
export const TAG_INSTALLER_CONFIG = 0x434f4e46; // 'CONF'

/** TCG_PCClientTaggedEvent ids: ASCII tags read as big-endian u32. */
export const TAG_INSTALLER = 0x4f4e4945; // 'ONIE'
export const TAG_REJECTED = 0x524a4354; // 'RJCT'


export interface Measurement {
  pcr: number;
  eventType: number;
  data: Uint8Array;
  /** When the digest is of something other than the event data (a firmware blob, an image). */
  digests?: Partial<Record<HashAlg, Uint8Array>>;
}

export interface FirmwareProfile {
  vendor: string;
  version: string;
}

export function firmwareProfileOf(id: DeviceIdentity): FirmwareProfile {
  return { vendor: 'bootlab UEFI', version: `${id.machine}-fw-1.0` };
}

/** The Secure Boot variables firmware measures into PCR 7 before any code runs (DER certificates). */
export interface SecureBootVariables {
  pk?: Uint8Array | undefined;
  kek: readonly Uint8Array[];
  db: readonly Uint8Array[];
  dbx: { certs: readonly Uint8Array[]; sha256: readonly Uint8Array[] };
}

/** What a trust store puts into PCR 7 at power-on. */
export function secureBootVariablesOf(store: Pick<TrustStore, 'pk' | 'kek' | 'db' | 'dbx'>): SecureBootVariables {
  return {
    pk: store.pk?.raw,
    kek: store.kek.map((c) => c.raw),
    db: store.db.map((c) => c.raw),
    dbx: { certs: store.dbx.certs.map((c) => c.raw), sha256: store.dbx.sha256 },
  };
}

/** Firmware stage and ONIE stage, from power-on to the point where discovery starts. */
export function preBootMeasurements(id: DeviceIdentity, vars: SecureBootVariables): Measurement[] {
  const fw = firmwareProfileOf(id);
  // Simulated code: deterministic stand-ins for the firmware volume and the ONIE kernel,
  // so the same platform and release always produce the same digests.
  const firmwareCode = Buffer.from(`bootlab simulated firmware\0${fw.vendor}\0${fw.version}\0${id.arch}`);
  const onieGrub = Buffer.from(`bootlab simulated ONIE GRUB\0${id.onieVersion}\0${id.arch}`);
  const onieKernel = Buffer.from(`bootlab simulated ONIE kernel\0${id.onieVersion}\0${oniePlatform(id)}`);
  const onieInitrd = Buffer.from(`bootlab simulated ONIE initramfs\0${id.onieVersion}\0${oniePlatform(id)}`);
  // What ONIE's grub.cfg runs (no per-device values: golden values hold for a fleet).
  const cmdline = `console=ttyS0,115200n8 boot_reason=install onie_platform=${oniePlatform(id)}`;
  const grubCommands = [`grub_cmd: linux /onie/vmlinuz ${cmdline}`, `kernel_cmdline: /onie/vmlinuz ${cmdline}`, 'grub_cmd: initrd /onie/initrd.img'];
  const m: Measurement[] = [
    { pcr: PCR.firmware, eventType: EV_S_CRTM_VERSION, data: crtmVersion(`${fw.vendor} ${fw.version}`) },
    { pcr: PCR.firmware, eventType: EV_POST_CODE, data: Buffer.from('POST CODE'), digests: digestsOf(firmwareCode) },
    // BootOrder = Boot0000, the ONIE entry.
    { pcr: PCR.platformConfig, eventType: EV_EFI_VARIABLE_BOOT, data: uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'BootOrder', Uint8Array.of(0, 0)) },
    {
      pcr: PCR.secureBoot,
      eventType: EV_EFI_VARIABLE_DRIVER_CONFIG,
      data: uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Uint8Array.of(1)),
    },
    // TCG PC Client PFP: SecureBoot, PK, KEK, db, dbx, each measured even when empty. A dbx
    // update therefore moves PCR 7, as it does on real machines.
    ...([
      [EFI_GLOBAL_VARIABLE_GUID, 'PK', efiSignatureListX509(BOOTLAB_OWNER_GUID, vars.pk ? [vars.pk] : [])],
      [EFI_GLOBAL_VARIABLE_GUID, 'KEK', efiSignatureListX509(BOOTLAB_OWNER_GUID, vars.kek)],
      [EFI_IMAGE_SECURITY_DATABASE_GUID, 'db', efiSignatureListX509(BOOTLAB_OWNER_GUID, vars.db)],
      [
        EFI_IMAGE_SECURITY_DATABASE_GUID,
        'dbx',
        Buffer.concat([efiSignatureListX509(BOOTLAB_OWNER_GUID, vars.dbx.certs), efiSignatureListSha256(BOOTLAB_OWNER_GUID, vars.dbx.sha256)]),
      ],
    ] as const).map(([guid, name, data]) => ({ pcr: PCR.secureBoot, eventType: EV_EFI_VARIABLE_DRIVER_CONFIG, data: uefiVariableData(guid, name, data) })),
  ];
  for (let pcr = 0; pcr <= 7; pcr++) m.push({ pcr, eventType: EV_SEPARATOR, data: separator() });
  m.push(
    { pcr: PCR.bootManagerCode, eventType: EV_EFI_ACTION, data: efiAction('Calling EFI Application from Boot Option') },
    {
      pcr: PCR.bootManagerCode,
      eventType: EV_EFI_BOOT_SERVICES_APPLICATION,
      data: efiImageLoadEvent({ location: 0x7e000000n, length: BigInt(onieGrub.length), linkTime: 0n, devicePath: new Uint8Array() }),
      digests: digestsOf(onieGrub),
    },
    // GRUB measures each file it loads into 9 and each command it runs into 8. The event
    // data is "grub_cmd: CMD" (or "kernel_cmdline: LINE") NUL-terminated; the digest covers
    // CMD alone, which is what tpm2_eventlog checks.
    { pcr: PCR.bootFiles, eventType: EV_IPL, data: cString('/onie/vmlinuz'), digests: digestsOf(onieKernel) },
    { pcr: PCR.bootFiles, eventType: EV_IPL, data: cString('/onie/initrd.img'), digests: digestsOf(onieInitrd) },
    ...grubCommands.map((c) => ({ pcr: PCR.bootCommands, eventType: EV_IPL, data: cString(c), digests: digestsOf(Buffer.from(c.slice(c.indexOf(': ') + 2))) })),
    { pcr: PCR.bootManagerData, eventType: EV_EFI_ACTION, data: efiAction('Exit Boot Services Invocation') },
    { pcr: PCR.bootManagerData, eventType: EV_EFI_ACTION, data: efiAction('Exit Boot Services Returned with Success') },
  );
  return m;
}

/** The db entry that approved an installer, as UEFI measures the authority for an image. */
export function authorityMeasurement(authorityDer: Uint8Array): Measurement {
  return {
    pcr: PCR.secureBoot,
    eventType: EV_EFI_VARIABLE_AUTHORITY,
    data: uefiVariableData(EFI_IMAGE_SECURITY_DATABASE_GUID, 'db', efiSignatureData(BOOTLAB_OWNER_GUID, authorityDer)),
  };
}

/**
 * dual-signer: the operator certificate that vouched for the countersignature, measured
 * like a db authority but as bootlab's own OperatorDb variable (UEFI has no such list).
 */
export function operatorAuthorityMeasurement(authorityDer: Uint8Array): Measurement {
  return {
    pcr: PCR.secureBoot,
    eventType: EV_EFI_VARIABLE_AUTHORITY,
    data: uefiVariableData(BOOTLAB_VARIABLE_GUID, 'OperatorDb', efiSignatureData(BOOTLAB_OWNER_GUID, authorityDer)),
  };
}

/** The installer about to run: the digest is the image, the data says what and from where. */
export function installerMeasurement(
  image: { url: string; size: number; sha1?: Uint8Array | undefined; sha256: Uint8Array; sha384?: Uint8Array | undefined },
): Measurement {
  const text = JSON.stringify({ url: image.url, size: image.size, sha256: Buffer.from(image.sha256).toString('hex') });
  return {
    pcr: PCR.installer,
    eventType: EV_EVENT_TAG,
    data: taggedEvent(TAG_INSTALLER, Buffer.from(text)),
    digests: { ...(image.sha1 ? { sha1: image.sha1 } : {}), sha256: image.sha256, ...(image.sha384 ? { sha384: image.sha384 } : {}) },
  };
}

/** The reference list the device trusted: digest = the signed list bytes, so a verifier can compute PCR 12 ahead. */
export function referenceListMeasurement(list: { id: string; version: number; bytes: Uint8Array }): Measurement {
  const text = JSON.stringify({ id: list.id, version: list.version, sha256: createHash('sha256').update(list.bytes).digest('hex') });
  return { pcr: PCR.referenceList, eventType: EV_EVENT_TAG, data: taggedEvent(TAG_REFERENCE_LIST, Buffer.from(text)), digests: digestsOf(list.bytes) };
}

/** An installer the reference list does not know: it, and only it, moves PCR 12. */
export function unknownStageMeasurement(
  image: { url: string; sha1?: Uint8Array | undefined; sha256: Uint8Array; sha384?: Uint8Array | undefined },
): Measurement {
  const text = JSON.stringify({ stage: 'nos-installer', url: image.url, sha256: Buffer.from(image.sha256).toString('hex') });
  return {
    pcr: PCR.referenceList,
    eventType: EV_EVENT_TAG,
    data: taggedEvent(TAG_UNKNOWN_STAGE, Buffer.from(text)),
    digests: { ...(image.sha1 ? { sha1: image.sha1 } : {}), sha256: image.sha256, ...(image.sha384 ? { sha384: image.sha384 } : {}) },
  };
}

/**
 * What the installer is told (onie_exec_url and the onie_disco_* variables, sorted), just
 * before it runs. The digest covers the data, so a verifier can check the log's text; it is
 * per device (addresses, URLs), so PCR 15 is quoted but never golden.
 */
export function installerConfigMeasurement(env: Record<string, string>): Measurement {
  const text = Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join('\n');
  return { pcr: PCR.installerConfig, eventType: EV_EVENT_TAG, data: taggedEvent(TAG_INSTALLER_CONFIG, Buffer.from(text)) };
}

/** A refused image: the digest covers the data, so a verifier can recompute it from the log. */
export function rejectionMeasurement(r: { url: string; reason: string; sha256: Uint8Array }): Measurement {
  const text = JSON.stringify({ url: r.url, reason: r.reason, sha256: Buffer.from(r.sha256).toString('hex') });
  return { pcr: PCR.rejected, eventType: EV_EVENT_TAG, data: taggedEvent(TAG_REJECTED, Buffer.from(text)) };
}

/** The events a known-good install boot produces, for computing golden PCR values. */
export function goldenBootMeasurements(
  id: DeviceIdentity,
  vars: SecureBootVariables,
  image: { authorityDer: Uint8Array; operatorAuthorityDer?: Uint8Array | undefined; size: number; sha1?: Uint8Array | undefined; sha256: Uint8Array },
): Measurement[] {
  return [
    ...preBootMeasurements(id, vars),
    authorityMeasurement(image.authorityDer),
    ...(image.operatorAuthorityDer ? [operatorAuthorityMeasurement(image.operatorAuthorityDer)] : []),
    installerMeasurement({ url: '', ...image }),
  ];
}

/** Fills in the per-bank digests of a measurement (H(data) unless given). */
export function toTcgEvent(m: Measurement, banks: readonly HashAlg[]): TcgEvent {
  return {
    pcrIndex: m.pcr,
    eventType: m.eventType,
    digests: banks.map((alg) => {
      if (m.digests === undefined) return { alg, digest: createHash(alg).update(m.data).digest() };
      const digest = m.digests[alg];
      // Hashing the event data instead would silently measure the wrong thing.
      if (digest === undefined) throw new Error(`measurement for PCR ${m.pcr} has no ${alg} digest of its content`);
      return { alg, digest };
    }),
    data: m.data,
  };
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

function digestsOf(bytes: Uint8Array): Record<'sha1' | 'sha256' | 'sha384', Buffer> {
  return {
    sha1: createHash('sha1').update(bytes).digest(),
    sha256: createHash('sha256').update(bytes).digest(),
    sha384: createHash('sha384').update(bytes).digest(),
  };
}

/** SignatureOwner GUID bootlab puts on its db entries (a fixed, random-generated value). */
export const BOOTLAB_OWNER_GUID = '6f1e5a3c-0b7d-4c2e-9a41-b007fa6b0001';
/** Vendor GUID of bootlab's own variables (OperatorDb), a fixed, random-generated value. */
export const BOOTLAB_VARIABLE_GUID = '0c5b2f6e-93d1-4a8e-b7c4-5d2e61a0f0b2';
