import { readFile, rm } from 'node:fs/promises';
import { sleep, type Clock } from '../../clock.js';
import type { Random } from '../../random.js';
import { acquireLease, type Dhcp4Lease } from '../../net/dhcp4/client.js';
import type { Dispatcher } from 'undici';
import { downloadImage } from '../../net/http-image-client.js';
import { downloadTftp } from '../../net/tftp/tftp-download.js';
import { PeerError, TimeoutError } from '../../errors.js';
import { probeTcp } from '../../net/tcp-probe.js';
import type { Dhcp4OptionEntry } from '../../protocol/dhcp4/packet.js';
import { SignedImageDigester } from '../../trust/image-digester.js';
import { reject, verifyDigestedImage } from '../../trust/image-verifier.js';
import type { VerdictMemo } from '../../trust/verdict-memo.js';
import { ChunkVerifier, StreamRefusedError } from '../../trust/chunk-verifier.js';
import { verifyManifest, type ManifestVerdict } from '../../trust/manifest-verifier.js';
import type { TrustStore } from '../../trust/trust-store.js';
import { listedStage, verifyReferenceList, type ReferenceList, type SignedReferenceList } from '../../trust/reference-list.js';
import type { VirtualTpm } from '../../trust/vtpm.js';
import type { DeviceIdentity } from '../identity.js';
import { onieInstallerVariables, readNosMode, runInstaller, type SandboxLayout } from '../installer-sandbox.js';
import type { OnieBootEffects } from './boot-machine.js';
import { onieDhcpClientOptions } from './dhcp-client-options.js';
import { onieDiscoVars } from './disco-vars.js';
import { onieCandidates } from './discovery.js';
import { onieRequestHeaders, onieUserAgent } from './http-headers.js';
import {
  authorityMeasurement,
  installerConfigMeasurement,
  operatorAuthorityMeasurement,
  installerMeasurement,
  preBootMeasurements,
  secureBootVariablesOf,
  referenceListMeasurement,
  rejectionMeasurement,
  unknownStageMeasurement,
  toTcgEvent,
  type Measurement,
} from './measured-boot.js';

/** Where one device lives and what it may talk to. */
export interface OnieDeviceDeps {
  identity: DeviceIdentity;
  tpm: VirtualTpm;
  trust: TrustStore;
  sandbox: SandboxLayout;
  /** The DHCP server the device's requests go to (a unicast stand-in for broadcast on loopback). */
  dhcpServer: { address: string; port: number };
  /** Other DHCP servers on the device's segment, which hear its broadcasts too (a rogue one). */
  dhcpAlsoHeardBy?: readonly { address: string; port: number }[] | undefined;
  /** Local address the device's sockets bind to. */
  bindAddress: string;
  /** Port that ONIE's inexact HTTP method probes and fetches from (80 on a real network). */
  httpPort: number;
  /** Port of ONIE's TFTP methods (69 on a real network). */
  tftpPort: number;
  clock: Clock;
  /** Trust anchors for https:// candidates, the same `http` was made with; none: https:// is refused. */
  httpsCa?: readonly string[] | undefined;
  /** The device's HTTP connections (deviceHttpAgent), reused from one request to the next. */
  http?: Dispatcher | undefined;
  /** The run's shared signature checks; without it every verdict is computed here. */
  verdicts?: VerdictMemo | undefined;
  random: Random;
  installerTimeoutMs: number;
  /** Drawn stage delays (timing): the power-on self test, and the NOS's first boot after an install. */
  postMs?: number | undefined;
  nosBootMs?: number | undefined;
  /** A signed list of known-good stages provisioned on the device (DIGLIM-style measurement). */
  referenceList?: SignedReferenceList | undefined;
  /** Publishes a device event on the run's bus. */
  emit: (type: string, message: string, data?: Record<string, unknown>) => void;
  /** The device's serial console: ONIE's own messages and the installer's output. */
  console: (line: string) => void;
}

