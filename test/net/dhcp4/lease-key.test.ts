import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalLeaseKey, leaseKey } from '../../../src/net/dhcp4/lease-key.js';
import { LeaseJournal } from '../../../src/net/dhcp4/lease-journal.js';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import type { Dhcp4Reservation, Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, getOption, ipOption, messageType, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

/** fw-dhcp.pcap: on NIC 52:54:00:12:34:57, EDK2 PXE (no 61) and then iPXE (61 = 01 + MAC), both answered by dnsmasq. */
const capture = dhcpDatagrams(new URL('../../fixtures/dhcp4/fw-dhcp.pcap', import.meta.url).pathname).flatMap((d) => {
  const p = decodeDhcp4(d.payload);
  return p.ok ? [{ frame: d.frame, packet: p.value }] : [];
});
const frame = (n: number): Dhcp4Packet => capture.find((c) => c.frame === n)!.packet;
const EDK2 = { discover: 5, ack: 8 };
const IPXE = { discover: 9, ack: 12 };
const NOW = 1_800_000_000_000;
const FROM = { address: '0.0.0.0', port: 68 };

const config = (reservations: Dhcp4Reservation[] = []): Dhcp4ServerConfig => ({
  bind: { address: '0.0.0.0', port: 67 },
  serverId: '10.99.0.1',
  replyTo: 'broadcast',
  pool: { start: '10.99.0.150', end: '10.99.0.199', subnetMask: '255.255.255.0', leaseSeconds: 3600, reservations },
});

/** DISCOVER → OFFER → REQUEST → ACK through the policy; the ACKed address. */
function lease(policy: Dhcp4ReplyPolicy, discover: Dhcp4Packet, now = NOW): { address: string; client: string } {
  const offer = policy.answer(discover, FROM, now).replies[0]!.packet;
  expect(messageType(offer)).toBe(Dhcp4MessageType.OFFER);
  const request: Dhcp4Packet = {
    ...discover,
    options: [messageTypeOption(Dhcp4MessageType.REQUEST), ipOption(50, offer.yiaddr), ipOption(54, '10.99.0.1'), ...discover.options.filter((o) => o.code !== 53)],
  };
  const d = policy.answer(request, FROM, now);
  expect(messageType(d.replies[0]!.packet)).toBe(Dhcp4MessageType.ACK);
  return { address: d.replies[0]!.packet.yiaddr, client: d.lease!.client };
}

const withClientId = (p: Dhcp4Packet, id: Uint8Array | undefined): Dhcp4Packet => ({
  ...p,
  options: [...p.options.filter((o) => o.code !== 61), ...(id ? [{ code: 61, data: id }] : [])],
});
const ONIE_ID = Uint8Array.from([0, ...Buffer.from('SN-4242')]);

describe('13: one NIC, one lease across firmware stages', () => {
  it('gives EDK2 (no 61) and then iPXE (61 = 01 + MAC) on the same NIC one address, as dnsmasq did in the capture', () => {
    expect(frame(EDK2.discover).chaddr).toBe(frame(IPXE.discover).chaddr);
    expect(getOption(frame(EDK2.discover), 61)).toBeUndefined();
    expect(Buffer.from(getOption(frame(IPXE.discover), 61)!).toString('hex')).toBe('01525400123457');
    // dnsmasq's ACKs to the two stages: one address.
    expect(frame(IPXE.ack).yiaddr).toBe(frame(EDK2.ack).yiaddr);

    const policy = new Dhcp4ReplyPolicy(config());
    const edk2 = lease(policy, frame(EDK2.discover));
    const ipxe = lease(policy, frame(IPXE.discover), NOW + 5000);
    expect(ipxe.address).toBe(edk2.address);
    expect(ipxe.client).toBe('hw:1:52:54:00:12:34:57');
    // And back: the next EDK2 boot on that NIC still finds it.
    expect(lease(policy, frame(EDK2.discover), NOW + 10_000).address).toBe(edk2.address);
  });

  it("keeps ONIE's 00 + serial number id a client of its own, apart from the NIC's MAC", () => {
    const policy = new Dhcp4ReplyPolicy(config());
    const byMac = lease(policy, frame(EDK2.discover));
    const onie = lease(policy, withClientId(frame(IPXE.discover), ONIE_ID), NOW + 1000);
    expect(onie.client).toBe(`id:00${Buffer.from('SN-4242').toString('hex')}`);
    expect(onie.address).not.toBe(byMac.address);
  });

  it('keys a client id of htype + some other hardware address by the id, not by chaddr', () => {
    const other = withClientId(frame(EDK2.discover), Uint8Array.from([1, 0x02, 0, 0, 0, 0, 0x99]));
    expect(leaseKey(other)).toBe('id:01020000000099');
    expect(leaseKey(frame(EDK2.discover))).toBe('hw:1:52:54:00:12:34:57');
  });

  it("holds a reservation by clientId 01 + MAC for the same NIC's stage that sends no 61", () => {
    const reservations = [{ clientId: '01525400123457', address: '10.99.0.42' }];
    const policy = new Dhcp4ReplyPolicy(config(reservations));
    expect(lease(policy, frame(EDK2.discover)).address).toBe('10.99.0.42');
    expect(lease(policy, frame(IPXE.discover), NOW + 1000).address).toBe('10.99.0.42');
    // A reservation by MAC holds for every stage, as before.
    const byMac = new Dhcp4ReplyPolicy(config([{ mac: '52:54:00:12:34:57', address: '10.99.0.43' }]));
    expect(lease(byMac, frame(IPXE.discover)).address).toBe('10.99.0.43');
    expect(lease(byMac, frame(EDK2.discover), NOW + 1000).address).toBe('10.99.0.43');
    // ONIE's serial-number reservation is still only ONIE's.
    const bySerial = new Dhcp4ReplyPolicy(config([{ clientId: Buffer.from(ONIE_ID).toString('hex'), address: '10.99.0.44' }]));
    expect(lease(bySerial, withClientId(frame(IPXE.discover), ONIE_ID)).address).toBe('10.99.0.44');
    expect(lease(bySerial, frame(EDK2.discover), NOW + 1000).address).not.toBe('10.99.0.44');
  });

  it('gives a lease from an older lease file (key id:01 + MAC) back to both stages of that NIC', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-lease-key-'));
    try {
      const file = join(dir, 'leases.jsonl');
      await writeFile(file, `${JSON.stringify({ c: 'id:01525400123457', a: '10.99.0.177', e: NOW + 3_600_000 })}\n`);
      const { journal, leases } = await LeaseJournal.open(file, NOW);
      await journal.close();
      const policy = new Dhcp4ReplyPolicy(config());
      for (const l of leases) expect(policy.restore(l.client, l.address, l.expiresAt, NOW)).toBe(true);
      expect(lease(policy, frame(EDK2.discover), NOW + 1000)).toEqual({ address: '10.99.0.177', client: 'hw:1:52:54:00:12:34:57' });
      expect(lease(policy, frame(IPXE.discover), NOW + 2000).address).toBe('10.99.0.177');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads other stored keys back unchanged', () => {
    expect(canonicalLeaseKey('hw:1:52:54:00:12:34:57')).toBe('hw:1:52:54:00:12:34:57');
    expect(canonicalLeaseKey('id:00534e2d34323432')).toBe('id:00534e2d34323432');
    expect(canonicalLeaseKey('id:01525400123457')).toBe('hw:1:52:54:00:12:34:57');
  });
});
