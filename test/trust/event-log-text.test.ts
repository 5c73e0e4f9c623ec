import { describe, expect, it } from 'vitest';
import { crtmVersion, efiAction, EFI_GLOBAL_VARIABLE_GUID, separator, taggedEvent, uefiVariableData } from '../../src/protocol/tcg/event-data.js';
import type { TcgEvent } from '../../src/protocol/tcg/event-log.js';
import {
  EV_EFI_ACTION,
  EV_EFI_VARIABLE_DRIVER_CONFIG,
  EV_EVENT_TAG,
  EV_IPL,
  EV_S_CRTM_VERSION,
  EV_SEPARATOR,
} from '../../src/protocol/tcg/event-types.js';
import { describeEventData } from '../../src/trust/event-log-text.js';

const ev = (eventType: number, data: Uint8Array): TcgEvent => ({ pcrIndex: 0, eventType, digests: [], data });

describe('describeEventData', () => {
  it('reads the event types firmware and bootlab write', () => {
    expect(describeEventData(ev(EV_S_CRTM_VERSION, crtmVersion('Acme UEFI 2.1')))).toBe('"Acme UEFI 2.1"');
    expect(describeEventData(ev(EV_EFI_ACTION, efiAction('Exit Boot Services Invocation')))).toBe('"Exit Boot Services Invocation"');
    expect(describeEventData(ev(EV_SEPARATOR, separator()))).toBe('00000000');
    expect(describeEventData(ev(EV_SEPARATOR, separator(true)))).toBe('FFFFFFFF (firmware error)');
    expect(describeEventData(ev(EV_EFI_VARIABLE_DRIVER_CONFIG, uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Uint8Array.of(1))))).toBe(
      'EFI_GLOBAL_VARIABLE:SecureBoot = 01',
    );
    expect(describeEventData(ev(EV_EVENT_TAG, taggedEvent(0x4f4e4945, Buffer.from('{"url":"x"}'))))).toBe(`tag 'ONIE': "{\\"url\\":\\"x\\"}"`);
    expect(describeEventData(ev(EV_IPL, Buffer.from([0, 1, 2])))).toBe('000102 (3 bytes)');
  });

  it('shows data that does not parse as its type as hex, without throwing (a tampered log must still print)', () => {
    expect(describeEventData(ev(EV_EFI_VARIABLE_DRIVER_CONFIG, Buffer.from([1, 2, 3])))).toBe('010203 (3 bytes) (does not parse as EV_EFI_VARIABLE_DRIVER_CONFIG)');
    const tooLong = uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'db', Buffer.alloc(10)).subarray(0, 40);
    expect(describeEventData(ev(EV_EFI_VARIABLE_DRIVER_CONFIG, tooLong))).toMatch(/does not parse as EV_EFI_VARIABLE_DRIVER_CONFIG/);
    expect(describeEventData(ev(EV_EVENT_TAG, Buffer.from([1])))).toMatch(/does not parse as EV_EVENT_TAG/);
  });
});
