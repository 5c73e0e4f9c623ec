import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { efiAction, EFI_GLOBAL_VARIABLE_GUID, separator, taggedEvent, uefiVariableData } from '../../src/protocol/tcg/event-data.js';
import { defaultSpecId, type EventLog, type TcgEvent } from '../../src/protocol/tcg/event-log.js';
import { EV_EFI_ACTION, EV_EFI_VARIABLE_BOOT, EV_EVENT_TAG, EV_IPL, EV_POST_CODE, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import type { HashAlg } from '../../src/protocol/tcg/hash-alg.js';
import { bindEventData } from '../../src/trust/event-data-binding.js';
import { formatEventLog } from '../../src/trust/event-log-text.js';
import { replayEventLog } from '../../src/trust/event-log-replay.js';

const BANKS: HashAlg[] = ['sha1', 'sha256'];
const h = (alg: HashAlg, b: Uint8Array) => createHash(alg).update(b).digest();
/** An event whose digests are of `content` (the data itself unless given). */
const ev = (pcrIndex: number, eventType: number, data: Uint8Array, content: Uint8Array = data): TcgEvent => ({
  pcrIndex,
  eventType,
  data,
  digests: BANKS.map((alg) => ({ alg, digest: h(alg, content) })),
});
const log = (...events: TcgEvent[]): EventLog => ({ specId: defaultSpecId(BANKS), events });
const statuses = (l: EventLog) => bindEventData(l).map((b) => b.status);

const image = Buffer.from('installer image bytes');
const imageSha = h('sha256', image).toString('hex');
const installer = (url: string, sha256 = imageSha) => ev(13, EV_EVENT_TAG, taggedEvent(0x4f4e4945, Buffer.from(JSON.stringify({ url, size: image.length, sha256 }))), image);
const config = (url: string) => ev(15, EV_EVENT_TAG, taggedEvent(0x434f4e46, Buffer.from(`onie_disco_ip=10.0.0.2\nonie_exec_url=${url}`)));

describe('bindEventData', () => {
  it('binds data its digest covers, and tells apart digests of content the log does not hold', () => {
    const grub = 'grub_cmd: linux /onie/vmlinuz quiet';
    expect(
      statuses(
        log(
          ev(4, EV_EFI_ACTION, efiAction('Calling EFI Application from Boot Option')),
          ev(0, EV_SEPARATOR, separator()),
          ev(8, EV_IPL, Buffer.from(`${grub}\0`), Buffer.from('linux /onie/vmlinuz quiet')),
          ev(9, EV_IPL, Buffer.from('/onie/vmlinuz\0'), Buffer.from('kernel')),
          ev(0, EV_POST_CODE, Buffer.from('POST CODE'), Buffer.from('firmware')),
          // Firmware that measures only VariableData of a boot variable.
          ev(1, EV_EFI_VARIABLE_BOOT, uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'BootOrder', Uint8Array.of(0, 0)), Uint8Array.of(0, 0)),
        ),
      ),
    ).toEqual(['bound', 'bound', 'bound', 'unbound', 'unbound', 'bound']);
  });

  it('12: finds data rewritten under a kept digest, and a digest edited in one bank only', () => {
    const action = ev(4, EV_EFI_ACTION, efiAction('Calling EFI Application from Boot Option'));
    const rewritten = { ...action, data: efiAction('Calling EFI Application from Evil Option') };
    const sha1Edited: TcgEvent = { ...action, digests: action.digests.map((d) => (d.alg === 'sha1' ? { alg: d.alg, digest: Buffer.alloc(20, 1) } : d)) };
    const grub = ev(8, EV_IPL, Buffer.from('grub_cmd: linux /onie/vmlinuz init=/bin/sh\0'), Buffer.from('linux /onie/vmlinuz quiet'));
    const b = bindEventData(log(rewritten, sha1Edited, grub));
    expect(b.map((x) => x.status)).toEqual(['mismatch', 'mismatch', 'mismatch']);
    expect(b[0]!.detail).toMatch(/banks not matching: sha1, sha256\)$/);
    expect(b[1]!.detail).toMatch(/banks not matching: sha1\)$/);
  });

  it("12: ties an installer's URL to the onie_exec_url measured next, and its sha256 to its digest", () => {
    const url = 'http://127.0.0.1:8080/nos.bin';
    expect(statuses(log(installer(url), config(url)))).toEqual(['bound', 'bound']);
    // No handoff measured: the URL is a label nothing covers.
    expect(statuses(log(installer(url)))).toEqual(['unbound']);
    const fake = bindEventData(log(installer('http://evil.example/nos.bin'), config(url)));
    expect(fake[0]).toEqual({ status: 'mismatch', detail: `url "http://evil.example/nos.bin" is not the onie_exec_url "${url}" measured in PCR 15 (event #2)` });
    const lying = bindEventData(log(installer(url, '00'.repeat(32)), config(url)));
    expect(lying[0]!.status).toBe('mismatch');
    expect(lying[0]!.detail).toMatch(/claims sha256 0{64}, the event's sha256 digest is /);
  });

  it('12: eventlog show marks data no digest covers and data its digest contradicts', () => {
    const url = 'http://127.0.0.1:8080/nos.bin';
    const l = log(installer(url), ev(9, EV_IPL, Buffer.from('/onie/vmlinuz\0'), Buffer.from('kernel')), { ...ev(0, EV_SEPARATOR, separator()), data: Buffer.from([1, 0, 0, 0]) });
    const text = formatEventLog(l, replayEventLog(l));
    expect(text).toMatch(/tag 'ONIE': .*nos\.bin.*\[data not covered by the digest\]/);
    expect(text).toMatch(/PCR  9 {2}EV_IPL\n.*\[data not covered by the digest\]/);
    expect(text).toMatch(/PCR  0 {2}EV_SEPARATOR\n {7}01000000 {2}\[DATA DOES NOT MATCH ITS DIGEST: /);
  });
});
