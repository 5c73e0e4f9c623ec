import type { EventLog, TcgEvent } from '../protocol/tcg/event-log.js';
import type { HashAlg } from '../protocol/tcg/hash-alg.js';
import { applyEvent, createPcrBanks, type PcrBanks } from './pcr-bank.js';

/** The PCR values a TPM would hold after exactly the events of this log, in the log's banks. */
export function replayEventLog(log: EventLog): PcrBanks {
  return replayEvents(log.events, log.specId.algorithms);
}

/** Replays events (without the Spec ID header) into fresh banks; every event needs a digest per bank. */
export function replayEvents(events: readonly TcgEvent[], banks: readonly HashAlg[]): PcrBanks {
  const pcrs = createPcrBanks(banks);
  for (const e of events) applyEvent(pcrs, e);
  return pcrs;
}
