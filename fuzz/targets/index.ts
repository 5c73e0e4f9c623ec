import type { FuzzTarget } from '../target.js';
import { dhcp4, dhcp4Vivso } from './dhcp4.js';
import { dhcp6, dhcp6IaNa } from './dhcp6.js';
import { icmp6 } from './icmp6.js';
import { lldp } from './lldp.js';
import { merkle } from './merkle.js';
import { dhcp4RelayAgentInfo, relayAgentTarget } from './relay-agent-info.js';
import { serverTargets } from './servers.js';
import { sharch } from './sharch.js';
import { tcgEventLog } from './tcg.js';
import { tftp } from './tftp.js';
import { tpm2Attest, tpm2PcrSelection, tpm2PcrsFile, tpm2Public, tpm2Signature } from './tpm2.js';
import { cms, pem } from './trust.js';
import { ustar, ustarHeader, ustarStream } from './ustar.js';

/** Every target, decoders first; server targets are made fresh (they hold a server each). */
export function allTargets(): FuzzTarget[] {
  return [
    dhcp4,
    dhcp4Vivso,
    dhcp4RelayAgentInfo,
    dhcp6,
    dhcp6IaNa,
    icmp6,
    lldp,
    tftp,
    ustar,
    ustarStream,
    ustarHeader,
    sharch,
    merkle,
    tcgEventLog,
    tpm2Attest,
    tpm2Public,
    tpm2Signature,
    tpm2PcrSelection,
    tpm2PcrsFile,
    cms,
    pem,
    ...serverTargets(),
    relayAgentTarget(),
  ];
}
