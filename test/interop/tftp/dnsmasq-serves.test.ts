import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, requireInterop, waitForLine, type Lab } from '../netns.js';

const repo = new URL('../../../', import.meta.url).pathname;
let lab: Lab;
let dir: string;
const data = randomBytes(3 * 1024 * 1024 + 11);

beforeAll(async () => {
  await requireInterop(['ip', 'dnsmasq']);
  lab = await createLab({ serverAddress: '10.215.9.1', clientAddress: '10.215.9.2', prefix: 24 });
  dir = await mkdtemp(join(tmpdir(), 'bootlab-dnsmasq-tftp-'));
  await writeFile(join(dir, 'nbp.efi'), data);
});

afterAll(async () => {
  await lab?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("bootlab's TFTP client against dnsmasq's TFTP server", () => {
  it('fetches byte-exact with EDK2-style options (dnsmasq ignores windowsize)', async () => {
    const dnsmasq = lab.spawn(lab.server.ns, [
      'dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', `--interface=${lab.server.dev}`, '--bind-interfaces',
      '--enable-tftp', `--tftp-root=${dir}`, '--log-facility=-',
    ]);
    try {
      await waitForLine(dnsmasq, /TFTP root is/, 10_000);
      const { stdout } = await lab.exec(lab.client.ns, ['node', join(repo, 'test/interop/tftp/fixtures/bootlab-tftp-get.mjs'), lab.server.address, 'nbp.efi'], 60_000);
      expect(stdout.trim()).toBe(`${data.length} ${createHash('sha256').update(data).digest('hex')}`);
    } finally {
      dnsmasq.kill('SIGTERM');
    }
  });
});
