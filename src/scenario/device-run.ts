import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createActor, toPromise } from 'xstate';
import type { Clock } from '../clock.js';
import type { EventBus } from '../event-bus.js';
import type { Random } from '../random.js';
import type { DeviceIdentity } from '../device/identity.js';
import { prepareSandbox, readNosMode } from '../device/installer-sandbox.js';
import { onieBootMachine, type OnieBootEmitted, type OnieBootOutput } from '../device/onie/boot-machine.js';
import type { HashAlg } from '../protocol/tcg/hash-alg.js';
import type { SignedReferenceList } from '../trust/reference-list.js';
import { onieEffects } from '../device/onie/onie-effects.js';
import { deviceHttpAgent } from '../net/http-image-client.js';
import type { TrustStore } from '../trust/trust-store.js';
import type { VerdictMemo } from '../trust/verdict-memo.js';
import { VirtualTpm } from '../trust/vtpm.js';

export interface DeviceRunInput {
  id: string;
  identity: DeviceIdentity;
  trust: TrustStore;
  /** The run's shared signature checks (see VerdictMemo). */
  verdicts?: VerdictMemo;
  akType: 'ecc' | 'rsa' | 'rsa-pss';
  ekType: 'ecc' | 'rsa';
  banks: HashAlg[];
  dir: string;
  dhcpServer: { address: string; port: number };
  /** Other DHCP servers on its segment that hear its broadcasts (a rack's rogue server). */
  dhcpAlsoHeardBy?: readonly { address: string; port: number }[] | undefined;
  bindAddress: string;
  httpPort: number;
  /** Trust anchors for https:// URLs (the run's HTTPS CA); none: https:// is refused. */
  httpsCa?: readonly string[] | undefined;
  /** The run's TFTP port, which ONIE's TFTP methods use instead of 69. */
  tftpPort: number;
  clock: Clock;
  random: Random;
  maxPasses: number;
  passDelayMs: number;
  installerTimeoutMs: number;
  referenceList?: SignedReferenceList | undefined;
  /** Drawn stage delays (the device's timing). */
  postMs?: number | undefined;
  nosBootMs?: number | undefined;
  /** Fault: the power is cut once during the install, and restored `off` ms later. */
  powerLoss?: PowerLoss | undefined;
  /** Called with the device's TPM before power-on: provisioning (e.g. sealing a secret to it). */
  provision?: ((tpm: VirtualTpm) => void) | undefined;
  /** Wall-clock limit for the whole boot. */
  deadlineMs: number;
  /** Keep the device's files (console.log, eventlog.bin, its sandbox) in `dir`; else `dir` is removed when it is done. */
  keepFiles: boolean;
  bus: EventBus;
}

export interface DeviceRun {
  tpm: VirtualTpm;
  output: OnieBootOutput | { outcome: 'timed-out'; passes: number };
  rejections: Array<{ url: string; reason: string; detail: string }>;
  /** Times the power was cut and came back (faults.powerLoss). */
  powerLosses: number;
  /** Each installer it ran, in order, and how that ended: `exit N`, or `timed-out` (onie.installerTimeout killed it). */
  installerRuns: Array<{ url: string; verdict: string }>;
  /** The server identifier of each DHCP server it took a lease from, in order, once each. */
  leasedFrom: string[];
  durationMs: number;
  /** The console's last lines (at most CONSOLE_TAIL_LINES), for a report of a failed device. */
  consoleTail: string[];
}

/** Console lines a run keeps in memory per device: what a failed device's report shows. */
export const CONSOLE_TAIL_LINES = 40;

