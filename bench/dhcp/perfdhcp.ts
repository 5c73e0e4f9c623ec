/** One perfdhcp step and what it measured. */
export interface PerfdhcpResult {
  targetRate: number;
  /** perfdhcp's own "Rate" line: exchanges over the period plus the exit wait (-W), so lower than leasesPerSecond. */
  rate: number;
  discoverSent: number;
  offerDropRatio: number;
  requestSent: number;
  ackDropRatio: number;
  /** ACKs received per second of the test period: the number the benchmark compares. */
  leasesPerSecond: number;
}

/** Parses perfdhcp's (Kea 2.2) text report; throws naming what it could not find. */
export function parsePerfdhcp(text: string, targetRate: number, periodSeconds: number): PerfdhcpResult {
  const rate = number(/Rate:\s*([\d.]+)\s*4-way exchanges\/second/, text, 'Rate');
  const sections = text.split('***Statistics for: ');
  const section = (name: string): string => {
    const s = sections.find((x) => x.startsWith(name));
    if (!s) throw new Error(`perfdhcp output has no "${name}" statistics:\n${text}`);
    return s;
  };
  const offer = section('DISCOVER-OFFER');
  const ack = section('REQUEST-ACK');
  const acksReceived = number(/received packets:\s*(\d+)/, ack, 'REQUEST-ACK received packets');
  return {
    targetRate,
    rate,
    discoverSent: number(/sent packets:\s*(\d+)/, offer, 'DISCOVER-OFFER sent packets'),
    offerDropRatio: number(/drops ratio:\s*([\d.]+)\s*%/, offer, 'DISCOVER-OFFER drops ratio') / 100,
    requestSent: number(/sent packets:\s*(\d+)/, ack, 'REQUEST-ACK sent packets'),
    ackDropRatio: number(/drops ratio:\s*([\d.]+)\s*%/, ack, 'REQUEST-ACK drops ratio') / 100,
    leasesPerSecond: acksReceived / periodSeconds,
  };
}

function number(re: RegExp, text: string, what: string): number {
  const m = re.exec(text);
  if (!m) throw new Error(`perfdhcp output has no ${what}:\n${text.slice(0, 2000)}`);
  return Number(m[1]);
}

/** Held: both exchanges lost at most `maxDrop` of their packets. */
export function held(r: PerfdhcpResult, maxDrop: number): boolean {
  return r.discoverSent > 0 && r.offerDropRatio <= maxDrop && r.ackDropRatio <= maxDrop;
}
