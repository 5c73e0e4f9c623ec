import { z } from 'zod';
import { DEFAULT_POWER_ON_CONCURRENCY, MAX_POWER_ON_CONCURRENCY } from './concurrency-limit.js';
import { faultsSchema } from './faults-schema.js';
import { dhcpClassSchema, dhcpOptionsSchema, dhcpReservationSchema, durationSchema as duration, ipv4Schema as ipv4, macSchema as mac } from './dhcp-schema.js';

export { parseDuration } from './dhcp-schema.js';


/**
 * The scenario file: one schema for validation, error messages and (later) the JSON
 * Schema editors use. Addresses inside `pool` are what devices are told they got; all
 * traffic of a run still flows over loopback.
 */

const identity = z
  .object({
    serial: z.string().min(1).optional(),
    mac: mac.optional(),
    vendorId: z.number().int().nonnegative().optional(),
    arch: z.string().regex(/^[a-z0-9]+$/, 'arch has no "_" or "-" (ONIE naming rule)').optional(),
    machine: z
      .string()
      .regex(/^[A-Za-z0-9]+_[A-Za-z0-9_]+$/, 'machine is <vendor>_<model> (ONIE naming rule)')
      .optional(),
    machineRev: z.number().int().nonnegative().optional(),
    switchAsic: z.string().optional(),
    onieVersion: z.string().optional(),
    partNumber: z.string().optional(),
    productName: z.string().optional(),
  })
  .strict();

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

const expectation = z
  .object({
    outcome: z.enum(['installed', 'not-installed']),
    /** Name of the image that must be the one installed. */
    image: z.string().optional(),
    /** Rejections the device must have recorded (reason codes), in order. */
    rejected: z.array(z.string()).optional(),
    attestation: z.enum(['pass', 'fail']).optional(),
    /** Whether the device's TPM gives up the secret sealed to the golden boot (attestation.secret). */
    secret: z.enum(['released', 'withheld']).optional(),
    /** Wall-clock budget for this device, e.g. 30s. */
    within: duration.optional(),
  })
  .strict();

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
                leaseTime: duration.default(3_600_000),
              })
              .strict(),
            options: dhcpOptionsSchema.default({}),
            classes: z.array(dhcpClassSchema).default([]),
            reservations: z.array(dhcpReservationSchema).default([]),
            /** Faults on the DHCP server's socket (seeded by the run's seed). */
            faults: faultsSchema.optional(),
          })
          .strict(),
        http: z.object({}).strict().default({}),
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
    trust: z
      .object({
        /** Certificates in the devices' db: keys of the run's test PKI or PEM files. */
        db: z.array(z.string()).min(1),
        /** The platform key and key-exchange keys (test PKI keys or PEM files): measured into PCR 7 at power-on. */
        pk: z.string().default('pk'),
        kek: z.array(z.string()).default(['kek']),
        /**
         * What lets an image in: a trusted signature, an approved digest (`approved`), both,
         * or dual-signer (a db signer and a countersigner from `operatorDb`).
         */
        mode: z.enum(['signature', 'allow-list', 'both', 'dual-signer']).default('signature'),
        /** dual-signer: who vouches for the countersignature (keys of the run's test PKI, e.g. operator, or PEM files). */
        operatorDb: z.array(z.string()).default([]),
        /**
         * required: a device fetches `<url>.merkle` first and refuses an image without a
         * manifest db trusts, then checks every chunk as it arrives and stops at the first bad one.
         */
        manifest: z.enum(['off', 'required']).default('off'),
        /** Approved images for allow-list and both: `image:NAME` of a scenario image. */
        approved: z.array(z.string().regex(/^image:[A-Za-z0-9._-]+$/, 'approved entries are image:NAME')).default([]),
        /**
         * The devices' dbx: revoked certificates (test PKI keys or PEM files) and revoked
         * images (`image:NAME`, by the sha256 of that scenario image's signed content).
         */
        dbx: z.array(z.string()).default([]),
      })
      .strict(),
    onie: z
      .object({
        /** Passes before a device gives up (ONIE: forever). */
        maxPasses: z.number().int().positive().default(3),
        /** Pause between passes (ONIE: 20 s). */
        passDelay: duration.default(20_000),
        /** Installer time limit. */
        installerTimeout: duration.default(120_000),
      })
      .strict()
      .default({ maxPasses: 3, passDelay: 20_000, installerTimeout: 120_000 }),
    devices: z
      .array(
        z
          .object({
            id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'device ids are file-name safe'),
            identity: identity.default({}),
            tpm: z
              .object({
                /** ecc: ECDSA P-256; rsa: RSASSA-2048; rsa-pss: RSAPSS-2048. */
                ak: z.enum(['ecc', 'rsa', 'rsa-pss']).default('ecc'),
                ek: z.enum(['ecc', 'rsa']).default('ecc'),
                /** Allocated PCR banks, in event-log order; the verifier quotes sha256, so it must be one. */
                banks: z
                  .array(z.enum(['sha1', 'sha256', 'sha384']))
                  .min(1)
                  .default(['sha1', 'sha256'])
                  .refine((b) => new Set(b).size === b.length, 'each bank once')
                  .refine((b) => b.includes('sha256'), 'the verifier quotes the sha256 bank: include sha256'),
              })
              .strict()
              .default({ ak: 'ecc', ek: 'ecc', banks: ['sha1', 'sha256'] }),
            expect: expectation,
          })
          .strict(),
      )
      .min(1),
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

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioDevice = Scenario['devices'][number];
export type ScenarioImage = Scenario['images'][number];
export type DeviceExpectation = ScenarioDevice['expect'];
