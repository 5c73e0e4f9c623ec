import { describe, expect, it } from 'vitest';
import { planRelay } from '../../src/cli/relay-flags.js';

describe('planRelay', () => {
  it('fills in the defaults: ports 67/67/68, max hops 4, untrusted, broadcast, remote id = listen address', () => {
    expect(planRelay({ server: ['10.2.0.1', '10.2.0.2'], listen: '10.1.0.1' })).toEqual({
      listen: { address: '10.1.0.1', port: 67 },
      servers: [{ address: '10.2.0.1', port: 67 }, { address: '10.2.0.2', port: 67 }],
      clientPort: 68,
      maxHops: 4,
      agentIds: { circuitId: 'bootlab-relay', remoteId: '10.1.0.1' },
      trustOption82: false,
      replyTo: 'broadcast',
    });
  });

  it('takes every flag as given', () => {
    const c = planRelay({
      server: ['10.2.0.1'], listen: '10.1.0.1', circuitId: 'rack1/leaf1/swp7', remoteId: 'leaf1', maxHops: '16',
      upstreamPort: '1067', downstreamPort: '0', clientPort: '1068', trustOption82: true, replyTo: 'source',
    });
    expect(c).toEqual({
      listen: { address: '10.1.0.1', port: 0 },
      servers: [{ address: '10.2.0.1', port: 1067 }],
      clientPort: 1068,
      maxHops: 16,
      agentIds: { circuitId: 'rack1/leaf1/swp7', remoteId: 'leaf1' },
      trustOption82: true,
      replyTo: 'source',
    });
  });

  it('names the flag and its value when one cannot be used', () => {
    const ok = { server: ['10.2.0.1'], listen: '10.1.0.1' };
    expect(() => planRelay({ ...ok, maxHops: '0' })).toThrow('--max-hops 0: expected an integer in 1..16');
    expect(() => planRelay({ ...ok, maxHops: '4x' })).toThrow('--max-hops 4x: expected an integer in 1..16');
    expect(() => planRelay({ ...ok, listen: '224.0.0.1' })).toThrow(/--listen 224\.0\.0\.1: needs a unicast IPv4 address/);
    expect(() => planRelay({ ...ok, circuitId: '' })).toThrow("--circuit-id '': expected 1..253 bytes");
    expect(() => planRelay({ ...ok, circuitId: 'c'.repeat(200), remoteId: 'r'.repeat(52) })).toThrow('--circuit-id and --remote-id: 252 bytes together, option 82 holds at most 251');
    expect(() => planRelay({ ...ok, server: ['10.2.0.1', '::1'] })).toThrow('--server ::1: not an IPv4 address');
  });
});
