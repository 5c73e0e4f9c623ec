import { describe, expect, it } from 'vitest';
import { hearingBroadcasts, needsBroadcastEar, type DatagramBind, type DatagramPeer, type DatagramPort } from '../../src/net/datagram-port.js';

/** Ports that record what is done to them, and can be made to receive a datagram. */
function fakeNetwork(refuse?: string) {
  const opened: Array<{ bind: DatagramBind; sent: string[]; closed: boolean; deliver(from: DatagramPeer): void }> = [];
  const open = async (bind: DatagramBind): Promise<DatagramPort> => {
    if (bind.address === refuse) throw Object.assign(new Error(`bind ${bind.address}:${bind.port} EADDRINUSE`), { code: 'EADDRINUSE' });
    const listeners = new Set<(bytes: Uint8Array, from: DatagramPeer) => void>();
    const port = bind.port === 0 ? 40_067 : bind.port;
    const rec = { bind, sent: [] as string[], closed: false, deliver: (from: DatagramPeer) => listeners.forEach((fn) => fn(Uint8Array.of(1), from)) };
    opened.push(rec);
    return {
      send: async (_b, address, p) => void rec.sent.push(`${address}:${p}`),
      onMessage: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
      close: async () => void (rec.closed = true),
      address: () => ({ address: bind.address, port }),
    };
  };
  return { open, opened };
}

describe('hearingBroadcasts', () => {
  it('gives a port bound to a unicast address a receive-only ear on 255.255.255.255 at the same port', async () => {
    const net = fakeNetwork();
    const port = await hearingBroadcasts(net.open)({ address: '10.97.0.1', port: 0, broadcast: true, bufferBytes: 4096 });
    expect(net.opened.map((o) => o.bind)).toEqual([
      { address: '10.97.0.1', port: 0, broadcast: true, bufferBytes: 4096 },
      { address: '255.255.255.255', port: 40_067, bufferBytes: 4096 },
    ]);
    const heard: string[] = [];
    port.onMessage((_b, from) => heard.push(from.address));
    net.opened[0]!.deliver({ address: '10.97.0.100', port: 68 });
    net.opened[1]!.deliver({ address: '0.0.0.0', port: 68 });
    expect(heard).toEqual(['10.97.0.100', '0.0.0.0']);
    await port.send(Uint8Array.of(2), '255.255.255.255', 68);
    expect(net.opened[0]!.sent).toEqual(['255.255.255.255:68']);
    expect(net.opened[1]!.sent).toEqual([]);
    expect(port.address()).toEqual({ address: '10.97.0.1', port: 40_067 });
    await port.close();
    expect(net.opened.map((o) => o.closed)).toEqual([true, true]);
  });

  it('leaves wildcard, broadcast, loopback and IPv6 binds with their one socket', async () => {
    for (const address of ['0.0.0.0', '255.255.255.255', '127.0.0.1', '::']) {
      const net = fakeNetwork();
      await hearingBroadcasts(net.open)({ address, port: 67 });
      expect(net.opened.length).toBe(1);
      expect(needsBroadcastEar(address)).toBe(false);
    }
    expect(needsBroadcastEar('192.168.7.1')).toBe(true);
  });

  it('closes the unicast socket again when the broadcast address cannot be bound', async () => {
    const net = fakeNetwork('255.255.255.255');
    await expect(hearingBroadcasts(net.open)({ address: '10.97.0.1', port: 67 })).rejects.toThrow(/255\.255\.255\.255:67 EADDRINUSE/);
    expect(net.opened.map((o) => o.closed)).toEqual([true]);
  });
});
