import { z } from 'zod';
import { INVENTORY_VERDICTS } from './rack-schema.js';
import { durationSchema as duration, macSchema as mac } from './dhcp-schema.js';
import { trustOverrideSchema } from './trust-schema.js';

/** The most devices one template (or one run) may hold: ten times the 10,000 a machine runs. */
export const MAX_TEMPLATE_COUNT = 100_000;

/** One device's identity, as it is once a template's patterns are filled in. */
export const identitySchema = z
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

const pattern = (what: string) => z.string().min(1).describe(`${what}; in a template, {n}, {n:04}, {n:06x} or {n+K} give each device its own`);

/** The identity as written: its text fields may be patterns ({n}…), checked once filled in. */
const identityTemplateSchema = z
  .object({
    serial: pattern('the serial number').optional(),
    mac: pattern('the base MAC; once filled in, 12 hex digits with any of : . - between').optional(),
    vendorId: z.number().int().nonnegative().optional(),
    arch: pattern('the CPU architecture').optional(),
    machine: pattern('<vendor>_<model>').optional(),
    machineRev: z.number().int().nonnegative().optional(),
    switchAsic: pattern('the switch ASIC').optional(),
    onieVersion: pattern('the ONIE version').optional(),
    partNumber: pattern('the part number').optional(),
    productName: pattern('the product name').optional(),
  })
  .strict();

export const expectationSchema = z
  .object({
    outcome: z.enum(['installed', 'not-installed']),
    /** Name of the image that must be the one installed. */
    image: z.string().optional(),
    /** Rejections the device must have recorded (reason codes), in order. */
    rejected: z.array(z.string()).optional(),
    /** How each installer it ran ended, in order: `exit 0`, `exit 1`…, or `timed-out` (hung, killed at onie.installerTimeout). */
    installerRuns: z.array(z.string().regex(/^(exit \d{1,3}|timed-out)$/, 'an installer run ends as `exit N` or `timed-out`')).optional(),
    attestation: z.enum(['pass', 'fail']).optional(),
    /** Whether the device's TPM gives up the secret sealed to the golden boot (attestation.secret). */
    secret: z.enum(['released', 'withheld']).optional(),
    /** The inventory's verdict on the device when it asks through its rack's relay (rack plans only). */
    inventory: z.enum(INVENTORY_VERDICTS).optional(),
    /** Whether it must have taken a lease from a DHCP server other than the run's (a rack's rogueDhcp). */
    rogueDhcp: z.boolean().optional(),
    /** Times its power was cut and came back during the run (faults.powerLoss). */
    powerLosses: z.number().int().nonnegative().optional(),
    /** Wall-clock budget for this device, from its power-on, e.g. 30s. */
    within: duration.optional(),
  })
  .strict();

const tpmSchema = z
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
  .default({ ak: 'ecc', ek: 'ecc', banks: ['sha1', 'sha256'] });

/**
 * A timed stage's delay: a duration (`30s`), `{ uniform: [20s, 40s] }` or
 * `{ triangular: [20s, 25s, 60s] }` (min, most likely, max), drawn per device from the
 * run's seed.
 */
export const delaySchema = z.union([
  duration.transform((ms) => ({ fixed: ms })),
  z.object({ uniform: z.tuple([duration, duration]) }).strict().refine((d) => d.uniform[0] <= d.uniform[1], 'uniform: [min, max] with min <= max'),
  z
    .object({ triangular: z.tuple([duration, duration, duration]) })
    .strict()
    .refine((d) => d.triangular[0] <= d.triangular[1] && d.triangular[1] <= d.triangular[2], 'triangular: [min, mode, max] with min <= mode <= max'),
]);

/** How long a device's own stages take besides the network's and the installer's time. */
export const timingSchema = z
  .object({
    /** Power-on self test: from power-on until ONIE starts its first DHCP. */
    post: delaySchema.optional(),
    /** The NOS's first boot after a good install, before the device counts as installed. */
    nosBoot: delaySchema.optional(),
  })
  .strict();

/**
 * Faults that happen to the device itself, as scenario data. `powerLoss`: the power is cut
 * once while its installer runs (when the installer prints a line holding `atLine`, or
 * `after` that long into the install, whichever comes first) and comes back `off` later;
 * ONIE's sticky install mode must bring it back to discovery and a new install.
 */
export const deviceFaultsSchema = z
  .object({
    powerLoss: z
      .object({
        during: z.literal('install').default('install'),
        atLine: z.string().min(1).optional(),
        after: duration.optional(),
        /** How long it stays without power. */
        off: duration.default(5000),
      })
      .strict()
      .refine((p) => p.atLine !== undefined || p.after !== undefined, 'say when the power goes: atLine (a line the installer prints) or after (time into the install)')
      .optional(),
  })
  .strict();

/**
 * One entry of `devices`: a device, or with `count` a template of that many devices whose
 * id and identity are patterns. Every device of an entry shares its platform, TPM, trust
 * and expectations.
 */
export const deviceEntrySchema = z
  .object({
    /** The template's name: the JUnit testsuite its devices are reported under (default: the id pattern). */
    template: z.string().regex(/^[A-Za-z0-9._-]+$/, 'template names are file-name safe').describe('the JUnit testsuite these devices are reported under (default: the id pattern)').optional(),
    /** How many devices this entry stands for. */
    count: z.number().int().positive().max(MAX_TEMPLATE_COUNT).describe('how many devices this entry stands for: a template').optional(),
    /** The first device's {n} (default 1). */
    start: z.number().int().nonnegative().max(2 ** 48).describe("the first device's {n} (default 1)").optional(),
    /** File-name safe once filled in, unique in the run: e.g. leaf-{n:04}. */
    id: z.string().min(1).describe('unique, file-name safe once filled in; in a template a pattern such as leaf-{n:04}'),
    identity: identityTemplateSchema.default({}),
    tpm: tpmSchema,
    /** Changes to the scenario's trust store for these devices (e.g. another db or dbx). */
    trust: trustOverrideSchema.describe("changes to the scenario's trust store for these devices, field by field").optional(),
    faults: deviceFaultsSchema.optional(),
    timing: timingSchema.optional(),
    expect: expectationSchema,
  })
  .strict();

export type DeviceFaults = z.output<typeof deviceFaultsSchema>;
export type DeviceEntry = z.output<typeof deviceEntrySchema>;
export type DeviceIdentitySpec = z.output<typeof identitySchema>;
export type DeviceExpectation = z.output<typeof expectationSchema>;