/** udhcpc timers (onie.md §1.5): networking.sh -t 5 -T 3, sd_dhcp4 -t 2 -T 2. */
const NETWORKING_DHCP = { attempts: 5, retryMs: 3000 };
const DISCOVERY_DHCP = { attempts: 2, retryMs: 2000 };
/** networking.sh asks for interface settings only (-o -O subnet broadcast router domain hostname ntpsrv dns logsrv search). */
const NETWORKING_REQUEST_LIST = [1, 28, 3, 15, 12, 42, 6, 7, 119];
/** ONIE's `nc -w 10` port probe. */
const PROBE_TIMEOUT_MS = 10_000;
/** busybox wget -T 3. */
const WGET_TIMEOUT_MS = 3_000;
/** A manifest for a 64 GiB image in 1 MiB chunks is 2 MiB. */
const MAX_MANIFEST_BYTES = 4 << 20;

export function onieEffects(d: OnieDeviceDeps): OnieBootEffects {
  const authorities = new Set<string>();
  /** The reference list as loaded at power-on (undefined: none provisioned, or refused). */
  let loadedList: ReferenceList | undefined;
  /** Waterfall servers that timed out this pass: ONIE leaves the rest of their paths. */
  const silentServers = new Set<string>();
  const measure = (m: Measurement): void => {
    const e = toTcgEvent(m, d.tpm.banks);
    d.tpm.extend(e.pcrIndex, e.eventType, e.data, Object.fromEntries(e.digests.map((x) => [x.alg, x.digest])));
    d.emit('tpm.extend', `measured into PCR ${m.pcr}`, { pcr: m.pcr, eventType: m.eventType });
  };
  const lease = async (kind: 'networking' | 'discovery', signal: AbortSignal): Promise<Dhcp4Lease> => {
    const timers = kind === 'networking' ? NETWORKING_DHCP : DISCOVERY_DHCP;
    const options = kind === 'networking' ? withRequestList(onieDhcpClientOptions(d.identity), NETWORKING_REQUEST_LIST) : onieDhcpClientOptions(d.identity);
    const l = await acquireLease({
      server: d.dhcpServer,
      ...(d.dhcpAlsoHeardBy?.length ? { alsoHeardBy: d.dhcpAlsoHeardBy } : {}),
      bind: { address: d.bindAddress, port: 0 },
      mac: d.identity.mac,
      options,
      ...timers,
      clock: d.clock,
      random: d.random,
      signal,
    });
    d.emit('dhcp.leased', `${kind} lease ${l.address} from ${l.serverId}`, { kind, address: l.address, serverId: l.serverId });
    return l;
  };

  const installHeaders = (): Record<string, string> => ({
    'User-Agent': onieUserAgent(d.identity, { sysname: 'Linux', release: d.identity.kernelVersion }),
    ...onieRequestHeaders(d.identity, { operation: 'os-install' }),
  });
  /** `<url>.merkle`, fetched the way the image is and judged by the device's db; never throws for a missing one. */
  const loadManifest = async (candidate: { url: string }, signal: AbortSignal): Promise<ManifestVerdict> => {
    const url = `${candidate.url}.merkle`;
    const to = `${d.sandbox.installerPath}.merkle`;
    try {
      if (url.startsWith('tftp://')) await downloadTftp(url, { to, clock: d.clock, signal });
      else await downloadImage(url, { headers: installHeaders(), to, signal, timeoutMs: WGET_TIMEOUT_MS, clock: d.clock, dispatcher: d.http, ca: d.httpsCa, maxBytes: MAX_MANIFEST_BYTES });
      return verifyManifest(await readFile(to), d.trust);
    } catch (e) {
      // A server that does not answer at all is a network failure, as for the image itself.
      if (signal.aborted || e instanceof TimeoutError) throw e;
      return { ok: false, reason: 'no-manifest', detail: `manifest: ${(e as Error).message}` };
    } finally {
      await rm(to, { force: true });
    }
  };

  return {
    async powerOn(signal) {
      if (d.postMs) {
        d.console(`bootlab firmware: power-on self test (${d.postMs} ms)`);
        await sleep(d.clock, d.postMs, signal);
      }
      d.console('bootlab firmware: measured boot, Secure Boot enabled');
      for (const m of preBootMeasurements(d.identity, secureBootVariablesOf(d.trust))) measure(m);
      d.console(`ONIE: version ${d.identity.onieVersion}, platform ${d.identity.arch}-${d.identity.machine}-r${d.identity.machineRev}`);
      if (d.referenceList) {
        const v = verifyReferenceList(d.referenceList, d.trust);
        if (v.ok) {
          loadedList = v.list;
          measure(referenceListMeasurement({ id: v.list.id, version: v.list.version, bytes: d.referenceList.bytes }));
          d.console(`ONIE: reference list ${v.list.id} v${v.list.version} loaded (${v.list.entries.length} stages), signed by "${v.signer}"`);
          d.emit('reference-list.loaded', `reference list ${v.list.id} v${v.list.version}: ${v.list.entries.length} known stages`, { id: v.list.id, sha256: v.sha256.toString('hex') });
        } else {
          d.console(`ONIE: reference list refused (${v.reason}): every stage counts as unknown`);
          d.emit('reference-list.refused', `reference list refused: ${v.reason}: ${v.detail}`, { reason: v.reason });
        }
      }
      // boot-mode.sh: until a NOS installer declares itself (onie-nos-mode -s), every boot
      // is an install-mode boot: a switch whose install was cut short starts discovery again.
      if (!(await readNosMode(d.sandbox))) d.console('NOTICE: ONIE started in NOS install mode. Install mode persists until a NOS installer runs successfully.');
      d.emit('device.booted', 'firmware and ONIE stages measured');
    },

    async configureNetwork(signal) {
      await lease('networking', signal);
    },

    async discover(signal) {
      const l = await lease('discovery', signal);
      const vars = onieDiscoVars(l.ack);
      const candidates = onieCandidates(vars, d.identity, { httpPort: d.httpPort, tftpPort: d.tftpPort });
      silentServers.clear();
      return { vars, candidates };
    },

    probe(target, signal) {
      return probeTcp(target.host, target.port, PROBE_TIMEOUT_MS, signal, d.clock);
    },

    async fetch(candidate, signal) {
      d.console(`Info: Fetching ${candidate.url} ...`);
      // exec_installer deletes the previous download before every attempt. Here no attempt
      // leaves one behind (a failed or refused download is deleted where it fails, and the
      // downloaders truncate), so there is nothing to delete: no filesystem call per candidate.
      // One pass hashes what the verification and every allocated PCR bank need, nothing more.
      const digester = new SignedImageDigester({ sha1: d.tpm.banks.includes('sha1'), sha384: d.tpm.banks.includes('sha384') });
      const server = candidate.waterfallServer;
      if (server !== undefined && silentServers.has(server)) {
        throw new PeerError('BL_TFTP_SKIPPED', `skipped: ${server} timed out earlier in this waterfall`);
      }
      /** A waterfall server that timed out is skipped for the rest of this pass. */
      const noteSilence = (e: unknown): never => {
        if (server !== undefined && e instanceof TimeoutError) silentServers.add(server);
        throw e;
      };
      // A required manifest is judged before the image: its leaves then check every chunk as
      // it arrives. Without a trusted one, the first byte of the image ends the download.
      let chunks: ChunkVerifier | undefined;
      let refusal: StreamRefusedError | undefined;
      if (d.trust.manifest === 'required') {
        const m = await loadManifest(candidate, signal).catch(noteSilence);
        if (m.ok) {
          chunks = new ChunkVerifier(m.manifest);
          d.console(`ONIE: ${candidate.url}.merkle: ${m.manifest.leafCount} chunks of ${m.manifest.chunkSize} bytes, signed by "${m.signer}"`);
        } else {
          refusal = new StreamRefusedError(m.reason, 0, m.detail);
        }
      }
      const onChunk = (chunk: Uint8Array): void => {
        if (refusal) throw refusal;
        chunks?.write(chunk);
        digester.write(chunk);
      };
      /** The whole file is on disk: a refusal from here on must delete it (the downloaders delete partial ones). */
      let written = false;
      try {
        const { bytes } = candidate.url.startsWith('tftp://')
          ? await downloadTftp(candidate.url, { to: d.sandbox.installerPath, onChunk, clock: d.clock, signal }).catch(noteSilence)
          : await downloadImage(candidate.url, { headers: installHeaders(), to: d.sandbox.installerPath, onChunk, signal, timeoutMs: WGET_TIMEOUT_MS, clock: d.clock, dispatcher: d.http, ca: d.httpsCa });
        written = true;
        if (refusal) throw refusal;
        chunks?.finish();
        const digest = digester.finish();
        d.emit('image.fetched', `fetched ${candidate.method} ${candidate.url}: ${bytes} bytes, sha256 ${digest.fileSha256.toString('hex').slice(0, 16)}…`, {
          url: candidate.url,
          bytes,
          sha256: digest.fileSha256.toString('hex'),
        });
        return { candidate, path: d.sandbox.installerPath, digest };
      } catch (e) {
        if (written) await rm(d.sandbox.installerPath, { force: true });
        if (!(e instanceof StreamRefusedError)) throw e;
        d.console(`Failure: stopped fetching ${candidate.url} after ${e.received} bytes: ${e.reason}`);
        d.emit('image.stopped', `stopped ${candidate.url} after ${e.received} bytes: ${e.reason}`, { url: candidate.url, reason: e.reason, received: e.received, ...(e.chunk !== undefined ? { chunk: e.chunk } : {}) });
        return { candidate, path: d.sandbox.installerPath, digest: digester.finish(), refused: { reason: e.reason, detail: e.message } };
      }
    },

    async verify(image) {
      if (image.refused) return reject(image.refused.reason, image.refused.detail);
      // The digests are this device's own; only the signature check over them may be shared.
      return d.verdicts ? d.verdicts.verify(image.digest, d.trust) : verifyDigestedImage(image.digest, d.trust);
    },

    async recordRejection(image, verdict) {
      d.console(`Failure: Unable to verify image: ${image.candidate.url}: ${verdict.reason}`);
      measure(rejectionMeasurement({ url: image.candidate.url, reason: verdict.reason, sha256: image.digest.fileSha256 }));
      // A refused image never stays where an installer could be run from.
      await rm(image.path, { force: true });
    },

    async measure(image, verdict) {
      // As UEFI does, each authority once per boot: the db entry, and with dual-signer the operator's.
      const key = `db:${verdict.authority.entry.toString('base64')}`;
      if (!authorities.has(key)) {
        authorities.add(key);
        measure(authorityMeasurement(verdict.authority.entry));
      }
      const operator = verdict.countersigner?.authorityEntry;
      if (operator && !authorities.has(`operator:${operator.toString('base64')}`)) {
        authorities.add(`operator:${operator.toString('base64')}`);
        measure(operatorAuthorityMeasurement(operator));
      }
      const stage = {
        url: image.candidate.url,
        size: image.digest.size,
        sha1: image.digest.fileSha1,
        sha256: image.digest.fileSha256,
        sha384: image.digest.fileSha384,
      };
      measure(installerMeasurement(stage));
      if (d.referenceList) {
        const known = loadedList && listedStage(loadedList, stage.sha256);
        if (known) d.console(`ONIE: ${image.candidate.url} is known stage "${known.name}" (${known.stage}): its PCR 12 is unchanged`);
        else measure(unknownStageMeasurement(stage));
      }
      d.emit('image.measured', `installer measured (sha256 ${stage.sha256.toString('hex').slice(0, 16)}…)`, { url: stage.url });
    },

    async handoff(image, vars, signal) {
      measure(installerConfigMeasurement(onieInstallerVariables(image.candidate.url, vars)));
      d.console(`ONIE: Executing installer: ${image.candidate.url}`);
      d.emit('installer.started', `executing installer ${image.candidate.url}`, { url: image.candidate.url });
      const result = await runInstaller({
        sandbox: d.sandbox,
        execUrl: image.candidate.url,
        discoVars: vars,
        onLine: (line) => {
          d.console(line);
          d.emit('installer.output', line);
        },
        signal,
        timeoutMs: d.installerTimeoutMs,
      });
      if (result.exitCode === 0 && !result.timedOut) {
        d.console(`NOS install successful: ${image.candidate.url}`);
        d.console('Rebooting...');
        if (d.nosBootMs) {
          await sleep(d.clock, d.nosBootMs, signal);
          d.console(`bootlab: NOS up after ${d.nosBootMs} ms`);
        }
      } else {
        // Real ONIE waits for a hung installer forever; the sandbox's limit ends it and says so.
        if (result.timedOut) d.console(`bootlab: installer still running after ${d.installerTimeoutMs} ms (onie.installerTimeout): killed`);
        d.console(`Failure: Unable to install image: ${image.candidate.url}`);
        await rm(image.path, { force: true });
      }
      return { exitCode: result.exitCode, timedOut: result.timedOut };
    },
  };
}

function withRequestList(options: Dhcp4OptionEntry[], codes: number[]): Dhcp4OptionEntry[] {
  return options.map((o) => (o.code === 55 ? { code: 55, data: Uint8Array.from(codes) } : o));
}
