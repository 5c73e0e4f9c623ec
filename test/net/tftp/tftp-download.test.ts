import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../src/clock.js';
import { TftpServer } from '../../../src/net/tftp/server.js';
import { downloadTftp, parseTftpUrl } from '../../../src/net/tftp/tftp-download.js';

let dir: string;
let server: TftpServer;
let port: number;
const image = randomBytes(40_000);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-dl-'));
  await writeFile(join(dir, 'onie-installer'), image);
  server = new TftpServer({ root: dir, bind: { address: '127.0.0.1', port: 0 } });
  port = (await server.start()).port;
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('parseTftpUrl', () => {
  it("splits server and path as ONIE's url_run does (path taken as is)", () => {
    expect(parseTftpUrl('tftp://10.0.0.4/52-54-00-12-34-07/onie-installer')).toEqual({ host: '10.0.0.4', port: 69, path: '52-54-00-12-34-07/onie-installer' });
    expect(parseTftpUrl('tftp://127.0.0.1:6969/a%20b')).toEqual({ host: '127.0.0.1', port: 6969, path: 'a%20b' });
    expect(parseTftpUrl('tftp://[fd00::1]:69/x')).toEqual({ host: 'fd00::1', port: 69, path: 'x' });
    expect(() => parseTftpUrl('tftp://10.0.0.4/')).toThrow(/not a tftp:\/\/server\/path URL/);
    expect(() => parseTftpUrl('http://10.0.0.4/x')).toThrow(/not a tftp/);
    expect(() => parseTftpUrl('tftp://10.0.0.4:70000/x')).toThrow(/port 70000/);
  });
});

describe('downloadTftp', () => {
  it('writes the file and hands every chunk to the hasher once', async () => {
    const to = join(dir, 'got.bin');
    const chunks: Buffer[] = [];
    const r = await downloadTftp(`tftp://127.0.0.1:${port}/onie-installer`, { to, clock: new ScaledClock(1), onChunk: (c) => chunks.push(Buffer.from(c)) });
    expect(r.bytes).toBe(image.length);
    expect((await readFile(to)).equals(image)).toBe(true);
    expect(Buffer.concat(chunks).equals(image)).toBe(true);
  });

  it('leaves no file behind when the server says no', async () => {
    const to = join(dir, 'missing.bin');
    await expect(downloadTftp(`tftp://127.0.0.1:${port}/nope`, { to, clock: new ScaledClock(1) })).rejects.toMatchObject({ code: 'BL_TFTP_ERROR' });
    await expect(stat(to)).rejects.toThrow(/ENOENT/);
  });
});
