import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeTcp } from '../../src/net/tcp-probe.js';

async function listen(): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as { port: number }).port, close: () => new Promise((r) => srv.close(() => r())) };
}

describe('probeTcp', () => {
  it('answers true when the port accepts a connection', async () => {
    const s = await listen();
    try {
      expect(await probeTcp('127.0.0.1', s.port, 1000)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('answers false when the port refuses', async () => {
    const s = await listen();
    await s.close();
    expect(await probeTcp('127.0.0.1', s.port, 1000)).toBe(false);
  });

  it('rejects with the abort reason when aborted first', async () => {
    const ac = new AbortController();
    ac.abort(new Error('cancelled'));
    await expect(probeTcp('127.0.0.1', 9, 1000, ac.signal)).rejects.toThrow('cancelled');
  });
});
