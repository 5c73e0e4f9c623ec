import { z } from 'zod';
import { DEFAULT_POWER_ON_CONCURRENCY, MAX_POWER_ON_CONCURRENCY } from './concurrency-limit.js';
import { faultsSchema, outagesSchema } from './faults-schema.js';
import { dhcpClassSchema, dhcpOptionsSchema, dhcpReservationSchema, durationSchema as duration, ipv4Number, ipv4Schema as ipv4, leaseDurationSchema } from './dhcp-schema.js';
import { deviceEntrySchema, type DeviceEntry, type DeviceExpectation, type DeviceIdentitySpec } from './device-schema.js';
import { trustSchema, type TrustSpec } from './trust-schema.js';
import { rackSchema, rolloutSchema } from './rack-schema.js';

export { parseDuration } from './dhcp-schema.js';


/**
 * The scenario file: one schema for validation, error messages and (later) the JSON
 * Schema editors use. Addresses inside `pool` are what devices are told they got; all
 * traffic of a run still flows over loopback.
 */

const imageSpec = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'image names are file-name safe'),
    /** Directory holding install.sh, relative to the scenario file: built and signed by the run. */
    source: z.string().min(1).optional(),
    /** Or a ready file, published as it is (not built, not signed): e.g. something that is no installer at all. */
    file: z.string().min(1).optional(),
    /** A key of the run's test PKI (`vendor`, `rogue`), or `none` for an unsigned image. */
    signedBy: z.enum(['vendor', 'rogue', 'db-ca', 'none']).default('vendor'),
    /** File names the HTTP server publishes this image under (none: a reference image the verifier knows). */
    publish: z.array(z.string().regex(/^[A-Za-z0-9._/-]+$/)).default([]),
    /** Paths the TFTP server publishes it under, e.g. `52-54-00-12-34-01/onie-installer-…` for ONIE's waterfall. */
    publishTftp: z.array(z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a relative path of file-name-safe parts')).default([]),
    /**
     * Adds installer/padding.bin of this many MiB (bytes drawn from the run's seed) so the
     * image has a NOS-like size: what makes a stopped download visibly cheaper than a full one.
     */
    paddingMiB: z.number().int().positive().max(4096).optional(),
    /** Publish a signed chunked Merkle manifest next to every copy (`<path>.merkle`), made before any tampering. */
    manifest: z
      .object({
        /** Bytes per chunk: a power of two from 4 KiB to 64 MiB. */
        chunkSize: z
          .number()
          .int()
          .refine((n) => n >= 4096 && n <= 2 ** 26 && (n & (n - 1)) === 0, 'a power of two from 4096 to 67108864')
          .default(1 << 20),
        signedBy: z.enum(['vendor', 'rogue', 'db-ca']).default('vendor'),
      })
      .strict()
      .optional(),
    /** dual-signer: a second signature (a SignerInfo in the same CMS) by this key of the run's PKI. */
    countersignedBy: z.enum(['operator', 'vendor', 'rogue']).optional(),
    /** Alter the bytes after signing: a fault that a verifying device must catch. */
    tamper: z
      .object({
        region: z.enum(['header', 'payload', 'signature']),
        /** Byte offset inside the region; default the middle. */
        offset: z.number().int().nonnegative().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((i) => (i.source === undefined) !== (i.file === undefined), 'an image has either source (a directory to build) or file (published as is)');

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.union([z.number().int(), z.string()]).default(1),
    /** Speeds up protocol timers (DHCP retries, ONIE's 20 s pause); 1 = real time. */
    clockSpeed: z.number().positive().default(1),
    /** Loopback address every server binds to. */
    bind: ipv4.default('127.0.0.1'),
    /**
     * Pacing: at most `concurrency` devices are between power-on and their verdict at once;
     * the others wait powered off, so no device fails because the host is busy.
     */
    powerOn: z
      .object({ concurrency: z.number().int().positive().max(MAX_POWER_ON_CONCURRENCY).default(DEFAULT_POWER_ON_CONCURRENCY) })
      .strict()
      .default({ concurrency: DEFAULT_POWER_ON_CONCURRENCY }),
    servers: z
      .object({
        dhcp: z
          .object({
            pool: z
              .object({
                start: ipv4,
                end: ipv4,
                subnetMask: ipv4.default('255.255.255.0'),
                leaseTime: leaseDurationSchema.default(3_600_000),
              })
              .strict()
              // Reported at `end`, its own line: a reversed range would hand out no address at all.
              .refine((p) => ipv4Number(p.start) <= ipv4Number(p.end), { path: ['end'], message: 'the pool ends before it starts (start must not be above end)' }),
            options: dhcpOptionsSchema.default({}),
            classes: z.array(dhcpClassSchema).default([]),
            reservations: z.array(dhcpReservationSchema).default([]),
            /** Faults on the DHCP server's socket (seeded by the run's seed). */
            faults: faultsSchema.optional(),
            /** Fault: the DHCP server is down (hears and answers nothing) in these windows. */
            down: outagesSchema,
          })
          .strict(),
        http: z
          .object({
            /**
             * Serve HTTPS: the run's HTTP server presents a certificate issued by a fresh
             * run CA (https-ca in the run's PKI), and devices check it against that CA.
             * Write the URLs devices are given as https://{http}/… ; ONIE's inexact
             * http:// probes then fail against it, as they would on a real network.
             */
            tls: z.boolean().default(false),
            /** Fault: the HTTP server is down in these windows: connections refused, those open reset. */
            down: outagesSchema,
          })
          .strict()
          .default({ tls: false, down: [] }),
        /** The run always serves TFTP (images with publishTftp); this tunes it. */
        tftp: z
          .object({
            /** Faults on every TFTP socket: the request port and each transfer's. */
            faults: faultsSchema.optional(),
            /** Wait before the server re-sends when the client set no timeout (default 1 s). */
            retransmit: duration.optional(),
            maxBlksize: z.number().int().min(8).max(65464).optional(),
          })
          .strict()
          .default({}),
      })
      .strict(),
    images: z.array(imageSpec).min(1),
    trust: trustSchema,
    onie: z
      .object({
        /** Passes before a device gives up (ONIE: forever). */
        maxPasses: z.number().int().positive().default(3),
        /** Pause between passes (ONIE: 20 s). */
        passDelay: duration.default(20_000),
        /**
         * Installer time limit, in wall time (installers run in real time, whatever
         * clockSpeed says). Real ONIE has none: a hung installer hangs the switch.
         */
        installerTimeout: duration.default(120_000),
      })
      .strict()
      .default({ maxPasses: 3, passDelay: 20_000, installerTimeout: 120_000 }),
    /** Devices and templates (a template has `count` and patterns in its id and identity). */
    devices: z.array(deviceEntrySchema).min(1),
    /** The rack plan: racks behind DHCP relays, each position's device, inventory record and cabling. */
    racks: z.array(rackSchema).default([]),
    /** Waves of racks or devices, each powered on only when the one before passed its gate. */
    rollout: rolloutSchema.optional(),
    attestation: z
      .object({
        /** The image whose measurement the verifier's golden values are computed from. */
        goldenImage: z.string(),
        /**
         * A secret (e.g. the NOS configuration key) sealed to the golden values with
         * TPM2_PolicyPCR before the device boots: its TPM releases it only after a golden boot.
         */
        secret: z.string().min(1).max(128, 'a sealed secret holds at most 128 bytes').optional(),
        /**
         * A signed list of known-good installers (DIGLIM-style) provisioned on every device:
         * measured once into PCR 12, which only unknown installers move. Golden values then
         * cover PCR 12 instead of 13, so any listed installer attests.
         */
        referenceList: z
          .object({
            images: z.array(z.string()).min(1),
            signedBy: z.enum(['vendor', 'rogue', 'db-ca']).default('vendor'),
            version: z.number().int().nonnegative().default(1),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The scenario as written: `devices` holds entries, some of them templates. */
export type ScenarioFile = z.output<typeof scenarioSchema>;

/** One device of the fleet, a template's patterns filled in. */
export interface ScenarioDevice {
  id: string;
  identity: DeviceIdentitySpec;
  tpm: DeviceEntry['tpm'];
  expect: DeviceExpectation;
  /** Faults that happen to the device itself (its entry's). */
  faults?: DeviceEntry['faults'];
  /** Its stages' delay distributions (its entry's). */
  timing?: DeviceEntry['timing'];
  /** The device's trust store: the scenario's with its entry's overrides. */
  trust: TrustSpec;
  /** The fields of `trust` its entry overrides (shared by the entry's devices). */
  trustOverrides: readonly (keyof TrustSpec)[];
  /** The JUnit testsuite: the template's name, or the scenario's for a device on its own. */
  suite: string;
  /** Position in the fleet (0-based, in file order): what shards are cut by. */
  index: number;
  /** Index of the `devices` entry it comes from, for messages that point at the file. */
  entry: number;
}

/** A loaded scenario: its fleet expanded to one entry per device. */
export type Scenario = Omit<ScenarioFile, 'devices'> & { devices: ScenarioDevice[] };
export type ScenarioImage = Scenario['images'][number];
export type { DeviceExpectation, TrustSpec };
