import { describe, expect, it } from 'vitest';
import { openRawIcmp6 } from '../../../src/net/icmp6/raw-icmp6-port.js';

describe('raw ICMPv6 helper', () => {
  it('names the missing python3 and how to install it', async () => {
    await expect(openRawIcmp6({ interface: 'lo', accept: [133], join: [], python: '/nonexistent/python3' })).rejects.toThrow(
      'router advertisements on lo need python3 for a raw ICMPv6 socket: apt-get install python3-minimal',
    );
  });

  it('names the interface it could not open, in one line with a stable code', async () => {
    const e = await openRawIcmp6({ interface: 'nosuch0', accept: [133], join: [] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'BL_SERVE_RAW' });
    expect(String((e as Error).message)).toMatch(/^router advertisements on nosuch0: cannot open a raw ICMPv6 socket: .+/);
    expect(String((e as Error).message)).not.toContain('\n');
  });
});
