import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { policyPcr } from '../protocol/tpm2/policy.js';
import { EV_NO_ACTION } from '../protocol/tcg/event-types.js';
import { defaultSpecId, encodeEventLog, PCR_COUNT, type TcgEvent } from '../protocol/tcg/event-log.js';
import { DIGEST_SIZE, hashOf, type HashAlg } from '../protocol/tcg/hash-alg.js';
import { TPM_GENERATED_VALUE, encodeQuoteAttest, type ClockInfo } from '../protocol/tpm2/attest.js';
import { normalizeSelection } from '../protocol/tpm2/pcr-selection.js';
import { encodePcrsFile } from '../protocol/tpm2/pcrs-file.js';
import {
  TPM_RH_ENDORSEMENT,
  akPublic,
  ekPublic,
  encodeTpm2bPublic,
  hierarchyQualifiedName,
  objectName,
  qualifiedName,
  type PublicKeyParams,
} from '../protocol/tpm2/public.js';
import { BootlabError } from '../errors.js';
import { DRTM_PCRS, pcrAttributes } from './pcr-attributes.js';
import { applyEvent, createPcrBanks, extendPcr, selectedValues, type PcrBanks } from './pcr-bank.js';
import { signTpm2 } from './tpm-signature.js';

export interface VirtualTpmOptions {
  /** Allocated PCR banks, in the order the event log lists them. Default sha1 + sha256. */
  banks?: HashAlg[] | undefined;
  /** Attestation key type. Default ECC P-256 (fast to generate); RSA is 2048-bit. */
  akType?: 'ecc' | 'rsa' | undefined;
  /** The RSA AK's signing scheme (its template fixes it, as a restricted key's does). Default RSASSA. */
  akScheme?: 'rsassa' | 'rsapss' | undefined;
  /** Endorsement key type. Default ECC P-256; RSA is the 2048-bit template of the EK profile. */
  ekType?: 'ecc' | 'rsa' | undefined;
  firmwareVersion?: bigint | undefined;
  /** Milliseconds; clockInfo.clock counts from the construction of the TPM. Default Date.now. */
  now?: (() => number) | undefined;
}

export interface TpmQuote {
  /** TPMS_ATTEST, the signed bytes (no TPM2B size prefix), as `tpm2_quote -m` writes. */
  attest: Buffer;
  /** TPMT_SIGNATURE, as `tpm2_quote -s` writes. */
  signature: Buffer;
  /** The serialized PCR file, as `tpm2_quote -o` writes. */
  pcrsFile: Buffer;
  pcrValues: Array<{ alg: HashAlg; pcr: number; value: Buffer }>;
}

export interface AkInfo {
  publicPem: string;
  tpm2bPublic: Buffer;
  /** nameAlg ‖ sha256(TPMT_PUBLIC). */
  name: Buffer;
  type: 'ecc' | 'rsa';
}

/** swtpm's firmwareVersion shape (date ‖ build); any value works, a verifier only compares it. */
const DEFAULT_FIRMWARE_VERSION = 0x2024060100000001n;
/** The signing scheme's hash also digests the quoted PCRs (tpm.md §2.1). */
const SIGN_HASH: HashAlg = 'sha256';

/**
 * A software TPM 2.0: PCR banks with their TCG event log, an EK in the endorsement hierarchy
 * and a restricted AK under it that quotes. Keys never leave the object.
 */
export class VirtualTpm {
  readonly banks: HashAlg[];
  readonly ak: AkInfo;
  /** The EK the AK's qualified name descends from. */
  readonly ek: { publicPem: string; name: Buffer; qualifiedName: Buffer; type: 'ecc' | 'rsa'; tpm2bPublic: Buffer };
  /** QN(AK) = nameAlg ‖ H(QN(EK) ‖ Name(AK)): the quote's qualifiedSigner. */
  readonly akQualifiedName: Buffer;
  readonly firmwareVersion: bigint;