/** Powers on one ONIE switch and runs its statechart to a final state (or the deadline). */
export async function runDevice(input: DeviceRunInput): Promise<DeviceRun> {
  const { id, bus } = input;
  await mkdir(input.dir, { recursive: true });
  // The console goes to a file only when asked (--artifacts); its tail is always kept.
  const consoleLog = input.keepFiles ? createWriteStream(join(input.dir, 'console.log')) : undefined;
  const consoleTail: string[] = [];
  const sandbox = await prepareSandbox(join(input.dir, 'sandbox'), input.identity);
  const tpm = new VirtualTpm({
    banks: input.banks,
    akType: input.akType === 'ecc' ? 'ecc' : 'rsa',
    akScheme: input.akType === 'rsa-pss' ? 'rsapss' : 'rsassa',
    ekType: input.ekType,
  });
  input.provision?.(tpm);
  const rejections: DeviceRun['rejections'] = [];
  const installerRuns: DeviceRun['installerRuns'] = [];
  const leasedFrom = new Set<string>();
  /** What a pending power cut watches the device's events for. */
  let onDeviceEvent: ((type: string, message: string) => void) | undefined;
  const emit = (type: string, message: string, data?: Record<string, unknown>): void => {
    if (type === 'dhcp.leased' && typeof data?.serverId === 'string') leasedFrom.add(data.serverId);
    onDeviceEvent?.(type, message);
    bus.emit({ type, device: id, message, ...(data ? { data } : {}) });
  };

  const http = deviceHttpAgent(input.httpsCa ? { ca: input.httpsCa } : {});
  const deviceConsole = (line: string): void => {
    consoleLog?.write(`${line}\n`);
    if (consoleTail.push(line) > CONSOLE_TAIL_LINES) consoleTail.shift();
  };
  /** One power-on: a fresh ONIE (its state lives in RAM) over the same disk, grubenv and TPM. */
  const boot = () => {
    const effects = onieEffects({
      identity: input.identity,
      tpm,
      trust: input.trust,
      verdicts: input.verdicts,
      sandbox,
      dhcpServer: input.dhcpServer,
      dhcpAlsoHeardBy: input.dhcpAlsoHeardBy,
      bindAddress: input.bindAddress,
      httpPort: input.httpPort,
      httpsCa: input.httpsCa,
      tftpPort: input.tftpPort,
      clock: input.clock,
      http,
      random: input.random,
      installerTimeoutMs: input.installerTimeoutMs,
      postMs: input.postMs,
      nosBootMs: input.nosBootMs,
      referenceList: input.referenceList,
      emit,
      console: deviceConsole,
    });
    const actor = createActor(onieBootMachine, {
      input: { effects, maxPasses: input.maxPasses, passDelayMs: input.passDelayMs },
      clock: input.clock,
    });
    actor.on('*', (e: OnieBootEmitted) => {
      if (e.type === 'image.rejected') rejections.push({ url: e.candidate.url, reason: e.reason, detail: e.detail });
      if (e.type === 'installer.exited') installerRuns.push({ url: e.candidate.url, verdict: e.timedOut ? 'timed-out' : `exit ${e.exitCode}` });
      const [message, data] = describeEmitted(e);
      emit(e.type, message, data);
    });
    return actor;
  };

  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), input.deadlineMs);
  });
  const loss = input.powerLoss;
  let powerLosses = 0;
  let output: DeviceRun['output'] | undefined;
  try {
    while (output === undefined) {
      const actor = boot();
      // The power cut (faults.powerLoss) comes once, during the first install it meets.
      const cut = loss && powerLosses === 0 ? powerCut(loss, input.clock, (watch) => (onDeviceEvent = watch)) : undefined;
      actor.start();
      emit('device.power-on', `power on (${input.identity.serial}, ${input.identity.mac})${input.postMs ? `, POST ${input.postMs} ms` : ''}`, input.postMs ? { postMs: input.postMs } : undefined);
      actor.send({ type: 'power.on' });
      try {
        const done = await Promise.race([toPromise(actor), deadline, ...(cut ? [cut.promise] : [])]);
        if (done === 'power-cut') {
          powerLosses += 1;
          // Cutting the power stops ONIE where it is: the installer dies mid-write.
          actor.stop();
          emit('fault.power-loss', `power lost during the install (${cut!.why}); back in ${loss!.off} ms`, { why: cut!.why });
          deviceConsole(`bootlab: power lost (${cut!.why})`);
          if ((await Promise.race([sleep(input.clock, loss!.off), deadline])) === 'timed-out') {
            output = { outcome: 'timed-out', passes: actor.getSnapshot().context.pass };
          }
          // A power cycle: PCRs and the event log start over; disk and grubenv keep what was written.
          tpm.reset();
          if (output === undefined && (await readNosMode(sandbox))) {
            // The installer had set onie-nos-mode before the cut: the boot loader now starts the NOS.
            const { image, verdict, pass } = actor.getSnapshot().context;
            emit('device.power-on', `power on (${input.identity.serial}, ${input.identity.mac}): NOS mode set before the power loss, booting the NOS`);
            output = {
              outcome: 'installed',
              passes: pass,
              ...(image ? { installed: { url: image.candidate.url, method: image.candidate.method, signer: verdict?.ok ? verdict.signer.subject : '', sha256: image.digest.fileSha256.toString('hex') } } : {}),
            };
          }
          continue;
        }
        output = done === 'timed-out' ? { outcome: 'timed-out', passes: actor.getSnapshot().context.pass } : done;
      } finally {
        cut?.cancel();
        onDeviceEvent = undefined;
        // Stopping the actor aborts whatever effect is still running (download, installer).
        actor.stop();
      }
    }
  } finally {
    clearTimeout(timer);
    await http.destroy().catch(() => undefined);
    if (consoleLog) await new Promise<void>((resolve) => consoleLog.end(resolve));
  }
  if (output.outcome === 'timed-out') emit('device.timed-out', `no final state within ${input.deadlineMs} ms`);
  const durationMs = Math.round(performance.now() - started);
  if (input.keepFiles) await writeFile(join(input.dir, 'eventlog.bin'), tpm.eventLog());
  // A fleet's downloads and sandboxes would otherwise pile up until the run ends.
  else await rm(input.dir, { recursive: true, force: true });
  return { tpm, output, rejections, installerRuns, leasedFrom: [...leasedFrom], powerLosses, durationMs, consoleTail };
}

