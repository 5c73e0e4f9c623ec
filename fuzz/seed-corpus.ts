/**
 * Writes fuzz/corpus/: UDP payloads of the reference captures (DHCPv4, TFTP), plus
 * encoder output for formats no capture carries. Run again after adding a capture:
 * `tsx fuzz/seed-corpus.ts [captures-dir]` (default the test fixtures and ../shared/reference/captures).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readUdpDatagrams } from '../test/fixtures/dhcp4/pcap-reader.js';
import { Dhcp4MessageType, messageTypeOption } from '../src/protocol/dhcp4/options.js';
import { dhcp4Request, encodeDhcp4 } from '../src/protocol/dhcp4/packet.js';
import { encodeVivso, ONIE_ENTERPRISE_NUMBER } from '../src/protocol/dhcp4/vivso.js';
import { encodeRelayAgentInfo, relayAgentInfo } from '../src/protocol/dhcp4/relay-agent-info.js';
import { encodeDhcp6 } from '../src/protocol/dhcp6/message.js';
import { encodeIaNa, encodeOpaqueList, encodeOro, encodeVendorClass } from '../src/protocol/dhcp6/options.js';
import { encodeTftp } from '../src/protocol/tftp/packet.js';
import { encodeUstarHeader, ustarEnd, ustarPadding } from '../src/protocol/tar/ustar.js';
import { renderSharchHeader } from '../src/protocol/sharch/layout.js';
import { encodeMerkleDescriptor, leafCountFor, merkleRoot } from '../src/protocol/merkle/manifest.js';
import { defaultSpecId, encodeEventLog } from '../src/protocol/tcg/event-log.js';
import { DIGEST_SIZE } from '../src/protocol/tcg/hash-alg.js';
import { encodeQuoteAttest } from '../src/protocol/tpm2/attest.js';
import { encodePcrSelection } from '../src/protocol/tpm2/pcr-selection.js';
import { encodePcrsFile } from '../src/protocol/tpm2/pcrs-file.js';
import { akPublic, ekPublic, encodeTpm2bPublic, encodeTpmtPublic } from '../src/protocol/tpm2/public.js';
import { encodeSignature } from '../src/protocol/tpm2/signature.js';
import { encodeLldpFrame } from '../src/protocol/lldp/frame.js';
import { buildDetachedCms } from '../src/image/sign.js';
import { createTestPki } from '../src/trust/test-pki.js';
import { CORPUS_DIR } from './corpus.js';
import { createPublicKey } from 'node:crypto';

const root = new URL('..', import.meta.url).pathname;
const captureDirs = process.argv.length > 2 ? process.argv.slice(2) : [join(root, 'test/fixtures/dhcp4'), join(root, '../shared/reference/captures'), '/work/shared/reference/captures'];

const written = new Map<string, Set<string>>();
function put(target: string, name: string, bytes: Uint8Array): void {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const seen = written.get(target) ?? new Set<string>();
  written.set(target, seen);
  if (seen.has(hash)) return;
  seen.add(hash);
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}-${hash}.bin`), bytes);
}

for (const dir of captureDirs.filter(existsSync)) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.pcap'))) {
    for (const d of readUdpDatagrams(join(dir, file))) {
      const base = `${file.replace(/\.pcap$/, '')}-f${d.frame}`;
      if ([67, 68, 4011].includes(d.srcPort) || [67, 68, 4011].includes(d.dstPort)) put('dhcp4', base, d.payload);
      else if (d.srcPort === 69 || d.dstPort === 69 || file.startsWith('tftp')) put('tftp', base, d.payload);
    }
  }
}

// DHCPv4: the ONIE vendor option (125) and a DISCOVER that carries it.
const vivso = encodeVivso([{ enterprise: ONIE_ENTERPRISE_NUMBER, subOptions: [{ code: 1, data: Buffer.from('http://10.0.0.1/onie-installer') }, { code: 3, data: Buffer.from('kvm_x86_64') }] }]);
put('dhcp4-vivso', 'onie', vivso);
put('dhcp4', 'onie-discover', encodeDhcp4(dhcp4Request({ xid: 7, chaddr: '02:00:00:00:00:07', options: [messageTypeOption(Dhcp4MessageType.DISCOVER), { code: 125, data: vivso }, { code: 60, data: Buffer.from('onie_vendor:x86_64-kvm_x86_64-r0') }] })));

// DHCPv4 through a relay: option 82 as a relay adds it (plus an opaque sub-option), a
// relayed DISCOVER carrying it, and the server's OFFER echoing it back to the relay.
const agentInfo = encodeRelayAgentInfo({ subOptions: [...relayAgentInfo({ circuitId: 'rack1/leaf1/swp7', remoteId: 'leaf1' }).subOptions, { code: 5, data: Uint8Array.of(10, 1, 0, 0) }] });
put('dhcp4-relay-agent-info', 'circuit-remote-link', agentInfo);
const relayedDiscover = dhcp4Request({ xid: 8, chaddr: '02:00:00:00:00:08', giaddr: '10.1.0.1', hops: 1, options: [messageTypeOption(Dhcp4MessageType.DISCOVER), { code: 82, data: agentInfo }] });
put('dhcp4-relay', 'relayed-discover', encodeDhcp4(relayedDiscover));
put('dhcp4-relay', 'offer-to-relay', encodeDhcp4({ ...relayedDiscover, op: 'reply', hops: 0, giaddr: '127.0.0.1', yiaddr: '10.1.0.50', options: [messageTypeOption(Dhcp4MessageType.OFFER), { code: 54, data: Uint8Array.of(10, 2, 0, 1) }, { code: 82, data: agentInfo }] }));

// DHCPv6: no capture has it; a SOLICIT, REQUEST and INFORMATION-REQUEST as ONIE sends them.
const iaNa = encodeIaNa({ iaid: 1, t1: 0, t2: 0, addresses: [{ address: '2001:db8::100', preferred: 3600, valid: 7200 }], options: [{ code: 13, data: Uint8Array.of(0, 0) }] });
put('dhcp6-ia-na', 'one-address', iaNa);
put('dhcp6-ia-na', 'empty', encodeIaNa({ iaid: 9, t1: 100, t2: 200, addresses: [], options: [] }));
const clientId = { code: 1, data: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0, 7) };
const common = [clientId, { code: 6, data: encodeOro([59, 23]) }, { code: 8, data: Uint8Array.of(0, 0) }, { code: 15, data: encodeOpaqueList(['onie']) }, { code: 16, data: encodeVendorClass(42623, ['onie_vendor:x86_64-kvm_x86_64-r0']) }, { code: 61, data: Uint8Array.of(0, 7) }];
put('dhcp6', 'solicit', encodeDhcp6({ type: 1, transactionId: 0x123456, options: [...common, { code: 3, data: iaNa }, { code: 14, data: new Uint8Array() }] }));
put('dhcp6', 'request', encodeDhcp6({ type: 3, transactionId: 0x123457, options: [...common, { code: 2, data: Uint8Array.of(0, 3, 0, 1, 1, 2, 3, 4, 5, 6) }, { code: 3, data: iaNa }] }));
put('dhcp6', 'info-request', encodeDhcp6({ type: 11, transactionId: 1, options: common }));

// TFTP: what the firmware profiles send besides the captured OACK exchange.
put('tftp', 'rrq-options', encodeTftp({ op: 'rrq', filename: 'pxelinux.0', mode: 'octet', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: '0' }, { name: 'windowsize', value: '16' }, { name: 'timeout', value: '1' }] }));
put('tftp', 'wrq', encodeTftp({ op: 'wrq', filename: 'upload/log.txt', mode: 'netascii', options: [{ name: 'tsize', value: '100' }] }));
put('tftp', 'data', encodeTftp({ op: 'data', block: 1, data: Buffer.alloc(512, 1) }));
put('tftp', 'ack', encodeTftp({ op: 'ack', block: 65535 }));
put('tftp', 'error', encodeTftp({ op: 'error', code: 8, message: 'option refused' }));
put('tftp', 'gen-rrq', encodeTftp({ op: 'rrq', filename: 'gen/x', mode: 'octet', options: [] }));

// ustar: an ONIE installer payload's shape.
const tar = Buffer.concat([
  encodeUstarHeader({ name: 'installer/', size: 0, mode: 0o755, mtime: 1_700_000_000, type: 'dir' }),
  encodeUstarHeader({ name: 'installer/install.sh', size: 21, mode: 0o755, mtime: 1_700_000_000, type: 'file' }),
  Buffer.from('#!/bin/sh\necho hello\n'),
  ustarPadding(21),
  ustarEnd(),
]);
for (const t of ['ustar', 'ustar-stream']) put(t, 'installer', tar);
put('ustar-header', 'file', tar.subarray(512, 1024));

// sharch: ONIE's installer header, plain and with the updater cookie.
const sha1 = createHash('sha1').update(tar).digest('hex');
put('sharch', 'installer', Buffer.concat([renderSharchHeader({ payloadSha1: sha1, payloadSize: tar.length }), tar.subarray(0, 512)]));
put('sharch', 'updater', renderSharchHeader({ payloadSha1: sha1, payloadSize: tar.length, updaterCookie: true }));

// Merkle manifest: three 4 KiB chunks and a signature tail.
const leaves = [0, 1, 2].map((i) => createHash('sha256').update(`chunk ${i}`).digest());
put('merkle', 'three-leaves', Buffer.concat([encodeMerkleDescriptor({ chunkSize: 4096, imageSize: 8193, leafCount: leafCountFor(8193, 4096), root: merkleRoot(leaves) }), ...leaves, Buffer.from('sig')]));

// TCG event log: two banks, a few events.
const banks = ['sha1', 'sha256'] as const;
put('tcg-event-log', 'two-banks', encodeEventLog({ specId: defaultSpecId([...banks]), events: [0, 4, 7].map((pcrIndex) => ({ pcrIndex, eventType: 0x80000001, digests: banks.map((alg) => ({ alg, digest: new Uint8Array(DIGEST_SIZE[alg]).fill(pcrIndex) })), data: Buffer.from(`event ${pcrIndex}`) })) }));

// TPM2 structures.
const selection = [{ alg: 'sha256' as const, pcrs: [0, 1, 7] }, { alg: 'sha1' as const, pcrs: [0] }];
put('tpm2-pcr-selection', 'two-banks', encodePcrSelection(selection));
put('tpm2-pcrs-file', 'two-banks', encodePcrsFile(selection, [...[0, 1, 7].map((p) => new Uint8Array(32).fill(p)), new Uint8Array(20)]));
put('tpm2-attest', 'quote', encodeQuoteAttest({ qualifiedSigner: Buffer.alloc(34, 1), extraData: Buffer.alloc(32, 2), clockInfo: { clock: 123456789n, resetCount: 1, restartCount: 2, safe: 1 }, firmwareVersion: 0x2000n, pcrSelect: selection, pcrDigest: Buffer.alloc(32, 3) }));
const pki = createTestPki();
const jwk = createPublicKey(pki.vendorSigner.certPem).export({ format: 'jwk' }) as { x: string; y: string };
const key = { type: 'ecc' as const, x: Buffer.from(jwk.x, 'base64url'), y: Buffer.from(jwk.y, 'base64url') };
for (const [name, p] of [['ak', akPublic(key)], ['ek', ekPublic(key)]] as const) {
  put('tpm2-public', `${name}-2b`, encodeTpm2bPublic(p));
  put('tpm2-public', `${name}-t`, encodeTpmtPublic(p));
}
put('tpm2-signature', 'ecdsa', encodeSignature({ sigAlg: 'ecdsa', hash: 'sha256', r: Buffer.alloc(32, 1), s: Buffer.alloc(32, 2) }));
put('tpm2-signature', 'rsassa', encodeSignature({ sigAlg: 'rsassa', hash: 'sha256', sig: Buffer.alloc(256, 3) }));

// CMS and PEM: a detached signature by the TEST ONLY signer (no private key is written).
const cmsDer = buildDetachedCms(createHash('sha256').update('image').digest(), pki.vendorSigner, new Date('2026-01-01T00:00:00Z'));
put('cms', 'detached-der', cmsDer);
const armoured = `-----BEGIN CMS-----\n${cmsDer.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CMS-----\n`;
put('cms', 'detached-pem', Buffer.from(armoured));
put('pem', 'cert-and-cms', Buffer.from(pki.vendorSigner.certPem + armoured));

// LLDP: the frame lldpd sent (test/fixtures/lldp), and one of ours with an 802.1Q tag.
const lldpdFrame = join(root, 'test/fixtures/lldp/lldpd-frame.hex');
if (existsSync(lldpdFrame)) put('lldp', 'lldpd', Buffer.from(readFileSync(lldpdFrame, 'utf8').trim(), 'hex'));
put('lldp', 'tagged', encodeLldpFrame({ source: '02:00:00:00:00:07', vlan: { id: 7, priority: 0, dropEligible: false }, lldpdu: { chassisId: { kind: 'mac', mac: '02:00:00:00:00:07' }, portId: { kind: 'text', subtype: 'interface-name', text: 'eth0' }, ttlSeconds: 120, tlvs: [{ kind: 'system-name', text: 'leaf1' }, { kind: 'management-address', address: { family: 'ipv4', address: '10.0.0.7' }, interfaceNumbering: 'if-index', interfaceNumber: 2, oid: new Uint8Array() }] } }));

for (const [t, s] of [...written].sort()) console.log(`${t}: ${s.size} seeds`);