  private readonly akPrivate: KeyObject;
  private readonly akScheme: 'rsassa' | 'rsapss';
  /** Wraps sealed objects that leave the TPM, as a storage parent key does. */
  private readonly storageKey = randomBytes(32);
  private readonly now: () => number;
  private readonly startedAt: number;
  private pcrs: PcrBanks;
  private log: TcgEvent[] = [];
  private lastClock = -1n;
  private resetCount = 0;
  private restartCount = 0;

  constructor(opts: VirtualTpmOptions = {}) {
    const banks = opts.banks ?? ['sha1', 'sha256'];
    if (banks.length === 0 || new Set(banks).size !== banks.length) throw new RangeError('banks must be distinct and non-empty');
    this.banks = [...banks];
    this.pcrs = createPcrBanks(this.banks);
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.firmwareVersion = opts.firmwareVersion ?? DEFAULT_FIRMWARE_VERSION;

    const ekType = opts.ekType ?? 'ecc';
    const ekKeys = ekType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ekPub = ekPublic(publicParams(ekKeys.publicKey));
    const ekName = objectName(ekPub);
    const ekQn = qualifiedName(hierarchyQualifiedName(TPM_RH_ENDORSEMENT), ekName);
    this.ek = { publicPem: pem(ekKeys.publicKey), name: ekName, qualifiedName: ekQn, type: ekType, tpm2bPublic: encodeTpm2bPublic(ekPub) };

    const type = opts.akType ?? 'ecc';
    this.akScheme = opts.akScheme ?? 'rsassa';
    if (type === 'ecc' && this.akScheme !== 'rsassa') throw new RangeError('an ECC AK signs with ECDSA; rsapss needs an RSA AK');
    const akKeys = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.akPrivate = akKeys.privateKey;
    const akPub = akPublic(publicParams(akKeys.publicKey), this.akScheme);
    const name = objectName(akPub);
    this.ak = { publicPem: pem(akKeys.publicKey), tpm2bPublic: encodeTpm2bPublic(akPub), name, type };
    this.akQualifiedName = qualifiedName(ekQn, name);
  }

  /** TPM2_PCR_Extend plus its log entry; `locality` must be one the PCR accepts extends from. */
  extend(pcr: number, eventType: number, data: Uint8Array, digests?: Partial<Record<HashAlg, Uint8Array>>, locality = 0): TcgEvent {
    if (!Number.isInteger(pcr) || pcr < 0 || pcr >= PCR_COUNT) throw new RangeError(`PCR ${pcr} does not exist (0–${PCR_COUNT - 1})`);
    checkLocality(pcr, locality, 'extend');
    const given = digests ? Object.keys(digests).filter((k) => digests[k as HashAlg] !== undefined) : [];
    const stray = given.filter((k) => !this.banks.includes(k as HashAlg));
    if (stray.length > 0) throw new RangeError(`digests for unallocated banks: ${stray.join(', ')}`);
    if (digests && given.length !== this.banks.length) throw new RangeError(`need one digest per bank (${this.banks.join(', ')})`);
    const noAction = eventType === EV_NO_ACTION;
    if (noAction && digests) throw new RangeError('EV_NO_ACTION events are not extended and carry zero digests');
    const event: TcgEvent = {
      pcrIndex: pcr,
      eventType: eventType >>> 0,
      digests: this.banks.map((alg) => {
        const d = noAction ? new Uint8Array(DIGEST_SIZE[alg]) : (digests?.[alg] ?? hashOf(alg, data));
        if (d.length !== DIGEST_SIZE[alg]) throw new RangeError(`${alg} digest must be ${DIGEST_SIZE[alg]} bytes, got ${d.length}`);
        return { alg, digest: Uint8Array.from(d) };
      }),
      data: Uint8Array.from(data),
    };
    applyEvent(this.pcrs, event);
    this.log.push(event);
    return event;
  }

