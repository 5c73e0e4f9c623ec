import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onieDiscoVars } from '../../../src/device/onie/disco-vars.js';
import { ipListOption, ipOption, stringOption, u32Option } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { encodeVivso } from '../../../src/protocol/dhcp4/vivso.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

function ack(overrides: Partial<Dhcp4Packet>): Dhcp4Packet {
  return {
    op: 'reply',
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 1,
    secs: 0,
    broadcast: false,
    ciaddr: '0.0.0.0',
    yiaddr: '192.168.1.178',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: '52:54:00:13:34:01',
    sname: '',
    file: '',
    options: [],
    ...overrides,
  };
}

describe('onieDiscoVars', () => {
  it('exports what busybox udhcpc exports for a real ACK (clients.pcap frame 23)', () => {
    const path = fileURLToPath(new URL('../../fixtures/dhcp4/clients.pcap', import.meta.url));
    const r = decodeDhcp4(dhcpDatagrams(path).find((d) => d.frame === 23)!.payload);
    if (!r.ok) throw r.error;
    expect(onieDiscoVars(r.value)).toEqual({
      ip: '10.99.0.170',
      siaddr: '10.99.0.1',
      subnet: '255.255.255.0',
      mask: '24',
      router: '10.99.0.1',
      broadcast: '10.99.0.255',
      lease: '3600',
      serverid: '10.99.0.1',
      url: 'http://10.99.0.1:8080/onie-installer',
      opt53: '05',
      opt58: '00000708',
      opt59: '00000c4e',
    });
  });

  it('names every option ONIE reads the way its patched udhcpc does', () => {
    const vivso = encodeVivso([{ enterprise: 42623, subOptions: [{ code: 1, data: new Uint8Array(Buffer.from('http://h/i')) }] }]);
    const vars = onieDiscoVars(
      ack({
        siaddr: '10.0.0.9',
        file: 'pxe/boot',
        sname: 'bootsrv',
        options: [
          ipListOption(3, ['10.0.0.1', '10.0.0.2']),
          ipListOption(6, ['1.1.1.1', '8.8.8.8']),
          ipListOption(7, ['10.0.0.3']),
          stringOption(12, 'switch-1'),
          stringOption(15, 'lab.example'),
          ipListOption(42, ['10.0.0.4']),
          { code: 43, data: Uint8Array.of(1, 2, 0xab, 0xcd) },
          ipOption(54, '10.0.0.1'),
          stringOption(66, 'tftp.lab'),
          stringOption(67, 'onie-installer.bin'),
          ipListOption(72, ['10.0.0.5', '10.0.0.6']),
          stringOption(114, 'http://10.0.0.1/onie-installer'),
          { code: 119, data: Uint8Array.of(3, ...Buffer.from('lab'), 7, ...Buffer.from('example'), 0) },
          { code: 125, data: vivso },
          ipListOption(150, ['10.0.0.7']),
          { code: 224, data: Uint8Array.of(0xde, 0xad) },
        ],
      }),
    );
    expect(vars).toEqual({
      ip: '192.168.1.178',
      siaddr: '10.0.0.9',
      boot_file: 'pxe/boot',
      sname: 'bootsrv',
      router: '10.0.0.1 10.0.0.2',
      dns: '1.1.1.1 8.8.8.8',
      logsrv: '10.0.0.3',
      hostname: 'switch-1',
      domain: 'lab.example',
      ntpsrv: '10.0.0.4',
      vendoropts: '0102abcd',
      serverid: '10.0.0.1',
      tftp: 'tftp.lab',
      bootfile: 'onie-installer.bin',
      wwwsrv: '10.0.0.5 10.0.0.6',
      url: 'http://10.0.0.1/onie-installer',
      search: 'lab.example',
      vivso: Buffer.from(vivso).toString('hex'),
      tftpsiaddr: '10.0.0.7',
      opt224: 'dead',
    });
  });

  it('drops empty values and a zero next-server', () => {
    const vars = onieDiscoVars(ack({ options: [stringOption(12, ''), u32Option(51, 60)] }));
    expect(vars).toEqual({ ip: '192.168.1.178', lease: '60' });
  });
});
