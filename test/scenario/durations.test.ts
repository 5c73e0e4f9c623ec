import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/load.js';
import { planServe } from '../../src/scenario/serve-config.js';
import { scenarioFailure } from './scenario-failure.js';

const scenario = (extra: { within?: string; onie?: string; tftp?: string; lease?: string } = {}) => `name: t
servers:
  dhcp:
    pool: { start: 192.0.2.10, end: 192.0.2.20${extra.lease ? `, leaseTime: ${extra.lease}` : ''} }
${extra.tftp ? `  tftp: ${extra.tftp}\n` : ''}images:
  - { name: nos, source: ../images/demo-nos, publish: [nos.bin] }
trust: { db: [db-ca] }
${extra.onie ? `onie: ${extra.onie}\n` : ''}devices:
  - id: sw1
    expect:
      outcome: installed
      within: ${extra.within ?? '30s'}
`;

const dir = await mkdtemp(join(tmpdir(), 'bootlab-durations-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('durations are bounded by what a timer can hold', () => {
  it('takes the longest wait a timer holds (2^31-1 ms, about 24.8 days)', () => {
    expect(parseScenario(scenario({ within: '2147483647ms' })).devices[0]!.expect.within).toBe(2 ** 31 - 1);
    expect(parseScenario(scenario({ within: '24d' })).devices[0]!.expect.within).toBe(24 * 86_400_000);
  });

  it('refuses a longer one with the field, its line and the maximum, instead of a timer that fires at once', () => {
    const e = scenarioFailure(scenario({ within: '25d' }));
    expect(e.message).toBe('x.yaml:12: devices.0.expect.within: at most 2147483647 ms (about 24.8 days): the longest wait a timer can hold');
    expect(scenarioFailure(scenario({ within: '2147483648ms' })).path).toBe('devices.0.expect.within');
    expect(scenarioFailure(scenario({ onie: '{ passDelay: 30d }' })).message).toMatch(/^x\.yaml:8: onie\.passDelay: at most 2147483647 ms/);
    expect(scenarioFailure(scenario({ onie: '{ installerTimeout: 2147484 }' })).path).toBe('onie.installerTimeout'); // seconds
    expect(scenarioFailure(scenario({ tftp: '{ retransmit: 600h }' })).path).toBe('servers.tftp.retransmit');
    expect(scenarioFailure(scenario({ tftp: '{ faults: { delay: 25d } }' })).path).toBe('servers.tftp.faults.delay');
  });

  it('bounds lease times by option 51 (32-bit seconds), not by timers: a 30-day lease is fine', () => {
    expect(parseScenario(scenario({ lease: '30d' })).servers.dhcp.pool.leaseTime).toBe(30 * 86_400_000);
    expect(scenarioFailure(scenario({ lease: '50000d' })).message).toMatch(/^x\.yaml:4: servers\.dhcp\.pool\.leaseTime: at most 4294967295s \(option 51/);
    expect(scenarioFailure(scenario({ lease: '0s' })).message).toMatch(/leaseTime: a lease lasts at least 1s/);
  });

  it('bootlab serve: --lease-time and the config file durations follow the same rules', async () => {
    const base = { serverId: '10.0.0.1', dhcpRange: '10.0.0.10-10.0.0.20' };
    expect((await planServe({ ...base, leaseTime: '30d' })).dhcp!.pool.leaseSeconds).toBe(30 * 86_400);
    await expect(planServe({ ...base, leaseTime: '50000d' })).rejects.toThrow('--lease-time 50000d: at most 4294967295s (option 51 is a 32-bit count of seconds)');
    await expect(planServe({ ...base, leaseTime: '5000000000' })).rejects.toThrow(/--lease-time 5000000000: at most 4294967295s/);
    const file = join(dir, 'serve.yaml');
    await writeFile(file, 'tftp:\n  root: .\n  retransmit: 25d\n');
    await expect(planServe({ config: file })).rejects.toThrow(/serve\.yaml:3: tftp\.retransmit: at most 2147483647 ms/);
    await writeFile(file, 'dhcp:\n  range: 10.0.0.1-10.0.0.9\n  serverId: 10.0.0.254\n  subnets: [{ subnet: 10.44.0.0/24, range: 10.44.0.10-10.44.0.90, leaseTime: 50000d }]\n');
    await expect(planServe({ config: file })).rejects.toThrow(/serve\.yaml:4: dhcp\.subnets\.0\.leaseTime: at most 4294967295s/);
  });
});
