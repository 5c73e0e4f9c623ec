/**
 * The funnel a device walks through, in order, and the bus event that marks each stage:
 * the first such event of a device is when it reached the stage.
 */
export const STAGES = ['powered-on', 'leased', 'discovered', 'fetched', 'verified', 'measured', 'installed', 'attested'] as const;
export type Stage = (typeof STAGES)[number];

const BY_EVENT: Record<string, Stage> = {
  'device.power-on': 'powered-on',
  'dhcp.leased': 'leased',
  'discovery.candidates': 'discovered',
  'image.fetched': 'fetched',
  'image.accepted': 'verified',
  'image.measured': 'measured',
  'nos.installed': 'installed',
};

/** The stage an event marks, if any; attestation counts only when the verifier said pass. */
export function stageOf(type: string, data: Record<string, unknown> | undefined): Stage | undefined {
  if (type === 'attestation.verdict') return data?.['ok'] === true ? 'attested' : undefined;
  return BY_EVENT[type];
}

export const STAGE_LABEL: Record<Stage, string> = {
  'powered-on': 'powered on',
  leased: 'leased',
  discovered: 'discovered',
  fetched: 'fetched',
  verified: 'verified',
  measured: 'measured',
  installed: 'installed',
  attested: 'attested',
};