  /**
   * TPM2_PCR_Reset: only the resettable PCRs (16 and 23 from any locality, the DRTM PCRs
   * from theirs) go back to zero. Not a firmware-log event: a log replay does not cover them.
   */
  resetPcr(pcr: number, locality = 0): void {
    const attrs = pcrAttributes(pcr);
    if (!attrs.reset.includes(locality)) {
      throw new BootlabError('BL_TPM_LOCALITY', `PCR ${pcr} cannot be reset from locality ${locality} (TPM_RC_LOCALITY; resettable from ${attrs.reset.join(', ') || 'no locality'})`);
    }
    for (const alg of this.banks) this.pcrs[alg][pcr] = new Uint8Array(DIGEST_SIZE[alg]);
  }

  /**
   * A dynamic launch (_TPM_Hash_Start … _TPM_Hash_End at locality 4): PCRs 17–22 go from
   * FF…FF (or whatever they held) to zero, then PCR 17 is extended with H(code). Its
   * measurements belong to the DRTM log, not the firmware log this TPM writes.
   */
  dynamicLaunch(code: Uint8Array): void {
    for (const pcr of DRTM_PCRS) this.resetPcr(pcr, 4);
    for (const alg of this.banks) extendPcr(this.pcrs, alg, 17, hashOf(alg, code));
  }

  pcr(alg: HashAlg, index: number): Uint8Array {
    const v = this.pcrs[alg][index];
    if (!v) throw new RangeError(`PCR ${alg}:${index} is not allocated`);
    return Uint8Array.from(v);
  }

  eventLog(): Buffer {
    return encodeEventLog({ specId: defaultSpecId(this.banks), events: this.log });
  }

  events(): readonly TcgEvent[] {
    return this.log;
  }

  /** TPM2_Quote with the AK, signing with its scheme (RSASSA, RSAPSS or ECDSA) over SHA-256. */
  quote(nonce: Uint8Array, selection: Array<{ alg: HashAlg; pcrs: number[] }>): TpmQuote {
    const sel = normalizeSelection(selection);
    for (const { alg } of sel) if (!this.banks.includes(alg)) throw new RangeError(`bank ${alg} is not allocated`);
    const values = selectedValues(this.pcrs, sel).map((v) => Buffer.from(v));
    const attest = encodeQuoteAttest({
      qualifiedSigner: this.akQualifiedName,
      extraData: nonce,
      clockInfo: this.tick(),
      firmwareVersion: this.firmwareVersion,
      pcrSelect: sel,
      pcrDigest: hashOf(SIGN_HASH, ...values),
    });
    let i = 0;
    const pcrValues = sel.flatMap(({ alg, pcrs }) => pcrs.map((pcr) => ({ alg, pcr, value: values[i++]! })));
    return { attest, signature: signTpm2(this.akPrivate, attest, SIGN_HASH, this.akScheme), pcrsFile: encodePcrsFile(sel, values), pcrValues };
  }

  /**
   * TPM2_Sign with the restricted AK and a NULL ticket: it signs anything except data that
   * starts with TPM_GENERATED_VALUE, which is what makes a quote's magic mean "from this TPM".
   */
  sign(message: Uint8Array): Buffer {
    if (message.length >= 4 && Buffer.from(message.subarray(0, 4)).readUInt32BE(0) === TPM_GENERATED_VALUE) {
      throw new RangeError('a restricted key does not sign data that starts with TPM_GENERATED_VALUE (TPM_RC_TICKET)');
    }
    return signTpm2(this.akPrivate, message, SIGN_HASH, this.akScheme);
  }

