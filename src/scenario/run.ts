import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VerdictMemo } from '../trust/verdict-memo.js';
import { RunClock } from '../run-clock.js';
import { EventBus } from '../event-bus.js';
import { SeededRandom } from '../random.js';
import { sampleDelay } from '../fleet/delay-distribution.js';
import { defaultIdentity } from '../device/identity-defaults.js';
import { Dhcp4Server } from '../net/dhcp4/server.js';
import { HttpImageServer } from '../net/http-image-server.js';
import { bindUdp } from '../net/datagram-port.js';
import { describeFaults, faultyPorts, OutageSwitch } from '../net/faults.js';
import { TftpServer } from '../net/tftp/server.js';
import { toFaultPlan, type FaultsSpec, type OutageWindow } from './faults-schema.js';
import { TrustStore } from '../trust/trust-store.js';
import { certificateTrust, judgedBy, TrustStores, type TrustWhere } from './trust-stores.js';
import { NonceLedger } from '../trust/nonce-ledger.js';
import { attestDevice, goldenPcrValues, sealToGoldenBoot, unsealAfterBoot } from './attest.js';
import { runDevice } from './device-run.js';
import { checkExpectations, type DeviceResult, type ExpectationCheck } from './expectations.js';
import { prepareImage, readPemFile, type PreparedImage } from './images.js';
import { scenarioPath, type LoadedScenario } from './load.js';
import { InputRoots } from './input-roots.js';
import type { ScenarioDevice } from './schema.js';
import { createHttpsPki, createRunPki, type RunPki } from './pki.js';
import { DEFAULT_HTTP_LIMITS } from '../net/http-limits.js';
import { encodeSignedReferenceList, signReferenceList, type SignedReferenceList } from '../trust/reference-list.js';
import { ScenarioError } from '../errors.js';
import { publish } from './server-events.js';
import { MAX_POWER_ON_CONCURRENCY } from './concurrency-limit.js';
import { shardOf, type Shard } from '../fleet/shard.js';
import { toClassRule, toOptionValues, toReservation } from './dhcp-schema.js';
import { resolveRackPlan } from '../rack/plan.js';
import { RackSegments, rackSubnets } from './rack-segments.js';
import { runRollout, type BringUpReport } from './rollout.js';
import { scheduleOutages } from './outage-windows.js';

export interface RunOptions {
  /** Where per-device artifacts go; a temporary directory (removed afterwards) if absent. */
  artifactsDir?: string;
  bus?: EventBus;
  /** Wall-clock limit per device when its expectation sets none. */
  defaultDeadlineMs?: number;
  /** Devices booting at once; overrides the scenario's powerOn.concurrency (`--concurrency`). */
  concurrency?: number;
  /** Run only this slice of the fleet (`--shard i/n`). */
  shard?: Shard;
  /**
   * Directories besides the scenario's own and bootlab's bundled images that the files it
   * names (image source/file, PEM trust entries) may lie in (`--allow-outside`).
   */
  allowOutside?: readonly string[];
}

export interface RunReport {
  scenario: string;
  ok: boolean;
  /** Devices in the whole fleet, of which this run (a shard) booted `devices`. */
  fleetSize: number;
  shard?: Shard;
  devices: Array<DeviceResult & { checks: ExpectationCheck[] }>;
  /** Waves, racks, inventory and cabling, when the scenario has a rack plan or a rollout. */
  bringUp?: BringUpReport;
  artifactsDir?: string;
}

