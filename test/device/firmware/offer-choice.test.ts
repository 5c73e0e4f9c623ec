import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { BootPlan } from '../../../src/device/firmware/boot-plan.js';
import { biosPxe, edk2UefiHttpBoot, edk2UefiPxe, ipxeBios, ipxeEfi, type FirmwareDhcpProfile } from '../../../src/device/firmware/dhcp-profiles.js';
import { classifyEdk2PxeOffer } from '../../../src/device/firmware/edk2-pxe-offers.js';
import { classifyHttpBootOffer } from '../../../src/device/firmware/http-boot-offers.js';
import { selectIpxeOffer } from '../../../src/device/firmware/ipxe-offers.js';
import type { DatagramPeer, DatagramPort } from '../../../src/net/datagram-port.js';
import { acquireLease } from '../../../src/net/dhcp4/client.js';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import type { Dhcp4ClassRule, Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, getOption, messageType, readString, stringOption } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { SeededRandom } from '../../../src/random.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

const read = (file: string) =>
  dhcpDatagrams(new URL(`../../fixtures/dhcp4/${file}`, import.meta.url).pathname).flatMap((d) => {
    const p = decodeDhcp4(d.payload);
    return p.ok ? [{ frame: d.frame, packet: p.value }] : [];
  });
/** fw-dhcp.pcap: the real firmware under QEMU booting from dnsmasq (dhcp-boot, no pxe-service); clients.pcap: a BIOS PXE ROM. */
const fw = read('fw-dhcp.pcap');
const clients = read('clients.pcap');
const at = (capture: typeof fw, n: number): Dhcp4Packet => capture.find((c) => c.frame === n)!.packet;

/** A reply as a server would build it, from a captured offer with options replaced or added. */
function edit(p: Dhcp4Packet, over: Partial<Dhcp4Packet>, set: Dhcp4OptionEntry[] = [], drop: number[] = []): Dhcp4Packet {
  const codes = new Set([...set.map((o) => o.code), ...drop]);
  return { ...p, ...over, options: [...p.options.filter((o) => !codes.has(o.code)), ...set] };
}
const hexOption = (code: number, hex: string): Dhcp4OptionEntry => ({ code, data: Uint8Array.from(Buffer.from(hex, 'hex')) });
const plan = (profile: FirmwareDhcpProfile, offers: Dhcp4Packet[], ack = offers.find((o) => o.yiaddr !== '0.0.0.0')!): BootPlan =>
  profile.bootPlan({ offers, offer: ack, ack });
const windowEnd = { elapsedMs: 4000, windowEnded: true };

describe('the simulated firmware takes what the real firmware took from dnsmasq (golden, fw-dhcp.pcap / clients.pcap)', () => {
  const cases: Array<[FirmwareDhcpProfile, typeof fw, number, number, BootPlan]> = [
    [edk2UefiPxe, fw, 6, 8, { kind: 'boot', server: '10.99.0.1', file: 'snponly.efi', from: 'dhcp' }],
    [ipxeEfi, fw, 10, 12, { kind: 'boot', server: '10.99.0.1', file: 'boot.ipxe', from: 'dhcp' }],
    [ipxeBios, fw, 2, 4, { kind: 'boot', server: '10.99.0.1', file: 'boot.ipxe', from: 'dhcp' }],
    [edk2UefiHttpBoot, fw, 14, 16, { kind: 'boot', server: '10.99.0.1', file: 'http://10.99.0.1:8080/snponly.efi', from: 'dhcp' }],
    [biosPxe, clients, 12, 14, { kind: 'boot', server: '10.99.0.1', file: 'undionly.kpxe', from: 'dhcp' }],
  ];
  for (const [profile, capture, offerFrame, ackFrame, expected] of cases) {
    it(`${profile.name}: requests the captured offer and boots what the real one booted`, () => {
      const offer = at(capture, offerFrame);
      expect(messageType(offer)).toBe(Dhcp4MessageType.OFFER);
      const when = profile === ipxeEfi || profile === ipxeBios ? { elapsedMs: 0, windowEnded: false } : windowEnd;
      expect(profile.selectOffer([offer], when)).toBe(offer);
      expect(profile.bootPlan({ offers: [offer], offer, ack: at(capture, ackFrame) })).toEqual(expected);
    });
  }
});

