import { assign, emit, fromPromise, setup } from 'xstate';
import type { Candidate } from './discovery.js';
import type { DigestedImage } from '../../trust/image-digester.js';
import type { ImageRejection, ImageVerdict } from '../../trust/image-verifier.js';

/**
 * One ONIE switch, power-on to NOS handoff, as one statechart.
 *
 * The chart decides what happens after every failure; the effects (DHCP, download,
 * verification, TPM, installer) are invoked promise actors whose implementations come
 * in through the machine input, so a scenario runs real sockets and a unit test runs
 * fakes through the same chart. ONIE's pause between discovery passes is a named delay
 * taken from the actor system's clock.
 */

// ---- types -------------------------------------------------------------------------

export interface Discovery {
  /** udhcpc's variables from the discovery lease (ONIE exports them as onie_disco_*). */
  vars: Record<string, string>;
  candidates: Candidate[];
}

export interface FetchedImage {
  candidate: Candidate;
  /** Where the download was written (ONIE's /var/tmp/installer). */
  path: string;
  /** Of what arrived: the whole image, or the part before the download was stopped. */
  digest: DigestedImage;
  /** The download was stopped early (a chunk failed its signed manifest, or none was trusted). */
  refused?: { reason: ImageRejection; detail: string };
}

export interface InstallerResult {
  exitCode: number;
  timedOut: boolean;
}

/** The device's side effects. Each takes an abort signal: leaving a state cancels its work. */
export interface OnieBootEffects {
  /** Firmware and ONIE stages up to discovery: measures them into the TPM. */
  powerOn(signal: AbortSignal): Promise<void>;
  /** networking.sh: the DHCP exchange that configures the management interface. */
  configureNetwork(signal: AbortSignal): Promise<void>;
  /** sd_dhcp4 + exec_installer's URL order: the candidate list for this pass. */
  discover(signal: AbortSignal): Promise<Discovery>;
  /** ONIE's port probe before the inexact HTTP names of one server. */
  probe(target: { host: string; port: number }, signal: AbortSignal): Promise<boolean>;
  fetch(candidate: Candidate, signal: AbortSignal): Promise<FetchedImage>;
  verify(image: FetchedImage, signal: AbortSignal): Promise<ImageVerdict>;
  /** A rejected image is an event in the log too, so attestation sees the attempt. */
  recordRejection(image: FetchedImage, verdict: Extract<ImageVerdict, { ok: false }>, signal: AbortSignal): Promise<void>;
  /** Measure before execute: authority and image go into the TPM before handoff. */
  measure(image: FetchedImage, verdict: Extract<ImageVerdict, { ok: true }>, signal: AbortSignal): Promise<void>;
  handoff(image: FetchedImage, vars: Record<string, string>, signal: AbortSignal): Promise<InstallerResult>;
}

export interface OnieBootInput {
  effects: OnieBootEffects;
  /** Discovery passes before the device gives up; ONIE itself loops forever (Infinity). */
  maxPasses: number;
  /** Pause between passes; ONIE sleeps 20 s. */
  passDelayMs: number;
}

export interface Installed {
  url: string;
  method: Candidate['method'];
  signer: string;
  sha256: string;
}

export interface OnieBootOutput {
  /** installed: an installer exited 0; gave-up: maxPasses ran out; halted: a step that must not fail did. */
  outcome: 'installed' | 'gave-up' | 'halted';
  installed?: Installed;
  haltReason?: string;
  passes: number;
}

interface Context {
  effects: OnieBootEffects;
  maxPasses: number;
  passDelayMs: number;
  pass: number;
  vars: Record<string, string>;
  candidates: Candidate[];
  index: number;
  /** host:port → did the probe answer; ONIE probes each server once per pass. */
  probed: Record<string, boolean>;
  image: FetchedImage | undefined;
  verdict: ImageVerdict | undefined;
  installed: Installed | undefined;
  haltReason: string | undefined;
}

export type OnieBootEvent = { type: 'power.on' };