export interface PowerLoss {
  /** Cut when the installer prints a line holding this. */
  atLine?: string | undefined;
  /** Cut this long (run clock) after the installer starts. */
  afterMs?: number | undefined;
  off: number;
}

/**
 * A pending power cut: resolves 'power-cut' when the installer prints `atLine` or `afterMs`
 * after it starts. `watch` installs the device-event listener it needs.
 */
function powerCut(loss: PowerLoss, clock: Clock, watch: (listener: (type: string, message: string) => void) => void) {
  let fire: (() => void) | undefined;
  let why = '';
  let armed: unknown;
  const promise = new Promise<'power-cut'>((resolve) => {
    fire = () => resolve('power-cut');
  });
  const cut = (reason: string): void => {
    if (why) return;
    why = reason;
    fire!();
  };
  watch((type, message) => {
    if (type === 'installer.started' && loss.afterMs !== undefined && armed === undefined) armed = clock.setTimeout(() => cut(`${loss.afterMs} ms into the install`), loss.afterMs);
    if (type === 'installer.output' && loss.atLine !== undefined && message.includes(loss.atLine)) cut(`the installer printed "${loss.atLine}"`);
  });
  return {
    promise,
    get why() {
      return why;
    },
    cancel: () => {
      if (armed !== undefined) clock.clearTimeout(armed);
    },
  };
}

function sleep(clock: Clock, ms: number): Promise<'slept'> {
  return new Promise((resolve) => clock.setTimeout(() => resolve('slept'), ms));
}

function describeEmitted(e: OnieBootEmitted): [string, Record<string, unknown>] {
  switch (e.type) {
    case 'boot.pass':
      return [`discovery pass ${e.pass}`, { pass: e.pass }];
    case 'discovery.candidates':
      return [`${e.candidates.length} installer candidates`, { candidates: e.candidates.map((c) => `${c.method} ${c.url}`) }];
    case 'candidate.trying':
      return [`trying ${e.candidate.method} ${e.candidate.url}`, { url: e.candidate.url, method: e.candidate.method }];
    case 'candidate.failed':
      return [`${e.stage} failed: ${e.error}`, { url: e.candidate.url, stage: e.stage, error: e.error }];
    case 'image.rejected':
      return [`REJECTED ${e.candidate.url}: ${e.reason} (${e.detail})`, { url: e.candidate.url, reason: e.reason, detail: e.detail }];
    case 'image.accepted':
      return [
        `image trusted (${e.rule}), signer "${e.signer}"${e.countersigner ? `, countersigner "${e.countersigner}"` : ''}`,
        { url: e.candidate.url, signer: e.signer, rule: e.rule, ...(e.countersigner ? { countersigner: e.countersigner } : {}) },
      ];
    case 'installer.exited':
      return [
        e.timedOut ? `installer hung: killed by onie.installerTimeout (exit ${e.exitCode})` : `installer exited ${e.exitCode}`,
        { url: e.candidate.url, exitCode: e.exitCode, timedOut: e.timedOut },
      ];
    case 'nos.installed':
      return [`NOS installed from ${e.installed.url}; rebooting into NOS`, { ...e.installed }];
    case 'network.failed':
      return [`${e.stage} DHCP failed: ${e.error}`, { stage: e.stage, error: e.error }];
    case 'discovery.pause':
      // Names the setting: a failing scenario otherwise seems to hang for the whole delay.
      return [`no installer this pass; waiting ${e.ms / 1000} s (onie.passDelay) before pass ${e.pass + 1}`, { pass: e.pass, ms: e.ms }];
    case 'discovery.gave-up':
      return [`gave up after ${e.passes} discovery passes`, { passes: e.passes }];
    case 'device.halted':
      return [`halted: ${e.reason}`, { reason: e.reason }];
  }
}
