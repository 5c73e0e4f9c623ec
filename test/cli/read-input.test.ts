import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputText } from '../../src/cli/read-input.js';

const dir = await mkdtemp(join(tmpdir(), 'bootlab-read-input-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('readInputText (PEM, policy and reference-list files)', () => {
  it('reads a file up to 4 MiB and refuses a larger one, naming the flag, the file and the limit', async () => {
    const ok = join(dir, 'ok.json');
    await writeFile(ok, 'x'.repeat(4 * 2 ** 20));
    expect((await readInputText(ok, '--reference-list')).length).toBe(4 * 2 ** 20);
    const big = join(dir, 'big.json');
    await writeFile(big, 'x'.repeat(4 * 2 ** 20 + 1));
    await expect(readInputText(big, '--reference-list')).rejects.toThrow(`--reference-list ${big}: larger than 4194304 bytes (4 MiB), the most an input file may hold`);
    await expect(readInputText(big)).rejects.toMatchObject({ code: 'BL_CLI_INPUT' });
  });

  it('bounds what it reads by the bytes that come, not by what stat says (a device never ends)', async () => {
    await expect(readInputText('/dev/zero', '--db')).rejects.toThrow('--db /dev/zero: larger than 4194304 bytes');
    await expect(readInputText(join(dir, 'absent.pem'), '--db')).rejects.toThrow(/--db .*absent\.pem: ENOENT/);
  });
});