export type OnieBootEmitted =
  | { type: 'boot.pass'; pass: number }
  | { type: 'discovery.candidates'; pass: number; candidates: Candidate[] }
  | { type: 'candidate.trying'; candidate: Candidate; index: number; total: number }
  | { type: 'candidate.failed'; candidate: Candidate; stage: 'probe' | 'fetch' | 'verify' | 'handoff'; error: string }
  | { type: 'image.rejected'; candidate: Candidate; reason: string; detail: string }
  | { type: 'image.accepted'; candidate: Candidate; signer: string; rule: string; countersigner?: string }
  | { type: 'installer.exited'; candidate: Candidate; exitCode: number; timedOut: boolean }
  | { type: 'nos.installed'; installed: Installed }
  | { type: 'network.failed'; stage: 'configure' | 'discover'; error: string }
  | { type: 'discovery.pause'; pass: number; ms: number }
  | { type: 'discovery.gave-up'; passes: number }
  | { type: 'device.halted'; reason: string };

const probeKey = (p: { host: string; port: number }): string => `${p.host}:${p.port}`;
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---- machine -----------------------------------------------------------------------

export const onieBootMachine = setup({
  types: {
    context: {} as Context,
    input: {} as OnieBootInput,
    events: {} as OnieBootEvent,
    emitted: {} as OnieBootEmitted,
    output: {} as OnieBootOutput,
  },
  actors: {
    powerOn: fromPromise<void, { effects: OnieBootEffects }>(({ input, signal }) => input.effects.powerOn(signal)),
    configureNetwork: fromPromise<void, { effects: OnieBootEffects }>(({ input, signal }) =>
      input.effects.configureNetwork(signal),
    ),
    discover: fromPromise<Discovery, { effects: OnieBootEffects }>(({ input, signal }) => input.effects.discover(signal)),
    probe: fromPromise<boolean, { effects: OnieBootEffects; target: { host: string; port: number } }>(
      ({ input, signal }) => input.effects.probe(input.target, signal),
    ),
    fetch: fromPromise<FetchedImage, { effects: OnieBootEffects; candidate: Candidate }>(({ input, signal }) =>
      input.effects.fetch(input.candidate, signal),
    ),
    verify: fromPromise<ImageVerdict, { effects: OnieBootEffects; image: FetchedImage }>(({ input, signal }) =>
      input.effects.verify(input.image, signal),
    ),
    recordRejection: fromPromise<
      void,
      { effects: OnieBootEffects; image: FetchedImage; verdict: Extract<ImageVerdict, { ok: false }> }
    >(({ input, signal }) => input.effects.recordRejection(input.image, input.verdict, signal)),
    measure: fromPromise<
      void,
      { effects: OnieBootEffects; image: FetchedImage; verdict: Extract<ImageVerdict, { ok: true }> }
    >(({ input, signal }) => input.effects.measure(input.image, input.verdict, signal)),
    handoff: fromPromise<
      InstallerResult,
      { effects: OnieBootEffects; image: FetchedImage; vars: Record<string, string> }
    >(({ input, signal }) => input.effects.handoff(input.image, input.vars, signal)),
  },
  guards: {
    hasCandidate: ({ context }) => context.index < context.candidates.length,
    needsProbe: ({ context }) => {
      const probe = context.candidates[context.index]?.probe;
      return probe !== undefined && !(probeKey(probe) in context.probed);
    },
    probeFailed: ({ context }) => {
      const probe = context.candidates[context.index]?.probe;
      return probe !== undefined && context.probed[probeKey(probe)] === false;
    },
    passesLeft: ({ context }) => context.pass < context.maxPasses,
  },
  delays: {
    passDelay: ({ context }) => context.passDelayMs,
  },
}).createMachine({
  id: 'onie',
  context: ({ input }) => ({
    effects: input.effects,
    maxPasses: input.maxPasses,
    passDelayMs: input.passDelayMs,
    pass: 0,
    vars: {},
    candidates: [],
    index: 0,
    probed: {},
    image: undefined,
    verdict: undefined,
    installed: undefined,
    haltReason: undefined,
  }),
  initial: 'off',
  states: {
    off: {
      on: { 'power.on': 'firmware' },
    },
    firmware: {
      invoke: {
        src: 'powerOn',
        input: ({ context }) => ({ effects: context.effects }),
        onDone: 'netboot',
        // A firmware fault is not something the next discovery pass can fix.
        onError: {
          target: 'halted',
          actions: assign({ haltReason: ({ event }) => `firmware: ${describe(event.error)}` }),
        },
      },
    },
    netboot: {
      entry: [
        assign({ pass: ({ context }) => context.pass + 1, probed: () => ({}) }),
        emit(({ context }) => ({ type: 'boot.pass' as const, pass: context.pass })),
      ],
      invoke: {
        src: 'configureNetwork',
        input: ({ context }) => ({ effects: context.effects }),
        onDone: 'discover',
        onError: {
          target: 'passEnd',
          actions: emit(({ event }) => ({ type: 'network.failed' as const, stage: 'configure' as const, error: describe(event.error) })),
        },
      },
    },
    discover: {
      invoke: {
        src: 'discover',
        input: ({ context }) => ({ effects: context.effects }),
        onDone: {
          target: 'next',
          actions: [
            assign({
              vars: ({ event }) => event.output.vars,
              candidates: ({ event }) => event.output.candidates,
              index: 0,
            }),
            emit(({ context, event }) => ({
              type: 'discovery.candidates' as const,
              pass: context.pass,
              candidates: event.output.candidates,
            })),
          ],
        },
        onError: {
          target: 'passEnd',
          actions: emit(({ event }) => ({ type: 'network.failed' as const, stage: 'discover' as const, error: describe(event.error) })),
        },
      },
    },
    next: {
      always: [
        { guard: 'hasCandidate', target: 'candidate' },
        { target: 'passEnd' },
      ],
    },
    candidate: {
      initial: 'choose',
      states: {
        choose: {
          always: [
            { guard: 'needsProbe', target: 'probe' },
            { guard: 'probeFailed', target: '#onie.skip' },
            {
              target: 'fetch',
              actions: emit(({ context }) => ({
                type: 'candidate.trying' as const,
                candidate: context.candidates[context.index]!,
                index: context.index,
                total: context.candidates.length,
              })),
            },
          ],
        },
        probe: {
          invoke: {
            src: 'probe',
            input: ({ context }) => ({ effects: context.effects, target: context.candidates[context.index]!.probe! }),
            onDone: [
              {
                guard: ({ event }) => event.output,
                target: 'choose',
                actions: assign({
                  probed: ({ context }) => ({ ...context.probed, [probeKey(context.candidates[context.index]!.probe!)]: true }),
                }),
              },
              {
                target: 'choose',
                actions: [
                  assign({
                    probed: ({ context }) => ({ ...context.probed, [probeKey(context.candidates[context.index]!.probe!)]: false }),
                  }),
                  emit(({ context }) => ({
                    type: 'candidate.failed' as const,
                    candidate: context.candidates[context.index]!,
                    stage: 'probe' as const,
                    error: `no answer on ${probeKey(context.candidates[context.index]!.probe!)}`,
                  })),
                ],
              },
            ],
            onError: {
              target: 'choose',
              actions: assign({
                probed: ({ context }) => ({ ...context.probed, [probeKey(context.candidates[context.index]!.probe!)]: false }),
              }),
            },
          },
        },
        fetch: {
          invoke: {
            src: 'fetch',
            input: ({ context }) => ({ effects: context.effects, candidate: context.candidates[context.index]! }),
            onDone: { target: 'verify', actions: assign({ image: ({ event }) => event.output }) },
            onError: {
              target: '#onie.skip',
              actions: emit(({ context, event }) => ({
                type: 'candidate.failed' as const,
                candidate: context.candidates[context.index]!,
                stage: 'fetch' as const,
                error: describe(event.error),
              })),
            },
          },
        },
        verify: {
          invoke: {
            src: 'verify',
            input: ({ context }) => ({ effects: context.effects, image: context.image! }),
            onDone: [
              {
                guard: ({ event }) => event.output.ok,
                target: 'measure',
                actions: [
                  assign({ verdict: ({ event }) => event.output }),
                  emit(({ context, event }) => ({
                    type: 'image.accepted' as const,
                    candidate: context.candidates[context.index]!,
                    signer: event.output.ok ? event.output.signer.subject : '',
                    rule: event.output.ok ? event.output.rule : '',
                    ...(event.output.ok && event.output.countersigner ? { countersigner: event.output.countersigner.subject } : {}),
                  })),
                ],
              },
              {
                target: 'rejected',
                actions: [
                  assign({ verdict: ({ event }) => event.output }),
                  emit(({ context, event }) => ({
                    type: 'image.rejected' as const,
                    candidate: context.candidates[context.index]!,
                    reason: event.output.ok ? '' : event.output.reason,
                    detail: event.output.ok ? '' : event.output.detail,
                  })),
                ],
              },
            ],
            onError: {
              target: '#onie.skip',
              actions: emit(({ context, event }) => ({
                type: 'candidate.failed' as const,
                candidate: context.candidates[context.index]!,
                stage: 'verify' as const,
                error: describe(event.error),
              })),
            },
          },
        },
        rejected: {
          invoke: {
            src: 'recordRejection',
            input: ({ context }) => ({
              effects: context.effects,
              image: context.image!,
              verdict: context.verdict as Extract<ImageVerdict, { ok: false }>,
            }),
            onDone: '#onie.skip',
            // Failing to log a rejection must not turn it into an install.
            onError: {
              target: '#onie.halted',
              actions: assign({ haltReason: ({ event }) => `recording a rejection: ${describe(event.error)}` }),
            },
          },
        },
        measure: {
          invoke: {
            src: 'measure',
            input: ({ context }) => ({
              effects: context.effects,
              image: context.image!,
              verdict: context.verdict as Extract<ImageVerdict, { ok: true }>,
            }),
            onDone: 'handoff',
            // Nothing runs unmeasured.
            onError: {
              target: '#onie.halted',
              actions: assign({ haltReason: ({ event }) => `measuring the installer: ${describe(event.error)}` }),
            },
          },
        },
        handoff: {
          invoke: {
            src: 'handoff',
            input: ({ context }) => ({ effects: context.effects, image: context.image!, vars: context.vars }),
            onDone: [
              {
                guard: ({ event }) => event.output.exitCode === 0 && !event.output.timedOut,
                target: '#onie.nos',
                actions: [
                  assign({
                    installed: ({ context }) => {
                      const verdict = context.verdict;
                      return {
                        url: context.image!.candidate.url,
                        method: context.image!.candidate.method,
                        signer: verdict?.ok ? verdict.signer.subject : '',
                        sha256: context.image!.digest.fileSha256.toString('hex'),
                      };
                    },
                  }),
                  emit(({ context, event }) => ({
                    type: 'installer.exited' as const,
                    candidate: context.candidates[context.index]!,
                    exitCode: event.output.exitCode,
                    timedOut: event.output.timedOut,
                  })),
                ],
              },
              {
                target: '#onie.skip',
                actions: emit(({ context, event }) => ({
                  type: 'installer.exited' as const,
                  candidate: context.candidates[context.index]!,
                  exitCode: event.output.exitCode,
                  timedOut: event.output.timedOut,
                })),
              },
            ],
            onError: {
              target: '#onie.skip',
              actions: emit(({ context, event }) => ({
                type: 'candidate.failed' as const,
                candidate: context.candidates[context.index]!,
                stage: 'handoff' as const,
                error: describe(event.error),
              })),
            },
          },
        },
      },
    },
    skip: {
      entry: assign({ index: ({ context }) => context.index + 1, image: undefined, verdict: undefined }),
      always: 'next',
    },
    passEnd: {
      always: [{ guard: 'passesLeft', target: 'pause' }, { target: 'gaveUp' }],
    },
    pause: {
      entry: emit(({ context }) => ({ type: 'discovery.pause' as const, pass: context.pass, ms: context.passDelayMs })),
      after: { passDelay: 'netboot' },
    },
    nos: {
      type: 'final',
      entry: emit(({ context }) => ({ type: 'nos.installed' as const, installed: context.installed! })),
    },
    gaveUp: {
      type: 'final',
      entry: emit(({ context }) => ({ type: 'discovery.gave-up' as const, passes: context.pass })),
    },
    halted: {
      type: 'final',
      entry: emit(({ context }) => ({ type: 'device.halted' as const, reason: context.haltReason ?? 'unknown' })),
    },
  },
  output: ({ context }) => ({
    outcome: context.installed ? 'installed' : context.haltReason !== undefined ? 'halted' : 'gave-up',
    ...(context.installed ? { installed: context.installed } : {}),
    ...(context.haltReason !== undefined ? { haltReason: context.haltReason } : {}),
    passes: context.pass,
  }),
});
