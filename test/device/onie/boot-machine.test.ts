import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, waitFor } from 'xstate';
import {
  onieBootMachine,
  type FetchedImage,
  type OnieBootEffects,
  type OnieBootEmitted,
} from '../../../src/device/onie/boot-machine.js';
import type { Candidate } from '../../../src/device/onie/discovery.js';
import type { DigestedImage } from '../../../src/trust/image-digester.js';
import type { ImageVerdict } from '../../../src/trust/image-verifier.js';

/** A scripted world: which URLs exist, how each verifies, what each installer exits with. */
interface World {
  candidates: Candidate[];
  missing?: string[];
  verdicts?: Record<string, ImageVerdict>;
  exitCodes?: Record<string, number>;
  probes?: Record<string, boolean>;
  dhcpFailsOnPass?: number[];
}

const good = (signer = 'CN=vendor'): ImageVerdict => ({
  ok: true,
  signer: { subject: signer, sha256Fingerprint: 'aa', certDer: Buffer.from('signer') },
  authority: { subject: 'CN=db', entry: Buffer.from('authority'), kind: 'certificate' },
  chain: [signer, 'CN=db'],
  rule: 'signature',
  digestAlg: 'sha256',
});
const bad = (reason: 'digest-mismatch' | 'untrusted-signer'): ImageVerdict => ({ ok: false, reason, detail: 'scripted' });

function fakeDigest(url: string): DigestedImage {
  return {
    size: url.length,
    fileSha256: Buffer.alloc(32, url.length),
    fileSha1: Buffer.alloc(20, url.length),
    layout: null,
  } as DigestedImage;
}

function fakeEffects(world: World): { effects: OnieBootEffects; log: string[] } {
  const log: string[] = [];
  let pass = 0;
  const effects: OnieBootEffects = {
    async powerOn() {
      log.push('powerOn');
    },
    async configureNetwork() {
      pass++;
      log.push(`configure ${pass}`);
      if (world.dhcpFailsOnPass?.includes(pass)) throw new Error('no DHCP answer');
    },
    async discover() {
      log.push('discover');
      return { vars: { serverid: '127.0.0.1' }, candidates: world.candidates };
    },
    async probe(target) {
      log.push(`probe ${target.host}:${target.port}`);
      return world.probes?.[`${target.host}:${target.port}`] ?? true;
    },
    async fetch(candidate) {
      log.push(`fetch ${candidate.url}`);
      if (world.missing?.includes(candidate.url)) throw new Error('HTTP 404');
      return { candidate, path: '/sandbox/var/tmp/installer', digest: fakeDigest(candidate.url) } satisfies FetchedImage;
    },
    async verify(image) {
      log.push(`verify ${image.candidate.url}`);
      return world.verdicts?.[image.candidate.url] ?? good();
    },
    async recordRejection(image, verdict) {
      log.push(`reject ${image.candidate.url} ${verdict.reason}`);
    },
    async measure(image) {
      log.push(`measure ${image.candidate.url}`);
    },
    async handoff(image) {
      log.push(`run ${image.candidate.url}`);
      return { exitCode: world.exitCodes?.[image.candidate.url] ?? 0, timedOut: false };
    },
  };
  return { effects, log };
}

function boot(world: World, opts: { maxPasses?: number; passDelayMs?: number } = {}) {
  const { effects, log } = fakeEffects(world);
  const clock = new SimulatedClock();
  const actor = createActor(onieBootMachine, {
    input: { effects, maxPasses: opts.maxPasses ?? 3, passDelayMs: opts.passDelayMs ?? 20_000 },
    clock,
  });
  const emitted: OnieBootEmitted[] = [];
  actor.on('*', (e: OnieBootEmitted) => emitted.push(e));
  actor.start();
  actor.send({ type: 'power.on' });
  return { actor, log, emitted, clock };
}

const url = (name: string, method: Candidate['method'] = 'default-url'): Candidate => ({ url: `http://127.0.0.1:8080/${name}`, method });

