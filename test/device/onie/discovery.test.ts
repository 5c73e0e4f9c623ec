import { describe, expect, it } from 'vitest';
import { onieCandidates, type Candidate } from '../../../src/device/onie/discovery.js';
import { KVM_NAMES, kvmIdentity } from './fixtures.js';


/** Option 125 payload as udhcpc exports it: hex of [enterprise u32][len u8][code u8 len u8 text]... */
function vivsoHex(blocks: Array<{ enterprise: number; subs: Array<[number, string]> }>): string {
  const bytes: number[] = [];
  for (const b of blocks) {
    const data = b.subs.flatMap(([code, text]) => [code, text.length, ...Buffer.from(text, 'latin1')]);
    bytes.push((b.enterprise >>> 24) & 0xff, (b.enterprise >>> 16) & 0xff, (b.enterprise >>> 8) & 0xff, b.enterprise & 0xff, data.length, ...data);
  }
  return Buffer.from(bytes).toString('hex');
}

const inexact = (host: string, port = 80): Candidate[] =>
  KVM_NAMES.map((n) => ({ url: `http://${host}${port === 80 ? '' : `:${port}`}/${n}`, method: 'http-inexact', probe: { host, port } }));

/** Steps 6–8 only: the HTTP side of the list. */
const httpSteps = (list: Candidate[]): Candidate[] => list.filter((c) => !c.method.startsWith('tftp-'));
const tftpSteps = (list: Candidate[]): Candidate[] => list.filter((c) => c.method.startsWith('tftp-'));