  /**
   * Seals a secret to an authPolicy (e.g. `policyPcr` over golden values, computed by a
   * verifier before the device ever booted). The blob can be stored anywhere: it is
   * encrypted under this TPM's storage key and bound to the policy, so neither another
   * TPM nor an edited policy can open it.
   */
  seal(secret: Uint8Array, authPolicy: Uint8Array): Buffer {
    if (secret.length > 128) throw new RangeError(`a sealed data object holds at most 128 bytes (MAX_SYM_DATA), got ${secret.length}`);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.storageKey, iv);
    cipher.setAAD(authPolicy);
    const body = Buffer.concat([cipher.update(secret), cipher.final()]);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(authPolicy.length);
    return Buffer.concat([head, authPolicy, iv, cipher.getAuthTag(), body]);
  }

  /**
   * TPM2_Unseal in a policy session that ran TPM2_PolicyPCR(selection): the session digest
   * is computed from the PCRs as they are now and must equal the object's authPolicy.
   */
  unseal(blob: Uint8Array, session: { selection: Array<{ alg: HashAlg; pcrs: number[] }>; policyAlg?: HashAlg }): Buffer {
    const b = Buffer.from(blob);
    const fail = (detail: string): never => {
      throw new BootlabError('BL_TPM_UNSEAL', detail);
    };
    if (b.length < 2) fail('the sealed blob is truncated');
    const policyLength = b.readUInt16BE(0);
    if (b.length < 2 + policyLength + 12 + 16) fail('the sealed blob is truncated');
    const authPolicy = b.subarray(2, 2 + policyLength);
    const iv = b.subarray(2 + policyLength, 14 + policyLength);
    const tag = b.subarray(14 + policyLength, 30 + policyLength);
    const sel = normalizeSelection(session.selection);
    for (const { alg } of sel) if (!this.banks.includes(alg)) fail(`bank ${alg} is not allocated`);
    const sessionDigest = policyPcr(sel, selectedValues(this.pcrs, sel), session.policyAlg ?? 'sha256');
    if (sessionDigest.length !== authPolicy.length || !timingSafeEqual(sessionDigest, authPolicy)) {
      fail('TPM_RC_POLICY_FAIL: the PCRs do not have the values the secret was sealed to');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.storageKey, iv);
      decipher.setAAD(authPolicy);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(b.subarray(30 + policyLength)), decipher.final()]);
    } catch {
      return fail('TPM_RC_INTEGRITY: the blob was not sealed by this TPM, or it was altered');
    }
  }

  /** The current clockInfo, as the next attestation would report it. */
  clockInfo(): ClockInfo {
    const clock = this.lastClock < 0n ? 0n : this.lastClock;
    return { clock, resetCount: this.resetCount, restartCount: this.restartCount, safe: 1 };
  }

  /** Power cycle (TPM Reset): PCRs back to their reset values, log restarted, resetCount + 1. Clock keeps running. */
  reset(): void {
    this.pcrs = createPcrBanks(this.banks);
    this.log = [];
    this.resetCount += 1;
    this.restartCount = 0;
  }

  /** Resume from suspend (TPM Restart/Resume): PCRs and log are kept, restartCount + 1. */
  resume(): void {
    this.restartCount += 1;
  }

  /**
   * A command on a real TPM takes milliseconds, so two attestations never share a clock
   * value; an injected clock that stands still still yields strictly increasing values.
   */
  private tick(): ClockInfo {
    const elapsed = BigInt(Math.max(0, Math.floor(this.now() - this.startedAt)));
    this.lastClock = elapsed > this.lastClock ? elapsed : this.lastClock + 1n;
    return { clock: this.lastClock, resetCount: this.resetCount, restartCount: this.restartCount, safe: 1 };
  }
}

function checkLocality(pcr: number, locality: number, what: 'extend'): void {
  const allowed = pcrAttributes(pcr)[what];
  if (!allowed.includes(locality)) {
    throw new BootlabError('BL_TPM_LOCALITY', `PCR ${pcr} cannot be ${what}ed from locality ${locality} (TPM_RC_LOCALITY; allowed: ${allowed.join(', ')})`);
  }
}

/** The public numbers of a Node key, as a TPMT_PUBLIC template takes them. */
export function publicParams(key: KeyObject): PublicKeyParams {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) {
    const e = Buffer.from(jwk.e, 'base64url');
    return { type: 'rsa', modulus: Buffer.from(jwk.n, 'base64url'), exponent: e.readUIntBE(0, e.length) };
  }
  if (jwk.kty === 'EC' && jwk.x && jwk.y) return { type: 'ecc', x: Buffer.from(jwk.x, 'base64url'), y: Buffer.from(jwk.y, 'base64url') };
  throw new TypeError(`unexpected key type ${String(jwk.kty)}`);
}

function pem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