describe('13: EDK2 UEFI PXE reads 60 PXEClient without 43 as a BINL offer', () => {
  const dnsmasq = at(fw, 6);
  /** bootlab before the fix: the same offer with 60 = PXEClient echoed. */
  const withPxeClient = edit(dnsmasq, {}, [stringOption(60, 'PXEClient')]);

  it('asks port 4011 on the next server and fails with PXE-E16 when nobody answers there', () => {
    expect(classifyEdk2PxeOffer(withPxeClient)).toBe('dhcp-binl');
    expect(plan(edk2UefiPxe, [withPxeClient])).toEqual({
      kind: 'ask-boot-server',
      server: '10.99.0.1',
      port: 4011,
      why: expect.stringContaining('BINL'),
      ifNoAnswer: { kind: 'fail', message: 'PXE-E16: No offer received.' },
    });
  });

  it('prefers a BINL offer over a DHCP-only offer with a boot file, as EDK2 ranks them', () => {
    const other = edit(dnsmasq, { yiaddr: '10.99.0.160' }, [hexOption(54, '0a630002')]);
    expect(edk2UefiPxe.selectOffer([other, withPxeClient], windowEnd)).toBe(withPxeClient);
  });

  it('boots the file of a DHCP-only offer, and of a PXE10 offer whose 43.6 says "use the boot file"', () => {
    expect(classifyEdk2PxeOffer(dnsmasq)).toBe('dhcp-only');
    expect(plan(edk2UefiPxe, [dnsmasq])).toMatchObject({ kind: 'boot', file: 'snponly.efi' });
    const pxe10 = edit(withPxeClient, {}, [hexOption(43, '060108ff')]);
    expect(classifyEdk2PxeOffer(pxe10)).toBe('dhcp-pxe10');
    expect(plan(edk2UefiPxe, [pxe10])).toMatchObject({ kind: 'boot', server: '10.99.0.1', file: 'snponly.efi' });
  });

  it('reads 43 only beside 60 PXEClient, drops multicast (WfM11a) offers, and takes no DHCP-only offer without a boot file', () => {
    expect(classifyEdk2PxeOffer(edit(dnsmasq, {}, [hexOption(43, '060108ff')]))).toBe('dhcp-only');
    expect(classifyEdk2PxeOffer(edit(withPxeClient, {}, [hexOption(43, '01040a000001020200010302000204010105010aff')]))).toBeUndefined();
    const noFile = edit(dnsmasq, {}, [], [67]);
    expect(edk2UefiPxe.selectOffer([noFile], windowEnd)).toBeUndefined();
    expect(plan(edk2UefiPxe, [noFile])).toEqual({ kind: 'fail', message: 'PXE-E16: No offer received.' });
    // PXE10 without bit 3 and without a menu: the default menu item is "local boot".
    expect(plan(edk2UefiPxe, [edit(withPxeClient, {}, [hexOption(43, '060100ff')])])).toEqual({ kind: 'fail', message: 'PXE-E21: Remote boot cancelled.' });
  });

  it('pairs an address-only offer with a proxy offer: PXE10 boots the proxy file, BINL asks the proxy on 4011', () => {
    const addressOnly = edit(dnsmasq, {}, [], [67]);
    const proxy = edit(dnsmasq, { yiaddr: '0.0.0.0', siaddr: '10.99.0.2', file: 'ipxe.efi' }, [stringOption(60, 'PXEClient'), hexOption(54, '0a630002')], [51, 1, 3, 28, 58, 59, 67]);
    expect(plan(edk2UefiPxe, [addressOnly, proxy])).toMatchObject({ kind: 'ask-boot-server', server: '10.99.0.2', port: 4011 });
    const proxyPxe10 = edit(proxy, {}, [hexOption(43, '060108ff')]);
    expect(plan(edk2UefiPxe, [addressOnly, proxyPxe10])).toEqual({ kind: 'boot', server: '10.99.0.2', file: 'ipxe.efi', from: 'proxy' });
  });

  it('waits for the end of a DISCOVER wait before choosing, then takes the best offer seen', () => {
    expect(edk2UefiPxe.selectOffer([dnsmasq], { elapsedMs: 0, windowEnded: false })).toBeUndefined();
    expect(edk2UefiPxe.selectOffer([dnsmasq], windowEnd)).toBe(dnsmasq);
  });
});

