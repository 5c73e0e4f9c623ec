import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerError, TimeoutError } from '../../../src/errors.js';
import { acquireLease, type Dhcp4ClientEvent, type Dhcp4ClientOptions } from '../../../src/net/dhcp4/client.js';
import { bindUdp, type DatagramPort, type DatagramPortFactory } from '../../../src/net/datagram-port.js';
import { Dhcp4MessageType, getOption, ipOption, messageType, messageTypeOption, readIp, stringOption, u32Option } from '../../../src/protocol/dhcp4/options.js';
import { encodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { SeededRandom } from '../../../src/random.js';
import { impatientClock, manualClock, rawPeer, until } from './helpers.js';

const MAC = '52:54:00:13:34:01';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A scripted server: `answer` decides what to send back to each request. */
async function fakeServer(answer: (req: Dhcp4Packet) => Dhcp4Packet[]): Promise<{ address: { address: string; port: number }; seen: Dhcp4Packet[] }> {
  const raw = await rawPeer();
  cleanups.push(() => raw.port.close());
  const seen: Dhcp4Packet[] = [];
  raw.port.onMessage(() => {
    const m = raw.received[seen.length]!;
    seen.push(m.packet);
    for (const reply of answer(m.packet)) void raw.port.send(encodeDhcp4(reply), m.from.address, m.from.port);
  });
  return { address: raw.port.address(), seen };
}

function reply(req: Dhcp4Packet, type: Dhcp4MessageType, yiaddr: string, over: Partial<Dhcp4Packet> = {}, extra = [u32Option(51, 600)]): Dhcp4Packet {
  return {
    ...req,
    op: 'reply',
    yiaddr,
    options: [messageTypeOption(type), ipOption(54, '127.0.0.1'), ...extra],
    ...over,
  };
}

/** Counts opened and closed sockets, to show the client always closes its own. */
function trackedPorts(): { open: DatagramPortFactory; openCount: () => number; closedCount: () => number } {
  let opened = 0;
  let closed = 0;
  return {
    open: async (bind) => {
      const port = await bindUdp(bind);
      opened++;
      const wrapped: DatagramPort = {
        send: (b, a, p) => port.send(b, a, p),
        onMessage: (fn) => port.onMessage(fn),
        address: () => port.address(),
        close: async () => {
          closed++;
          await port.close();
        },
      };
      return wrapped;
    },
    openCount: () => opened,
    closedCount: () => closed,
  };
}

const options = (server: { address: string; port: number }, over: Partial<Dhcp4ClientOptions> = {}): Dhcp4ClientOptions => ({
  server,
  mac: MAC,
  options: [stringOption(60, 'onie_vendor:x86_64-kvm_x86_64-r0')],
  attempts: 2,
  retryMs: 2000,
  clock: new SimulatedClock(),
  random: new SeededRandom(1),
  ...over,
});

describe('acquireLease', () => {
  it('sends DISCOVER then REQUEST with one xid, 53 first and 50/54 before the identity options', async () => {
    const fake = await fakeServer((req) =>
      messageType(req) === Dhcp4MessageType.DISCOVER ? [reply(req, Dhcp4MessageType.OFFER, '10.0.0.7')] : [reply(req, Dhcp4MessageType.ACK, '10.0.0.7')],
    );
    const l = await acquireLease(options(fake.address));
    expect(l).toMatchObject({ address: '10.0.0.7', serverId: '127.0.0.1', leaseSeconds: 600 });
    const [discover, request] = fake.seen;
    expect(discover!.options.map((o) => o.code)).toEqual([53, 60]);
    expect(request!.options.map((o) => o.code)).toEqual([53, 50, 54, 60]);
    expect(readIp(getOption(request!, 50)!)).toBe('10.0.0.7');
    expect(request!.xid).toBe(discover!.xid);
    expect(discover!.chaddr).toBe(MAC);
  });

  it('ignores replies with another xid or another chaddr', async () => {
    const fake = await fakeServer((req) => {
      if (messageType(req) === Dhcp4MessageType.DISCOVER) {
        return [
          reply(req, Dhcp4MessageType.OFFER, '10.0.0.1', { xid: (req.xid + 1) >>> 0 }),
          reply(req, Dhcp4MessageType.OFFER, '10.0.0.2', { chaddr: '02:00:00:00:00:99' }),
          reply(req, Dhcp4MessageType.OFFER, '10.0.0.3'),
        ];
      }
      return [reply(req, Dhcp4MessageType.ACK, '10.0.0.3')];
    });
    const events: Dhcp4ClientEvent[] = [];
    const l = await acquireLease(options(fake.address, { onEvent: (e) => events.push(e) }));
    expect(l.offer.yiaddr).toBe('10.0.0.3');
    expect(events.map((e) => `${e.type} ${e.message}`)).toEqual([
      'dhcp.client.send DISCOVER',
      'dhcp.client.receive OFFER 10.0.0.3',
      'dhcp.client.send REQUEST',
      'dhcp.client.receive ACK 10.0.0.3',
    ]);
  });

  it('rejects PeerError BL_DHCP_NAK when the server refuses the address', async () => {
    const fake = await fakeServer((req) =>
      messageType(req) === Dhcp4MessageType.DISCOVER
        ? [reply(req, Dhcp4MessageType.OFFER, '10.0.0.7')]
        : [reply(req, Dhcp4MessageType.NAK, '0.0.0.0', {}, [stringOption(56, 'address in use')])],
    );
    const ports = trackedPorts();
    const e = await acquireLease(options(fake.address, { openPort: ports.open })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerError);
    expect((e as PeerError).code).toBe('BL_DHCP_NAK');
    expect((e as PeerError).message).toContain('address in use');
    expect([ports.openCount(), ports.closedCount()]).toEqual([1, 1]);
  });

  it('times out after `attempts` DISCOVERs, each waiting retryMs of its clock', async () => {
    const silent = await fakeServer(() => []);
    const clock = impatientClock();
    const ports = trackedPorts();
    const e = await acquireLease(options(silent.address, { clock, openPort: ports.open })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect((e as TimeoutError).code).toBe('BL_TIMEOUT');
    expect(clock.now()).toBe(4000);
    expect(silent.seen.map((p) => messageType(p))).toEqual([Dhcp4MessageType.DISCOVER, Dhcp4MessageType.DISCOVER]);
    expect([ports.openCount(), ports.closedCount()]).toEqual([1, 1]);
  });

  it('retries the REQUEST and times out when only the offer comes', async () => {
    const fake = await fakeServer((req) => (messageType(req) === Dhcp4MessageType.DISCOVER ? [reply(req, Dhcp4MessageType.OFFER, '10.0.0.7')] : []));
    const clock = manualClock();
    const outcome = acquireLease(options(fake.address, { clock, attempts: 3 })).catch((x: unknown) => x);
    for (const requests of [1, 2, 3]) {
      await until(() => fake.seen.length === 1 + requests && clock.pending() === 1, `REQUEST ${requests}`);
      clock.increment(2000);
    }
    const e = await outcome;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(clock.now()).toBe(6000);
    expect(fake.seen.map((p) => messageType(p))).toEqual([1, 3, 3, 3]);
  });

  it('rejects with the abort reason and closes its socket when aborted', async () => {
    const silent = await fakeServer(() => []);
    const ports = trackedPorts();
    const ac = new AbortController();
    const pending = acquireLease(options(silent.address, { signal: ac.signal, openPort: ports.open, onEvent: () => ac.abort(new Error('powered off')) }));
    await expect(pending).rejects.toThrow('powered off');
    expect([ports.openCount(), ports.closedCount()]).toEqual([1, 1]);
  });

  it('refuses a malformed MAC before opening a socket', async () => {
    const ports = trackedPorts();
    await expect(acquireLease(options({ address: '127.0.0.1', port: 9 }, { mac: 'nope', openPort: ports.open }))).rejects.toThrow(/MAC/);
    expect(ports.openCount()).toBe(0);
  });
});