describe('onieCandidates', () => {
  const full = {
    vivso: vivsoHex([{ enterprise: 42623, subs: [[1, 'http://10.0.0.1/exact-vivso']] }]),
    url: 'http://10.0.0.1/exact-114',
    wwwsrv: '10.0.0.2 10.0.0.3',
    siaddr: '10.0.0.4',
    serverid: '10.0.0.5',
    tftpsiaddr: '10.0.0.6',
    tftp: 'tftp.lab',
    bootfile: 'http://10.0.0.7/from-67',
    boot_file: 'pxelinux.0',
    ip: '10.0.0.50',
  };

  it('orders VIVSO, option 114, inexact HTTP per server, then option 67 as a URL', () => {
    expect(httpSteps(onieCandidates(full, kvmIdentity))).toEqual([
      { url: 'http://10.0.0.1/exact-vivso', method: 'vivso' },
      { url: 'http://10.0.0.1/exact-114', method: 'default-url' },
      ...inexact('10.0.0.2'),
      ...inexact('10.0.0.3'),
      ...inexact('10.0.0.4'),
      ...inexact('10.0.0.5'),
      ...inexact('10.0.0.6'),
      ...inexact('tftp.lab'),
      { url: 'http://10.0.0.7/from-67', method: 'bootfile-url' },
    ]);
  });

  it('puts onie-server first and uses the given HTTP port', () => {
    const list = httpSteps(onieCandidates({ siaddr: '127.0.0.1' }, kvmIdentity, { httpPort: 18080, onieServerName: 'onie-server' }));
    expect(list).toEqual([...inexact('onie-server', 18080), ...inexact('127.0.0.1', 18080)]);
  });

  it('de-duplicates servers keeping first-seen order and skips 0.0.0.0', () => {
    const list = httpSteps(
      onieCandidates({ wwwsrv: '10.0.0.9  10.0.0.8', siaddr: '0.0.0.0', serverid: '10.0.0.8', tftpsiaddr: '10.0.0.9', tftp: '' }, kvmIdentity),
    );
    expect([...new Set(list.map((c) => c.probe?.host))]).toEqual(['10.0.0.9', '10.0.0.8']);
    expect(list).toHaveLength(24);
  });

  it('keeps the same URL when two methods reach it, as ONIE fetches it twice', () => {
    const url = 'http://10.0.0.1/onie-installer';
    const list = onieCandidates({ vivso: vivsoHex([{ enterprise: 42623, subs: [[1, url]] }]), url, bootfile: url }, kvmIdentity);
    expect(list.map((c) => c.method)).toEqual(['vivso', 'default-url', 'bootfile-url']);
    expect(new Set(list.map((c) => c.url))).toEqual(new Set([url]));
  });

  it('counts VIVSO sub-option 2 only when updating, and the last applicable one wins', () => {
    const vivso = vivsoHex([
      { enterprise: 42623, subs: [[1, 'http://s/installer'], [2, 'http://s/updater']] },
    ]);
    expect(onieCandidates({ vivso }, kvmIdentity)[0]).toEqual({ url: 'http://s/installer', method: 'vivso' });
    expect(onieCandidates({ vivso }, kvmIdentity, { bootReason: 'update' })[0]).toEqual({ url: 'http://s/updater', method: 'vivso' });
    expect(onieCandidates({ vivso }, kvmIdentity, { bootReason: 'embed' })[0]).toEqual({ url: 'http://s/updater', method: 'vivso' });
    const onlyUpdater = vivsoHex([{ enterprise: 42623, subs: [[2, 'http://s/updater']] }]);
    expect(onieCandidates({ vivso: onlyUpdater }, kvmIdentity)).toEqual([]);
  });

  it('reads only enterprise 42623 blocks of option 125', () => {
    const vivso = vivsoHex([
      { enterprise: 9, subs: [[1, 'http://other/vendor']] },
      { enterprise: 42623, subs: [[3, 'kvm_x86_64'], [1, 'http://s/ocp']] },
      { enterprise: 4491, subs: [[1, 'http://other/cablelabs']] },
    ]);
    expect(onieCandidates({ vivso }, kvmIdentity)).toEqual([{ url: 'http://s/ocp', method: 'vivso' }]);
  });

  it('ignores malformed VIVSO hex without failing the rest of the list', () => {
    for (const vivso of ['zz', '0000a67f', '0000a67f0a01', 'abc', '0000a67f05011a687474']) {
      const list = onieCandidates({ vivso, url: 'http://s/114' }, kvmIdentity);
      expect(list).toEqual([{ url: 'http://s/114', method: 'default-url' }]);
    }
  });

  it('uses the onie-updater names when updating', () => {
    const all = onieCandidates({ siaddr: '10.0.0.4' }, kvmIdentity, { bootReason: 'update' });
    const list = httpSteps(all);
    expect(list[0]?.url).toBe('http://10.0.0.4/onie-updater-x86_64-kvm_x86_64-r0');
    expect(list.at(-1)?.url).toBe('http://10.0.0.4/onie-updater.bin');
    expect(tftpSteps(all)[0]?.url).toBe(`tftp://10.0.0.4/${kvmIdentity.mac.replaceAll(':', '-')}/onie-updater-x86_64-kvm_x86_64-r0`);
  });

  it('tries option 67 only when it is a URL', () => {
    expect(onieCandidates({ bootfile: 'onie-installer.bin' }, kvmIdentity)).toEqual([]);
    expect(onieCandidates({ bootfile: 'tftp://10.0.0.4/img' }, kvmIdentity)).toEqual([{ url: 'tftp://10.0.0.4/img', method: 'bootfile-url' }]);
  });

  it('brackets an IPv6 server in the URL but probes the bare address', () => {
    const [first] = onieCandidates({ wwwsrv: 'fd00::1' }, kvmIdentity, { httpPort: 8080 });
    expect(first).toEqual({ url: `http://[fd00::1]:8080/${KVM_NAMES[0]}`, method: 'http-inexact', probe: { host: 'fd00::1', port: 8080 } });
  });

  it('then tries exact TFTP: each server of onie-server, siaddr, 66, 150, 54 with option 67, then the BOOTP file', () => {
    const exact = tftpSteps(onieCandidates(full, kvmIdentity, { onieServerName: 'onie-server' })).filter((c) => c.method === 'tftp-exact');
    expect(exact.map((c) => c.url)).toEqual(
      ['onie-server', '10.0.0.4', 'tftp.lab', '10.0.0.6', '10.0.0.5'].flatMap((h) => [`tftp://${h}/http://10.0.0.7/from-67`, `tftp://${h}/pxelinux.0`]),
    );
  });

  it('ends with the TFTP waterfall: MAC directory, IP-hex prefixes, then the root, per server, on the given port', () => {
    const wf = tftpSteps(onieCandidates({ siaddr: '10.0.0.4', tftpsiaddr: '10.0.0.4 10.0.0.6', ip: '192.168.1.178' }, kvmIdentity, { tftpPort: 6969 })).filter(
      (c) => c.method === 'tftp-waterfall',
    );
    const name = KVM_NAMES[0];
    const mac = kvmIdentity.mac.replaceAll(':', '-');
    const paths = [`${mac}/${name}`, ...['C0A801B2', 'C0A801B', 'C0A801', 'C0A80', 'C0A8', 'C0A', 'C0', 'C'].map((h) => `${h}/${name}`), ...KVM_NAMES];
    expect(wf.map((c) => c.url)).toEqual(['10.0.0.4', '10.0.0.6'].flatMap((h) => paths.map((p) => `tftp://${h}:6969/${p}`)));
    expect(new Set(wf.map((c) => c.waterfallServer))).toEqual(new Set(['10.0.0.4', '10.0.0.6']));
    // Without a leased address there are no IP-hex paths.
    expect(tftpSteps(onieCandidates({ siaddr: '10.0.0.4' }, kvmIdentity))).toHaveLength(1 + KVM_NAMES.length);
  });
});