/** Starts the scenario's servers, boots its devices, attests them and checks expectations. */
export async function runScenario(loaded: LoadedScenario, opts: RunOptions = {}): Promise<RunReport> {
  const { scenario: s, file } = loaded;
  const bus = opts.bus ?? new EventBus();
  const keep = opts.artifactsDir !== undefined;
  const root = keep ? resolve(opts.artifactsDir!) : await mkdtemp(join(tmpdir(), 'bootlab-run-'));
  const work = join(root, '.run');
  const www = join(work, 'www');
  const tftpRoot = join(work, 'tftp');
  await mkdir(www, { recursive: true });
  await mkdir(tftpRoot, { recursive: true });
  // Protocol timers (wget's -T, udhcpc's retries, TFTP's) leave a stalled event loop out.
  const clock = new RunClock(s.clockSpeed);
  // One signature check per distinct image and trust store, shared by the fleet.
  const verdicts = new VerdictMemo();
  const random = new SeededRandom(s.seed);
  const servers: Array<{ stop(): Promise<void> }> = [];

  try {
    bus.emit({ type: 'run.start', message: `scenario ${s.name}` });
    const pki = await createRunPki(join(work, 'pki'));
    const fail = loaded.fail ?? ((path, message) => {
      throw new ScenarioError(file, path.join('.'), message);
    });
    // A scenario reads files only from where it is allowed to: a scenario handed to a
    // root-run CI job must not publish /etc/shadow as an "image".
    const inputs = await InputRoots.of(loaded.baseDir, opts.allowOutside);
    const input = async (p: string, path: (string | number)[]): Promise<string> => {
      const r = await inputs.resolve(scenarioPath(loaded, p));
      return r.ok ? r.path : fail(path, r.reason);
    };
    /** A trust entry: a key of the run's test PKI, or a PEM file relative to the scenario. */
    const pemOf = async (entry: string, where: string): Promise<string> => {
      if (entry in pki) return pki[entry as keyof typeof pki].certPem;
      const path = where.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      const pem = await readPemFile(await input(entry, path), (message) => fail(path, message));
      // Parsed here too, so that a file holding no certificate is named at its line.
      try {
        TrustStore.fromPem(pem);
      } catch (e) {
        fail(path, `${entry}: ${(e as Error).message.replace(/^trust store entry \d+: /, '')}`);
      }
      return pem;
    };
    // Images are built and first judged with the scenario's certificates; each trust store
    // (the scenario's, and any a template changes) is made once those images exist.
    const topWhere: TrustWhere = (field) => `trust.${field}`;
    const certTrust = await certificateTrust(s.trust, pemOf, topWhere);

    const images = new Map<string, PreparedImage>();
    for (const [index, spec] of s.images.entries()) {
      const from = await input((spec.source ?? spec.file)!, ['images', index, spec.source !== undefined ? 'source' : 'file']);
      const img = await prepareImage(spec, from, pki, certTrust, { work, www, tftp: tftpRoot }, { index, fail }, new SeededRandom(`${s.seed}:image:${spec.name}`));
      images.set(img.name, img);
      bus.emit({
        type: 'image.prepared',
        message: `image ${img.name}: ${img.size} bytes, ${signedWhat(spec, img)}${spec.countersignedBy ? `, countersigned by ${spec.countersignedBy}` : ''}${
          spec.manifest ? `, Merkle manifest (${spec.manifest.chunkSize}-byte chunks)` : ''
        }${spec.tamper ? `, ${spec.tamper.region} tampered` : ''}${
          img.published.length ? `, published as ${img.published.join(', ')}` : ''
        }`,
        data: { name: img.name, sha256: img.sha256.toString('hex'), published: img.published },
      });
    }

    const trustStores = new TrustStores(images, pemOf, file);
    // Every distinct store is built before any server starts, so a bad entry fails the run
    // up front rather than when the first device of its template powers on.
    const firstOfEntry = new Map(s.devices.map((d) => [d.entry, d] as const));
    for (const d of firstOfEntry.values()) await trustStores.get(d.trust, trustWhere(d));

    const https = s.servers.http.tls ? await createHttpsPki(join(work, 'pki'), s.bind) : undefined;
    // Every device of a run connects from the run's one address, two connections each at most:
    // the per-address cap that guards `bootlab serve` would turn a paced fleet away here.
    const fleetConnections = Math.max(DEFAULT_HTTP_LIMITS.maxConnections, 2 * (opts.concurrency ?? s.powerOn.concurrency) + 16);
    const http = new HttpImageServer(
      {
        root: www,
        bind: { address: s.bind, port: 0 },
        limits: { maxConnections: fleetConnections, maxPerClient: fleetConnections },
        ...(https ? { tls: { cert: https.server.certPem, key: https.server.keyPem } } : {}),
      },
      { onEvent: publish.http(bus), onConnectionEvent: publish.httpConnection(bus) },
    );
    const httpAddr = await http.start();
    servers.push(http);
    if (s.servers.http.down.length) {
      const cancel = scheduleOutages(s.servers.http.down, clock, {
        down: (w) => {
          bus.emit({ type: 'fault.http-down', message: `HTTP server down (fault) for ${w.for} ms: connections refused`, data: { service: 'http' } });
          void http.suspend();
        },
        up: () => {
          http.resume().then(
            () => bus.emit({ type: 'fault.http-up', message: 'HTTP server back up', data: { service: 'http' } }),
            (e: NodeJS.ErrnoException) => bus.emit({ type: 'fault.http-up', message: `HTTP server could not listen again: ${e.code ?? e.message}`, data: { service: 'http', error: e.code ?? e.message } }),
          );
        },
      });
      servers.push({ stop: async () => cancel() });
    }
    const hostPort = `${httpAddr.address}:${httpAddr.port}`;
    const fill = (text: string): string => text.replaceAll('{http}', hostPort);
    /**
     * A server's sockets with the scenario's faults for it, drawn from the run's seed, and
     * silent in its outage windows.
     */
    const ports = (service: string, faults: FaultsSpec | undefined, down: readonly OutageWindow[] = []) => {
      if (!faults && !down.length) return {};
      let open = bindUdp;
      if (faults) {
        const plan = toFaultPlan(faults);
        bus.emit({ type: 'run.faults', message: `${service}: injecting faults: ${describeFaults(plan)}` });
        open = faultyPorts(bindUdp, plan, random.fork(`faults-${service}`), clock);
      }
      if (down.length) {
        const outage = new OutageSwitch();
        open = outage.ports(open);
        const kind = service.toLowerCase();
        const cancel = scheduleOutages(down, clock, {
          down: (w) => {
            outage.down = true;
            bus.emit({ type: `fault.${kind}-down`, message: `${service} server down (fault) for ${w.for} ms`, data: { service: kind } });
          },
          up: () => {
            outage.down = false;
            bus.emit({ type: `fault.${kind}-up`, message: `${service} server back up (${outage.dropped} datagrams lost while down so far)`, data: { service: kind, dropped: outage.dropped } });
          },
        });
        servers.push({ stop: async () => cancel() });
      }
      return { openPort: open };
    };

    const t = s.servers.tftp;
    const tftp = new TftpServer(
      {
        root: tftpRoot,
        bind: { address: s.bind, port: 0 },
        // Server timers follow the run clock like every device timer (1 s default).
        retransmitMs: (t.retransmit ?? 1000) / s.clockSpeed,
        ...(t.maxBlksize !== undefined ? { maxBlksize: t.maxBlksize } : {}),
        // Every simulated device fetches from the run's one address and the runner already
        // paces them: the per-client budget that guards `bootlab serve` would refuse the fleet.
        maxTransfers: MAX_POWER_ON_CONCURRENCY,
        maxTransfersPerClient: MAX_POWER_ON_CONCURRENCY,
      },
      { onEvent: publish.tftp(bus), ...ports('TFTP', t.faults) },
    );
    const tftpAddr = await tftp.start();
    servers.push(tftp);

    // A device's identity hangs on the seed and its id alone (see the boot below), so the
    // rack plan can default each position's inventory record to its device's own.
    const identityOf = (d: { id: string; identity: ScenarioDevice['identity'] }) => defaultIdentity(new SeededRandom(`${s.seed}:device:${d.id}`), stripUndefined(d.identity));
    const byId = new Map(s.devices.map((d) => [d.id, d] as const));
    const identities = new Map<string, ReturnType<typeof identityOf>>();
    const placedIdentity = (id: string) => {
      let v = identities.get(id);
      if (!v) identities.set(id, (v = identityOf(byId.get(id)!)));
      return v;
    };
    const plan = s.racks.length ? resolveRackPlan(s.racks, new Set(byId.keys()), placedIdentity, fail) : undefined;
    if (s.rollout && opts.shard) fail(['rollout'], "a rollout's gates count whole waves: run it in one process, without --shard");
    let segments: RackSegments | undefined;
    const dhcp = new Dhcp4Server(
      {
        bind: { address: s.bind, port: 0 },
        serverId: s.bind,
        replyTo: 'source',
        pool: {
          start: s.servers.dhcp.pool.start,
          end: s.servers.dhcp.pool.end,
          subnetMask: s.servers.dhcp.pool.subnetMask,
          leaseSeconds: Math.round(s.servers.dhcp.pool.leaseTime / 1000),
          reservations: s.servers.dhcp.reservations.map(toReservation),
        },
        options: toOptionValues(s.servers.dhcp.options, fill),
        classes: s.servers.dhcp.classes.map((c) => toClassRule(c, fill)),
        ...(plan ? { subnets: rackSubnets(plan) } : {}),
      },
      { onEvent: publish.dhcp(bus, 'DHCP'), ...ports('DHCP', s.servers.dhcp.faults, s.servers.dhcp.down), ...(plan ? { admit: (req) => segments?.admit(req) } : {}) },
    );
    const dhcpAddr = await dhcp.start();
    servers.push(dhcp);
    if (plan) {
      segments = await RackSegments.start(plan, dhcpAddr, s.bind, (id) => placedIdentity(id).mac, fill, clock, bus);
      servers.push(segments);
      bus.emit({ type: 'run.racks', message: `racks: ${plan.racks.map((r) => `${r.spec.name} (${r.subnet}, ${r.spec.positions.length} positions, relay giaddr ${r.gateway})`).join(', ')}` });
    }
    bus.emit({ type: 'run.servers', message: `DHCP on ${dhcpAddr.address}:${dhcpAddr.port}, ${https ? 'HTTPS' : 'HTTP'} on ${hostPort}, TFTP on ${tftpAddr.address}:${tftpAddr.port}` });

    const golden = s.attestation ? images.get(s.attestation.goldenImage) : undefined;
    const referenceList = s.attestation?.referenceList ? buildReferenceList(s.name, s.attestation.referenceList, images, pki, file) : undefined;
    if (referenceList && golden && !referenceList.list.entries.some((e) => e.name === golden.name)) {
      fail(['attestation', 'referenceList', 'images'], `the golden image ${golden.name} must be in the reference list`);
    }
    if (referenceList) {
      // Published with the run's other inputs, for `bootlab attest policy --reference-list`.
      await writeFile(join(work, 'reference-list.json'), encodeSignedReferenceList(referenceList));
      bus.emit({
        type: 'reference-list.signed',
        message: `reference list ${referenceList.list.id} v${referenceList.list.version}: ${referenceList.list.entries.map((e) => e.name).join(', ')}, signed by ${s.attestation!.referenceList!.signedBy}`,
      });
    }
    const nonces = new NonceLedger();
    const bySha = new Map([...images.values()].map((img) => [img.sha256.toString('hex'), img.name]));
    if (golden) {
      // The scenario's own trust store must let its golden image in, or nothing can attest.
      const { trust } = await trustStores.get(s.trust, topWhere);
      const g = judgedBy(golden, trust);
      if (!g.authorityDer) fail(['attestation', 'goldenImage'], `the golden image ${golden.name} is not trusted by the scenario's trust store (${g.refusal ?? 'no authority'}): sign it with a key that chains to trust.db`);
    }
    const judged = new Map<TrustStore, PreparedImage>();
    /** The golden image as judged by one trust store: once per store, not per device. */
    const goldenUnder = (trust: TrustStore): PreparedImage => {
      let img = judged.get(trust);
      if (!img) judged.set(trust, (img = judgedBy(golden!, trust)));
      return img;
    };
    const fleet = opts.shard ? shardOf(s.devices, opts.shard) : s.devices;
    /** Where the plan puts a device, its wave, and what the inventory said when it asked. */
    const placementFields = (id: string, wave: string | undefined, mac: string): Partial<DeviceResult> => {
      const where = plan?.placement.get(id);
      const verdict = where ? segments?.verdictFor(mac) : undefined;
      return {
        ...(where ? { rack: where.rack, ...(where.position !== undefined ? { position: where.position } : {}) } : {}),
        ...(wave !== undefined ? { wave } : {}),
        ...(verdict ? { inventory: verdict } : {}),
      };
    };
    // Paced power-on (runRollout): a device waits powered off until a slot of its wave is
    // free, so the fleet loads the host no more than the limit allows.
    const boot = async (d: ScenarioDevice, wave: string | undefined) => {
        // A device's random stream hangs on the seed and its id alone, so it is the same
        // whichever devices run beside it (a shard, a template added before it).
        const deviceRandom = new SeededRandom(`${s.seed}:device:${d.id}`);
        const identity = defaultIdentity(deviceRandom, stripUndefined(d.identity));
        const { trust, secureBoot } = await trustStores.get(d.trust, trustWhere(d));
        // The verifier's reference, from what it knows without the device, fixed before the
        // device powers on; the secret is sealed to it at provisioning.
        // A template whose own trust store refuses the golden image has no golden boot: the
        // verifier knows that before power-on, so its devices cannot attest.
        const goldenImage = golden ? goldenUnder(trust) : undefined;
        const goldenValues = goldenImage?.authorityDer ? goldenPcrValues({ identity, secureBoot, image: goldenImage, referenceList }) : undefined;
        const dir = join(root, d.id);
        const secret = s.attestation?.secret;
        let sealed: Buffer | undefined;
        const run = await runDevice({
          provision: (tpm) => {
            if (goldenValues && secret !== undefined) sealed = sealToGoldenBoot(tpm, goldenValues, secret);
          },
          id: d.id,
          identity,
          trust,
          verdicts,
          akType: d.tpm.ak,
          ekType: d.tpm.ek,
          banks: d.tpm.banks,
          dir,
          dhcpServer: segments?.relayFor(d.id) ?? dhcpAddr,
          dhcpAlsoHeardBy: segments?.segmentPeersFor(d.id),
          bindAddress: s.bind,
          httpPort: httpAddr.port,
          httpsCa: https ? [https.ca.certPem] : undefined,
          tftpPort: tftpAddr.port,
          clock,
          random: deviceRandom,
          maxPasses: s.onie.maxPasses,
          passDelayMs: s.onie.passDelay,
          installerTimeoutMs: s.onie.installerTimeout,
          ...drawTiming(d, `${s.seed}:device:${d.id}:timing`),
          powerLoss: d.faults?.powerLoss && { atLine: d.faults.powerLoss.atLine, afterMs: d.faults.powerLoss.after, off: d.faults.powerLoss.off },
          referenceList,
          deadlineMs: d.expect.within ?? opts.defaultDeadlineMs ?? 600_000,
          keepFiles: keep,
          bus,
        });
        const out = run.output;
        const result: DeviceResult = {
          id: d.id,
          suite: d.suite,
          index: d.index,
          outcome: out.outcome,
          rejections: run.rejections,
          ...(run.installerRuns.length ? { installerRuns: run.installerRuns } : {}),
          passes: out.passes,
          durationMs: run.durationMs,
          ...(run.powerLosses ? { powerLosses: run.powerLosses } : {}),
          ...('installed' in out && out.installed
            ? { installedUrl: out.installed.url, installedImage: bySha.get(out.installed.sha256) ?? 'unknown' }
            : {}),
          ...('haltReason' in out && out.haltReason !== undefined ? { haltReason: out.haltReason } : {}),
          // The run's own server identifies as s.bind; any other lease came from a stranger.
          ...(run.leasedFrom.some((id) => id !== s.bind) ? { rogueDhcp: run.leasedFrom.filter((id) => id !== s.bind) } : {}),
          ...placementFields(d.id, wave, identity.mac),
        };
        if (goldenValues) {
          if (sealed && secret !== undefined) {
            result.secret = unsealAfterBoot(run.tpm, sealed, goldenValues, secret);
            bus.emit({
              type: result.secret.released ? 'secret.released' : 'secret.withheld',
              device: d.id,
              message: result.secret.released ? 'TPM released the sealed NOS secret (golden boot)' : `TPM withheld the sealed NOS secret: ${result.secret.detail}`,
            });
          }
          const a = await attestDevice(run.tpm, goldenValues, keep ? dir : undefined, nonces, referenceList !== undefined);
          const failed = a.checks.filter((c) => !c.ok);
          result.attestation = { ok: a.ok, failed: failed.map((c) => c.name) };
          bus.emit({
            type: 'attestation.verdict',
            device: d.id,
            message: a.ok ? 'attestation PASS' : `attestation FAIL: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
            data: { ok: a.ok, checks: a.checks },
          });
        } else if (goldenImage) {
          const detail = `this device's trust store refuses the golden image ${goldenImage.name} (${goldenImage.refusal ?? 'no authority'})`;
          result.attestation = { ok: false, failed: ['golden-boot'] };
          if (s.attestation?.secret !== undefined) result.secret = { released: false, detail: 'nothing sealed: no golden boot' };
          bus.emit({ type: 'attestation.verdict', device: d.id, message: `attestation FAIL: golden-boot: ${detail}`, data: { ok: false, checks: [{ name: 'golden-boot', ok: false, detail }] } });
        }
        const checks = checkExpectations(d.expect, result);
        const ok = checks.every((c) => c.ok);
        bus.emit({
          type: 'device.verdict',
          device: d.id,
          message: `${ok ? 'PASS' : 'FAIL'}: ${checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.what} (${c.detail})`).join('; ')}`,
          data: { ok, checks },
        });
        // A failed device's console tail travels with its result (the report, JUnit's system-out).
        return { ...result, checks, ...(ok ? {} : { consoleTail: run.consoleTail }) };
    };
    const { results, bringUp } = await runRollout({
      devices: fleet,
      rollout: s.rollout,
      racks: s.racks,
      plan,
      concurrency: opts.concurrency ?? s.powerOn.concurrency,
      boot,
      announcerOf: (id) => ({ id, mac: placedIdentity(id).mac }),
      relayStats: () => segments?.relayStats() ?? [],
      bus,
    });
    const report: RunReport = {
      scenario: s.name,
      ok: results.every((r) => r.checks.every((c) => c.ok)) && (bringUp ? [...bringUp.checks, ...bringUp.racks.flatMap((r) => r.checks)].every((c) => c.ok) : true),
      fleetSize: s.devices.length,
      ...(opts.shard ? { shard: opts.shard } : {}),
      devices: results,
      ...(bringUp ? { bringUp } : {}),
      ...(keep ? { artifactsDir: root } : {}),
    };
    bus.emit({ type: 'run.end', message: `scenario ${s.name}: ${report.ok ? 'PASS' : 'FAIL'}` });
    return report;
  } finally {
    for (const server of servers.reverse()) await server.stop().catch(() => undefined);
    clock.stop();
    // Artifacts keep .run/ (test PKI, built images) so a user can re-check them with openssl.
    if (!keep) await rm(root, { recursive: true, force: true });
  }
}

/**
 * A device's stage delays, drawn from its own stream: the same seed and id give the same
 * delays whatever else the fleet holds.
 */
function drawTiming(d: ScenarioDevice, seed: string): { postMs?: number; nosBootMs?: number } {
  const t = d.timing;
  if (!t) return {};
  const random = new SeededRandom(seed);
  return {
    ...(t.post ? { postMs: sampleDelay(t.post, random.fork('post')) } : {}),
    ...(t.nosBoot ? { nosBootMs: sampleDelay(t.nosBoot, random.fork('nos-boot')) } : {}),
  };
}

/**
 * How an image came to be signed, as far as the run knows: a built image is signed by the
 * key its `signedBy` names; a `file:` image is whatever its file holds, so the log says
 * what the scenario's certificates found in it and never a key the run did not use.
 */
function signedWhat(spec: { file?: string | undefined; signedBy: string }, img: PreparedImage): string {
  if (spec.file === undefined) return `signed by ${spec.signedBy}`;
  if (img.signer) return `file ${spec.file} as given, signed by "${img.signer}"`;
  return `file ${spec.file} as given, not accepted by the scenario's certificates (${img.refusal ?? 'no authority'})`;
}

function trustWhere(d: ScenarioDevice): TrustWhere {
  return (field) => (d.trustOverrides.includes(field) ? `devices.${d.entry}.trust.${field}` : `trust.${field}`);
}

/** The scenario's reference list: one entry per named image, signed with a key of the run's PKI. */
function buildReferenceList(
  name: string,
  spec: { images: string[]; signedBy: 'vendor' | 'rogue' | 'db-ca'; version: number },
  images: Map<string, PreparedImage>,
  pki: RunPki,
  file: string,
): SignedReferenceList {
  const entries = spec.images.map((imageName, i) => {
    const img = images.get(imageName);
    if (!img) throw new ScenarioError(file, `attestation.referenceList.images.${i}`, `no image named "${imageName}" (have: ${[...images.keys()].join(', ')})`);
    return { stage: 'nos-installer', name: img.name, sha256: img.sha256.toString('hex') };
  });
  return signReferenceList({ id: name, version: spec.version, entries }, pki[spec.signedBy]);
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
