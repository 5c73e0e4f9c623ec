import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { biosPxe, edk2UefiHttpBoot, edk2UefiPxe, ipxeBios, ipxeEfi, type FirmwareDhcpProfile } from '../../../src/device/firmware/dhcp-profiles.js';
import type { DatagramPort } from '../../../src/net/datagram-port.js';
import { acquireLease } from '../../../src/net/dhcp4/client.js';
import { Dhcp4MessageType, getOption, messageType, readString } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { SeededRandom } from '../../../src/random.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

function captured(vendorClass: string, files = ['clients.pcap', 'fw-dhcp.pcap']): Dhcp4Packet {
  for (const file of files) {
    for (const d of dhcpDatagrams(new URL(`../../fixtures/dhcp4/${file}`, import.meta.url).pathname)) {
      const p = decodeDhcp4(d.payload);
      if (p.ok && messageType(p.value) === Dhcp4MessageType.DISCOVER && readString(getOption(p.value, 60) ?? new Uint8Array()) === vendorClass) return p.value;
    }
  }
  throw new Error(`no capture for ${vendorClass}`);
}

/** Sends nothing anywhere: records what the client transmits, and when (on the simulated clock). */
function recordingPort(clock: SimulatedClock) {
  const sent: Array<{ at: number; packet: Dhcp4Packet }> = [];
  const port: DatagramPort = {
    send: async (bytes) => {
      const d = decodeDhcp4(bytes);
      if (d.ok) sent.push({ at: clock.now(), packet: d.value });
    },
    onMessage: () => () => undefined,
    close: async () => undefined,
    address: () => ({ address: '0.0.0.0', port: 68 }),
  };
  return { sent, openPort: async () => port };
}

async function discoverOf(profile: FirmwareDhcpProfile, real: Dhcp4Packet) {
  const clock = new SimulatedClock();
  const rec = recordingPort(clock);
  const uuid = getOption(real, 97)!.subarray(1);
  const done = acquireLease({
    server: { address: '255.255.255.255', port: 67 },
    mac: real.chaddr,
    options: profile.discoverOptions({ mac: real.chaddr, uuid }),
    retransmitMs: profile.retransmitMs,
    broadcastFlag: profile.broadcast,
    selectOffer: profile.selectOffer,
    clock,
    random: new SeededRandom(1),
    openPort: rec.openPort,
  }).catch((e: unknown) => e);
  // Let every retransmission happen: advance the clock through the whole schedule.
  for (const ms of profile.retransmitMs) {
    await new Promise((r) => setImmediate(r));
    clock.increment(ms);
  }
  expect(await done).toMatchObject({ code: 'BL_TIMEOUT' });
  return rec.sent;
}

describe('firmware DHCP profiles send what the real firmware sends', () => {
  const cases: Array<[FirmwareDhcpProfile, string, string[]?]> = [
    [edk2UefiPxe, 'PXEClient:Arch:00007:UNDI:003000'],
    [edk2UefiHttpBoot, 'HTTPClient:Arch:00016:UNDI:003000'],
    [ipxeEfi, 'PXEClient:Arch:00007:UNDI:003010'],
    [biosPxe, 'PXEClient:Arch:00000:UNDI:002001'],
    [ipxeBios, 'PXEClient:Arch:00000:UNDI:002001', ['bcast.pcap']],
  ];
  for (const [profile, vendorClass, files] of cases) {
    it(`${profile.name}: the DISCOVER's options, order and broadcast flag equal the capture's, retransmitted on its schedule`, async () => {
      const real = captured(vendorClass, files);
      const sent = await discoverOf(profile, real);
      const first = sent[0]!.packet;
      expect(first.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')])).toEqual(real.options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]));
      expect(first.broadcast).toBe(real.broadcast);
      const starts = [0, ...profile.retransmitMs.slice(0, -1)].map((_, i) => profile.retransmitMs.slice(0, i).reduce((a, b) => a + b, 0));
      expect(sent.map((s) => s.at)).toEqual(starts);
    });
  }
});