/** A port whose "network" is a reply policy: each datagram sent is answered at once, as a server on the link would. */
function policyPort(policy: Dhcp4ReplyPolicy, now: () => number) {
  const handlers = new Set<(bytes: Uint8Array, from: DatagramPeer) => void>();
  const port: DatagramPort = {
    send: async (bytes) => {
      const req = decodeDhcp4(bytes);
      if (!req.ok) return;
      for (const r of policy.answer(req.value, { address: '0.0.0.0', port: 68 }, now()).replies) {
        const wire = encodeDhcp4(r.packet);
        queueMicrotask(() => handlers.forEach((h) => h(wire, { address: '10.99.0.1', port: 67 })));
      }
    },
    onMessage: (fn) => {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
    close: async () => undefined,
    address: () => ({ address: '0.0.0.0', port: 68 }),
  };
  return async () => port;
}

/** A simulated clock that runs each wait out at once (replies come synchronously from policyPort). */
function runningClock() {
  const sim = new SimulatedClock();
  return {
    now: () => sim.now(),
    setTimeout(fn: (...args: unknown[]) => void, ms: number) {
      const id = sim.setTimeout(fn, ms);
      setImmediate(() => sim.increment(ms));
      return id;
    },
    clearTimeout(id: unknown) {
      sim.clearTimeout(id as number);
    },
  };
}

describe('13: the simulated EDK2 client against bootlab with a class rule of nextServer + bootFile', () => {
  const rule: Dhcp4ClassRule = { name: 'uefi-pxe', match: { vendorClassPrefix: 'PXEClient', arch: [7, 9] }, options: { nextServer: '10.99.0.1', bootFile: 'snponly.efi' } };
  const config: Dhcp4ServerConfig = {
    bind: { address: '0.0.0.0', port: 67 },
    serverId: '10.99.0.1',
    replyTo: 'broadcast',
    pool: { start: '10.99.0.150', end: '10.99.0.199', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
    classes: [rule],
  };

  it('gets a lease and boots snponly.efi from 10.99.0.1 over TFTP, without asking port 4011', async () => {
    const clock = runningClock();
    const lease = await acquireLease({
      server: { address: '255.255.255.255', port: 67 },
      mac: '52:54:00:12:34:57',
      options: edk2UefiPxe.discoverOptions({ mac: '52:54:00:12:34:57' }),
      retransmitMs: edk2UefiPxe.retransmitMs,
      broadcastFlag: edk2UefiPxe.broadcast,
      selectOffer: edk2UefiPxe.selectOffer,
      clock,
      random: new SeededRandom(7),
      openPort: policyPort(new Dhcp4ReplyPolicy(config), () => 1_800_000_000_000 + clock.now()),
    });
    expect(lease.address).toBe('10.99.0.150');
    expect(lease.offers.length).toBeGreaterThan(0);
    expect(edk2UefiPxe.bootPlan(lease)).toEqual({ kind: 'boot', server: '10.99.0.1', file: 'snponly.efi', from: 'dhcp' });
  });
});

describe('iPXE waits for ProxyDHCP as its code does', () => {
  const dnsmasq = at(fw, 10); // 67 boot.ipxe, 175.176 = 1
  const plain = edit(dnsmasq, {}, [], [175]);

  it('takes an offer with 175.176 = 1 at once, and one without only after more than 2 s', () => {
    expect(selectIpxeOffer([dnsmasq], { elapsedMs: 0, windowEnded: false })).toBe(dnsmasq);
    expect(selectIpxeOffer([plain], { elapsedMs: 0, windowEnded: false })).toBeUndefined();
    expect(selectIpxeOffer([plain], { elapsedMs: 1000, windowEnded: true })).toBeUndefined();
    expect(selectIpxeOffer([plain], { elapsedMs: 3000, windowEnded: true })).toBe(plain);
  });

  it('takes the offer at once when a ProxyDHCP offer (60 PXEClient, the DHCP server itself counts) is there', () => {
    const withPxe = edit(plain, {}, [stringOption(60, 'PXEClient')]);
    expect(selectIpxeOffer([withPxe], { elapsedMs: 0, windowEnded: false })).toBe(withPxe);
    // It has a next-server and a boot file: used as is, no ProxyDHCPREQUEST.
    expect(plan(ipxeEfi, [withPxe])).toEqual({ kind: 'boot', server: '10.99.0.1', file: 'boot.ipxe', from: 'dhcp' });
    // Without next-server it asks port 4011, and goes on with the ACK when nobody answers.
    const noSiaddr = edit(withPxe, { siaddr: '0.0.0.0' });
    expect(plan(ipxeEfi, [noSiaddr])).toMatchObject({ kind: 'ask-boot-server', server: '10.99.0.1', port: 4011, ifNoAnswer: { kind: 'boot', file: 'boot.ipxe' } });
  });

  it('boots the ProxyDHCP offer’s file over an address-only offer’s, unless 175.176 says to ignore ProxyDHCP', () => {
    const addressOnly = edit(plain, {}, [], [67]);
    const proxy = edit(plain, { yiaddr: '0.0.0.0', siaddr: '10.99.0.2', file: 'undionly.kpxe' }, [stringOption(60, 'PXEClient'), hexOption(54, '0a630002')], [67]);
    expect(plan(ipxeEfi, [addressOnly, proxy], addressOnly)).toEqual({ kind: 'boot', server: '10.99.0.2', file: 'undionly.kpxe', from: 'proxy' });
    const ignoring = edit(addressOnly, {}, [hexOption(175, 'b00101')]);
    expect(plan(ipxeEfi, [ignoring, proxy], ignoring)).toEqual({ kind: 'fail', message: 'iPXE: no filename or root path specified' });
  });

  it('keeps the later of two offers of equal priority and a higher 175.1 priority over both', () => {
    const second = edit(plain, { yiaddr: '10.99.0.160' }, [hexOption(54, '0a630002')]);
    expect(selectIpxeOffer([plain, second], { elapsedMs: 3000, windowEnded: true })).toBe(second);
    const preferred = edit(plain, {}, [hexOption(175, '010101')]);
    expect(selectIpxeOffer([preferred, second], { elapsedMs: 3000, windowEnded: true })).toBe(preferred);
  });
});

describe('EDK2 HTTP Boot takes an offer only with HTTPClient and a boot URI', () => {
  const dnsmasq = at(fw, 14); // 60 HTTPClient, 67 http://10.99.0.1:8080/snponly.efi

  it('drops offers without HTTPClient or without a URI, and one whose URI names a host without a DNS offer', () => {
    expect(classifyHttpBootOffer(dnsmasq)).toBe('dhcp-ip-uri');
    expect(edk2UefiHttpBoot.selectOffer([edit(dnsmasq, {}, [], [60])], windowEnd)).toBeUndefined();
    expect(classifyHttpBootOffer(edit(dnsmasq, {}, [], [67]))).toBeUndefined();
    const byName = edit(dnsmasq, {}, [stringOption(67, 'http://boot.lab/snponly.efi')]);
    expect(classifyHttpBootOffer(byName)).toBe('dhcp-name-uri');
    expect(edk2UefiHttpBoot.selectOffer([byName], windowEnd)).toBeUndefined();
    const withDns = edit(byName, {}, [hexOption(6, '0a630001')]);
    expect(edk2UefiHttpBoot.selectOffer([withDns], windowEnd)).toBe(withDns);
    expect(readString(getOption(withDns, 67)!)).toBe('http://boot.lab/snponly.efi');
  });

  it('pairs an address-only offer with a proxy offer carrying an IP URI', () => {
    const addressOnly = edit(dnsmasq, {}, [], [60, 67]);
    const proxy = edit(dnsmasq, { yiaddr: '0.0.0.0' }, [stringOption(67, 'http://10.99.0.2/ipxe.efi')]);
    expect(edk2UefiHttpBoot.selectOffer([proxy, addressOnly], windowEnd)).toBe(addressOnly);
    expect(plan(edk2UefiHttpBoot, [proxy, addressOnly], addressOnly)).toEqual({ kind: 'boot', server: '10.99.0.2', file: 'http://10.99.0.2/ipxe.efi', from: 'proxy' });
  });
});