describe('onieBootMachine', () => {
  it('installs the first candidate that fetches, verifies and exits 0, measuring it before it runs', async () => {
    const { actor, log } = boot({ candidates: [url('nos.bin')] });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'installed', installed: { url: url('nos.bin').url, signer: 'CN=vendor' } });
    expect(log).toEqual([
      'powerOn',
      'configure 1',
      'discover',
      `fetch ${url('nos.bin').url}`,
      `verify ${url('nos.bin').url}`,
      `measure ${url('nos.bin').url}`,
      `run ${url('nos.bin').url}`,
    ]);
  });

  it('moves to the next candidate after a bad signature, exactly as after a failed download', async () => {
    const first = url('tampered.bin', 'vivso');
    const second = url('missing.bin');
    const third = url('good.bin', 'http-inexact');
    const { actor, log, emitted } = boot({
      candidates: [first, second, third],
      missing: [second.url],
      verdicts: { [first.url]: bad('digest-mismatch') },
    });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().output?.installed?.url).toBe(third.url);
    expect(log).toContain(`reject ${first.url} digest-mismatch`);
    expect(log).not.toContain(`run ${first.url}`);
    expect(log).not.toContain(`measure ${first.url}`);
    expect(emitted.filter((e) => e.type === 'image.rejected')).toHaveLength(1);
    expect(emitted.find((e) => e.type === 'candidate.failed')).toMatchObject({ stage: 'fetch', candidate: second });
  });

  it('treats a non-zero installer exit as a failed candidate and tries the next one', async () => {
    const a = url('a.bin');
    const b = url('b.bin');
    const { actor, emitted } = boot({ candidates: [a, b], exitCodes: { [a.url]: 3 } });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().output?.installed?.url).toBe(b.url);
    expect(emitted.filter((e) => e.type === 'installer.exited').map((e) => (e as { exitCode: number }).exitCode)).toEqual([3, 0]);
  });

  it('probes each inexact HTTP server once per pass and skips its names when the port is closed', async () => {
    const probe = { host: '127.0.0.9', port: 80 };
    const names = ['onie-installer-a', 'onie-installer-b', 'onie-installer'].map((n) => ({ ...url(n, 'http-inexact'), probe }));
    const last = url('bootfile.bin', 'bootfile-url');
    const { actor, log } = boot({ candidates: [...names, last], probes: { '127.0.0.9:80': false } });
    await waitFor(actor, (s) => s.status === 'done');
    expect(log.filter((l) => l.startsWith('probe'))).toEqual(['probe 127.0.0.9:80']);
    expect(log.filter((l) => l.startsWith('fetch'))).toEqual([`fetch ${last.url}`]);
  });

  it("waits ONIE's 20 s between passes on the actor clock, then runs DHCP again", async () => {
    const only = url('rogue.bin');
    const { actor, log, clock } = boot({ candidates: [only], verdicts: { [only.url]: bad('untrusted-signer') } }, { maxPasses: 2 });
    await waitFor(actor, (s) => s.matches('pause'));
    expect(log.filter((l) => l.startsWith('configure'))).toHaveLength(1);
    clock.increment(19_999);
    expect(actor.getSnapshot().matches('pause')).toBe(true);
    clock.increment(1);
    await waitFor(actor, (s) => s.status === 'done');
    expect(log.filter((l) => l.startsWith('configure'))).toHaveLength(2);
    expect(actor.getSnapshot().output).toEqual({ outcome: 'gave-up', passes: 2 });
    expect(log.filter((l) => l.startsWith('reject'))).toHaveLength(2);
  });

  it('counts a pass whose DHCP failed and still pauses before the next one', async () => {
    const { actor, log, clock } = boot({ candidates: [url('nos.bin')], dhcpFailsOnPass: [1] }, { maxPasses: 2 });
    await waitFor(actor, (s) => s.matches('pause'));
    clock.increment(20_000);
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'installed', passes: 2 });
    expect(log.filter((l) => l === 'discover')).toHaveLength(1);
  });

  it('halts instead of running an installer whose measurement failed', async () => {
    const only = url('nos.bin');
    const { effects, log } = fakeEffects({ candidates: [only] });
    effects.measure = async () => {
      throw new Error('TPM unavailable');
    };
    const actor = createActor(onieBootMachine, { input: { effects, maxPasses: 1, passDelayMs: 0 }, clock: new SimulatedClock() });
    actor.start();
    actor.send({ type: 'power.on' });
    await waitFor(actor, (s) => s.status === 'done');
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'halted', haltReason: 'measuring the installer: TPM unavailable' });
    expect(log.some((l) => l.startsWith('run'))).toBe(false);
  });
});
