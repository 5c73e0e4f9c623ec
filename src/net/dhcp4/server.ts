import { decodeDhcp4, encodeDhcp4, type Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import { messageType, Dhcp4MessageType } from '../../protocol/dhcp4/options.js';
import { bindUdp, type DatagramPeer, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';
import { LeaseJournal } from './lease-journal.js';
import { Dhcp4ReplyPolicy, type Dhcp4Decision } from './reply-policy.js';
import { validateServerConfig, type Dhcp4ServerConfig, type Dhcp4ServerEvent } from './server-config.js';

export type { Dhcp4ClassRule, Dhcp4OptionValues, Dhcp4ServerConfig, Dhcp4ServerEvent, Dhcp4ServerEventType } from './server-config.js';

const SOCKET_BUFFER_BYTES = 4 << 20;

export interface Dhcp4ServerDeps {
  onEvent?: (e: Dhcp4ServerEvent) => void;
  /** Milliseconds; drives lease and offer expiry. Default Date.now. */
  now?: () => number;
  /** Opens the socket; fault wrappers go here. Default bindUdp. */
  openPort?: DatagramPortFactory;
  /**
   * Admission: a DISCOVER or REQUEST is answered only if this returns undefined; otherwise
   * it is dropped, counted as 'not-admitted' and reported as a 'dhcp.refused' event with
   * the reason (an inventory check: serial, MAC and relay port against a rack plan).
   * Called once per such request, so it must be a lookup, not a scan.
   */
  admit?: (req: Dhcp4Packet) => { reason: string; detail: string } | undefined;
}

export interface Dhcp4ServerStats {
  received: number;
  /** Requests not answered, by reason (a decode error code, or the policy's reason). */
  dropped: Record<string, number>;
  offers: number;
  acks: number;
  naks: number;
}

/**
 * A minimal DHCPv4 server: decode → policy → encode → send. A datagram that does not
 * decode, or that the policy will not answer, is counted and dropped; nothing a peer
 * sends can stop the receive loop.
 */
export class Dhcp4Server {
  readonly stats: Dhcp4ServerStats = { received: 0, dropped: {}, offers: 0, acks: 0, naks: 0 };
  private readonly policy: Dhcp4ReplyPolicy;
  private journal: LeaseJournal | undefined;
  private readonly now: () => number;
  private port: DatagramPort | undefined;

  constructor(
    private readonly config: Dhcp4ServerConfig,
    private readonly deps: Dhcp4ServerDeps = {},
  ) {
    validateServerConfig(config);
    this.policy = new Dhcp4ReplyPolicy(config);
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<DatagramPeer> {
    if (this.port) return this.port.address();
    if (this.config.leaseFile !== undefined && !this.journal) {
      const now = this.now();
      const { journal, leases } = await LeaseJournal.open(this.config.leaseFile, now, (p) =>
        this.emit({ type: 'dhcp.lease-file', detail: `${p.file}:${p.line}: skipped: ${p.detail}` }),
      );
      this.journal = journal;
      const restored = leases.filter((l) => this.policy.restore(l.client, l.address, l.expiresAt, now)).length;
      this.emit({ type: 'dhcp.lease-file', detail: `${this.config.leaseFile}: restored ${restored} of ${leases.length} leases` });
    }
    const open = this.deps.openPort ?? bindUdp;
    // A burst of thousands of clients (a rack powering on) must queue in the kernel, not be dropped there.
    const port = await open({ ...this.config.bind, broadcast: this.config.replyTo === 'broadcast', bufferBytes: SOCKET_BUFFER_BYTES });
    this.port = port;
    port.onMessage((bytes, from) => this.receive(port, bytes, from));
    return port.address();
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    await port?.close();
    const journal = this.journal;
    this.journal = undefined;
    await journal?.close();
  }

  private receive(port: DatagramPort, bytes: Uint8Array, from: DatagramPeer): void {
    this.stats.received++;
    const decoded = decodeDhcp4(bytes);
    if (!decoded.ok) {
      this.drop(decoded.error.code, `${from.address}:${from.port}: ${decoded.error.message}`);
      return;
    }
    const type = messageType(decoded.value);
    if (this.deps.admit && (type === Dhcp4MessageType.DISCOVER || type === Dhcp4MessageType.REQUEST)) {
      let refusal;
      try {
        refusal = this.deps.admit(decoded.value);
      } catch (e) {
        this.drop('internal', e instanceof Error ? e.message : String(e));
        return;
      }
      if (refusal) {
        this.count('not-admitted');
        this.emit({ type: 'dhcp.refused', mac: decoded.value.chaddr, xid: decoded.value.xid, detail: `${refusal.reason}: ${refusal.detail}` });
        return;
      }
    }
    let decision;
    try {
      decision = this.policy.answer(decoded.value, from, this.now());
    } catch (e) {
      this.drop('internal', e instanceof Error ? e.message : String(e));
      return;
    }
    if (decision.dropped !== undefined) this.count(decision.dropped);
    for (const e of decision.events) this.emit(e);
    if (decision.lease && this.journal) {
      // Never acknowledge a lease a restart could forget: the replies wait for the disk.
      this.journal.append(decision.lease).then(
        () => this.send(port, decision.replies),
        (e: unknown) => {
          this.count('lease-file');
          this.emit({ type: 'dhcp.lease-file', mac: decoded.value.chaddr, detail: `not acknowledged, the lease file write failed: ${e instanceof Error ? e.message : String(e)}` });
        },
      );
      return;
    }
    this.send(port, decision.replies);
  }

  private send(port: DatagramPort, replies: Dhcp4Decision['replies']): void {
    for (const reply of replies) {
      let wire: Buffer;
      try {
        wire = encodeDhcp4(reply.packet);
      } catch (e) {
        this.drop('encode-failed', e instanceof Error ? e.message : String(e));
        continue;
      }
      const type = messageType(reply.packet);
      if (type === Dhcp4MessageType.OFFER) this.stats.offers++;
      else if (type === Dhcp4MessageType.NAK) this.stats.naks++;
      else if (type === Dhcp4MessageType.ACK) this.stats.acks++;
      port.send(wire, reply.to.address, reply.to.port).catch((e: unknown) => {
        this.drop('send-failed', `${reply.to.address}:${reply.to.port}: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
  }

  private drop(reason: string, detail: string): void {
    this.count(reason);
    this.emit({ type: 'dhcp.dropped', detail: `${reason}: ${detail}` });
  }

  private count(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }

  private emit(e: Dhcp4ServerEvent): void {
    try {
      this.deps.onEvent?.(e);
    } catch {
      // A subscriber's bug must not take the server down with it.
    }
  }
}
