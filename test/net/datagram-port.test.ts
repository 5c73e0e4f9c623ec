import { describe, expect, it } from 'vitest';
import { bindUdp } from '../../src/net/datagram-port.js';

describe('bindUdp', () => {
  it('binds port 0 to a free port and carries datagrams both ways on loopback', async () => {
    const a = await bindUdp({ address: '127.0.0.1', port: 0 });
    const b = await bindUdp({ address: '127.0.0.1', port: 0 });
    try {
      expect(a.address().port).toBeGreaterThan(0);
      const got = new Promise<{ bytes: number[]; from: number }>((resolve) => b.onMessage((bytes, from) => resolve({ bytes: Array.from(bytes), from: from.port })));
      await a.send(Uint8Array.of(1, 2, 3), '127.0.0.1', b.address().port);
      expect(await got).toEqual({ bytes: [1, 2, 3], from: a.address().port });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('stops delivering to a listener once it unsubscribes', async () => {
    const a = await bindUdp({ address: '127.0.0.1', port: 0 });
    const seen: number[] = [];
    const off = a.onMessage((bytes) => seen.push(bytes[0]!));
    const first = new Promise<void>((resolve) => a.onMessage((bytes) => bytes[0] === 1 && resolve()));
    const last = new Promise<void>((resolve) => a.onMessage((bytes) => bytes[0] === 2 && resolve()));
    try {
      await a.send(Uint8Array.of(1), '127.0.0.1', a.address().port);
      await first;
      off();
      await a.send(Uint8Array.of(2), '127.0.0.1', a.address().port);
      await last;
      expect(seen).toEqual([1]);
    } finally {
      await a.close();
    }
  });

  it('rejects a send after close instead of throwing, and closes twice safely', async () => {
    const a = await bindUdp({ address: '127.0.0.1', port: 0 });
    await a.close();
    await a.close();
    await expect(a.send(Uint8Array.of(1), '127.0.0.1', 9)).rejects.toThrow();
  });

  it('rejects when the address cannot be bound', async () => {
    const a = await bindUdp({ address: '127.0.0.1', port: 0 });
    try {
      await expect(bindUdp({ address: '127.0.0.1', port: a.address().port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
