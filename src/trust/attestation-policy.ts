import { z } from 'zod';
import { DIGEST_SIZE, HASH_ALGS, type HashAlg } from '../protocol/tcg/hash-alg.js';
import { PCR_COUNT } from '../protocol/tcg/event-log.js';

/**
 * What a verifier requires of a quote, as a file (`policy.json`): the PCR selection the
 * quote must cover exactly, and the golden value of each PCR that has one. Written by
 * `bootlab run --artifacts` next to each device's quote; read by `bootlab attest verify`.
 */
export interface AttestationPolicy {
  selection: Array<{ alg: HashAlg; pcrs: number[] }>;
  golden: Array<{ alg: HashAlg; pcr: number; value: Uint8Array }>;
  /** The PCR a reference list is measured into: unknown stages logged there fail. */
  referencePcr?: number;
}

const alg = z.enum(HASH_ALGS as [HashAlg, ...HashAlg[]]);
const pcr = z.number().int().min(0).max(PCR_COUNT - 1);

const policyFileSchema = z
  .object({
    selection: z.array(z.object({ alg, pcrs: z.array(pcr).min(1) }).strict()).min(1),
    golden: z
      .array(
        z
          .object({ alg, pcr, value: z.string().regex(/^([0-9a-f]{2})+$/, 'a lower-case hex digest') })
          .strict()
          .refine((g) => g.value.length === 2 * DIGEST_SIZE[g.alg], { message: 'the digest length does not match its bank' }),
      )
      .default([]),
    referencePcr: pcr.optional(),
  })
  .strict();

export function encodePolicy(p: AttestationPolicy): string {
  return `${JSON.stringify(
    {
      selection: p.selection,
      golden: p.golden.map((g) => ({ alg: g.alg, pcr: g.pcr, value: Buffer.from(g.value).toString('hex') })),
      ...(p.referencePcr !== undefined ? { referencePcr: p.referencePcr } : {}),
    },
    null,
    2,
  )}\n`;
}

/** Parses a policy file; the error names the field that is wrong. */
export function decodePolicy(text: string): { ok: true; value: AttestationPolicy } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  const r = policyFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, error: `${issue.path.join('.') || '(top level)'}: ${issue.message}` };
  }
  return {
    ok: true,
    value: {
      selection: r.data.selection,
      golden: r.data.golden.map((g) => ({ alg: g.alg, pcr: g.pcr, value: Buffer.from(g.value, 'hex') })),
      ...(r.data.referencePcr !== undefined ? { referencePcr: r.data.referencePcr } : {}),
    },
  };
}
