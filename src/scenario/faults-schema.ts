import { z } from 'zod';
import type { FaultPlan } from '../net/faults.js';
import { durationSchema } from './dhcp-schema.js';

const rate = z.number().min(0, 'a rate is between 0 and 1').max(1, 'a rate is between 0 and 1 (0.3 is 30 %)');

/**
 * Network faults on one server's sockets, e.g. `{ loss: 0.3, duplicate: 0.01, delay: 5ms,
 * jitter: 3ms }`. Drawn from the run's seed: the same file replays the same faults.
 */
export const faultsSchema = z
  .object({
    loss: rate.optional(),
    duplicate: rate.optional(),
    delay: durationSchema.optional(),
    /** Extra random delay up to this much; datagrams overtake each other. */
    jitter: durationSchema.optional(),
    /** Which datagrams suffer: those the server sends, receives, or both (default). */
    direction: z.enum(['send', 'receive', 'both']).optional(),
  })
  .strict();

/** A window of the run's clock from its start: `{ from: 0s, for: 30s }`. */
export const outageWindowSchema = z.object({ from: durationSchema.default(0), for: durationSchema }).strict();
/** Fault: the service is down (answers nothing) in these windows. */
export const outagesSchema = z.array(outageWindowSchema).default([]);
export type OutageWindow = z.output<typeof outageWindowSchema>;

export type FaultsSpec = z.output<typeof faultsSchema>;

export function toFaultPlan(f: FaultsSpec): FaultPlan {
  return {
    ...(f.loss !== undefined ? { loss: f.loss } : {}),
    ...(f.duplicate !== undefined ? { duplicate: f.duplicate } : {}),
    ...(f.delay !== undefined ? { delayMs: f.delay } : {}),
    ...(f.jitter !== undefined ? { jitterMs: f.jitter } : {}),
    ...(f.direction !== undefined ? { direction: f.direction } : {}),
  };
}
