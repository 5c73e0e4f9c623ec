import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/trust/test-pki.js';

/**
 * Bad inputs to `bootlab image …` and `bootlab serve …` through the built CLI: each gets
 * its exit code and one stderr line that names the flag or file, never a stack.
 */
const repo = new URL('../../', import.meta.url).pathname;
const bin = join(repo, 'dist/cli/bin.js');
let dir: string;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How to run the CLI without the right to bind ports below 1024. As root: in a network
 * namespace of its own whose ip_unprivileged_port_start is 1024 whatever the host's
 * (containers often set 0), dropped to nobody. Otherwise the test already has no root; a
 * kernel that lets anyone bind port 80 cannot show the case, and says so.
 */
function unprivileged(argv: string[]): [string, string[]] {
  if (process.getuid?.() === 0) {
    for (const tool of ['unshare', 'setpriv', 'ip']) {
      if (spawnSync(tool, ['--version']).error) throw new Error(`${tool} is not installed: apt-get install -y --no-install-recommends util-linux iproute2`);
    }
    const script = 'ip link set lo up && echo 1024 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$@"';
    return ['unshare', ['--net', '--', 'sh', '-c', script, 'sh', ...argv]];
  }
  const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  if (!(start > 80)) throw new Error(`net.ipv4.ip_unprivileged_port_start is ${start}: this kernel lets anyone bind port 80, so run this test as root (it then makes a namespace where the limit holds)`);
  return [argv[0]!, argv.slice(1)];
}

/** Runs the CLI to its end (serve cases all fail before they would listen). */
function bootlab(args: string[], opts: { unprivileged?: boolean } = {}): Promise<Result> {
  const [cmd, argv] = opts.unprivileged ? unprivileged(['node', bin, ...args]) : ['node', [bin, ...args]];
  return new Promise((resolve) => {
    execFile(cmd, argv, { cwd: dir, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let taken: Server;
let takenPort: number;
let takenUdpPort = 0;
beforeAll(async () => {
  const { createSocket } = await import('node:dgram');
  const holder = createSocket('udp4');
  takenUdpPort = await new Promise<number>((resolve) => holder.bind(0, '127.0.0.1', () => resolve(holder.address().port)));
  return () => holder.close();
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-inputs-'));
  const ca = issueCertificate({ subject: 'db CA (TEST ONLY)', ca: true });
  const signer = issueCertificate({ subject: 'signer (TEST ONLY)', issuer: ca });
  await writeFile(join(dir, 'db.pem'), ca.certPem);
  await writeFile(join(dir, 'signer.key'), signer.keyPem);
  await writeFile(join(dir, 'signer.pem'), signer.certPem);
  await writeFile(join(dir, 'random.bin'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff)));
  await writeFile(join(dir, 'a-file'), 'not a directory\n');
  // A directory of certificates, as openssl -CApath users keep them: PEM, DER, a key beside them, a README.
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'db.crt'), ca.certPem);
  await writeFile(join(dir, 'certs', 'other.cer'), new X509Certificate(issueCertificate({ subject: 'other (TEST ONLY)', ca: true }).certPem).raw);
  await writeFile(join(dir, 'certs', 'db.key.pem'), ca.keyPem);
  await writeFile(join(dir, 'certs', 'README'), 'certificates\n');
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, 'www'));
  await writeFile(join(dir, 'bad-root.yaml'), 'http:\n  root: missing\n');
  await writeFile(join(dir, 'wide.yaml'), 'dhcp:\n  serverId: 10.0.0.1\n  range: 10.0.0.10-10.0.3.20\n  subnetMask: 255.255.254.0\n');
  for (const step of [
    ['image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'nos.bin'],
    ['image', 'sign', 'nos.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'nos.signed.bin'],
  ]) {
    const r = await bootlab(step);
    expect(r, r.stderr).toMatchObject({ code: 0 });
  }
  taken = createServer();
  takenPort = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
  await chmod(dir, 0o755);
}, 60_000);

afterAll(async () => {
  taken?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every serve case binds loopback only, on ports the OS picks, should a check ever let one through. */
const loopback = ['--bind', '127.0.0.1'];

/** [what, args, exit code, the one stderr line]. */
const refused: Array<[string, string[], number, RegExp]> = [
  ['verify a missing image', ['image', 'verify', '/nonexistent', '--db', 'db.pem'], 2, /^bootlab: image \/nonexistent: no such file$/],
  ['build into a missing directory', ['image', 'build', join(repo, 'images', 'demo-nos'), '-o', '/nonexistent/dir/x'], 2, /^bootlab: -o \/nonexistent\/dir\/x: no directory \/nonexistent\/dir$/],
  ['sign with a certificate as --key', ['image', 'sign', 'nos.bin', '--key', 'signer.pem', '--cert', 'signer.pem', '-o', 'x.bin'], 2, /^bootlab: --key signer\.pem: not a PEM private key \(it holds a certificate: that goes to --cert\)$/],
  ['sign with a key as --cert', ['image', 'sign', 'nos.bin', '--key', 'signer.key', '--cert', 'signer.key', '-o', 'x.bin'], 2, /^bootlab: --cert signer\.key: not a PEM certificate \(it holds a private key: that goes to --key\)$/],
  ['sign into a missing directory', ['image', 'sign', 'nos.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', '/nonexistent/x.bin'], 2, /^bootlab: -o \/nonexistent\/x\.bin: no directory \/nonexistent$/],
  ['sign a missing image', ['image', 'sign', 'nope.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'x.bin'], 2, /^bootlab: image nope\.bin: no such file$/],
  ['verify with a --db that is no certificate', ['image', 'verify', 'nos.signed.bin', '--db', 'random.bin'], 2, /^bootlab: --db random\.bin: not a PEM or DER certificate$/],
  ['verify with a --db directory holding none', ['image', 'verify', 'nos.signed.bin', '--db', 'empty'], 2, /^bootlab: --db empty: a directory without \*\.pem, \*\.crt or \*\.cer files$/],
  ['verify with a missing --dbx', ['image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--dbx', 'nope.pem'], 2, /^bootlab: --dbx nope\.pem: no such file or directory$/],
  ['serve a reversed --dhcp-range', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.200-10.0.0.100', '--dhcp-port', '0'], 2, /^bootlab: --dhcp-range 10\.0\.0\.200-10\.0\.0\.100: start is after end/],
  ['serve a range wider than its mask', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.1.20', '--dhcp-port', '0', '--subnet-mask', '255.255.255.0'], 2, /^bootlab: --dhcp-range 10\.0\.0\.10-10\.0\.1\.20 is wider than --subnet-mask 255\.255\.255\.0 \(\/24\)/],
  ['serve a config range wider than its mask', ['serve', ...loopback, '--config', 'wide.yaml', '--dhcp-port', '0'], 2, /^bootlab: wide\.yaml: dhcp\.range 10\.0\.0\.10-10\.0\.3\.20 is wider than wide\.yaml: dhcp\.subnetMask 255\.255\.254\.0 \(\/23\)/],
  ['serve a range wider than the default mask', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.1.20', '--dhcp-port', '0'], 2, /^bootlab: --dhcp-range 10\.0\.0\.10-10\.0\.1\.20 is wider than the default --subnet-mask 255\.255\.255\.0 \(\/24\)/],
  ['serve a mask that is no mask', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--dhcp-port', '0', '--subnet-mask', '255.0.255.0'], 2, /^bootlab: --subnet-mask 255\.0\.255\.0: not a subnet mask/],
  ['serve a missing --http-root', ['serve', ...loopback, '--http-root', '/nonexistent', '--http-port', '0'], 2, /^bootlab: --http-root \/nonexistent: no such directory$/],
  ['serve a file as --http-root', ['serve', ...loopback, '--http-root', 'a-file', '--http-port', '0'], 2, /^bootlab: --http-root \S*a-file: not a directory$/],
  ['serve a config whose http.root is missing', ['serve', ...loopback, '--config', 'bad-root.yaml', '--http-port', '0'], 2, /^bootlab: bad-root\.yaml: http\.root \S*missing: no such directory$/],
  ['serve a missing --tftp-root', ['serve', ...loopback, '--tftp-root', '/nonexistent', '--tftp-port', '0'], 2, /^bootlab: --tftp-root \/nonexistent: no such directory$/],
  ['serve a missing --tftp-write-dir', ['serve', ...loopback, '--tftp-root', 'www', '--tftp-write-dir', '/nonexistent', '--tftp-port', '0'], 2, /^bootlab: --tftp-write-dir \/nonexistent: no such directory$/],
  ['serve --boot-server-port without --proxy-dhcp', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--dhcp-port', '0', '--boot-server-port', '4011'], 2, /^bootlab: --boot-server-port 4011: only with --proxy-dhcp/],
  ['serve a --default-url that is no URL', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--dhcp-port', '0', '--default-url', 'not a url'], 2, /^bootlab: --default-url not a url: expected an absolute http:\/\/, https:\/\/, ftp:\/\/ or tftp:\/\/ URL/],
  ['serve a --default-url ONIE cannot fetch', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--dhcp-port', '0', '--default-url', 'nfs://10.0.0.1/x'], 2, /^bootlab: --default-url nfs:\/\/10\.0\.0\.1\/x: expected an absolute/],
  ['serve a relative --onie-installer-url', ['serve', ...loopback, '--server-id', '10.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--dhcp-port', '0', '--onie-installer-url', '/onie-installer'], 2, /^bootlab: --onie-installer-url \/onie-installer: expected an absolute/],
];

describe('bad image and serve inputs through the real CLI', () => {
  it.each(refused)('%s: one line naming it, exit code as listed', async (_what, args, code, line) => {
    const r = await bootlab(args);
    expect(r.stderr.trimEnd()).toMatch(line);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(code);
  });

  it('takes a --db directory: its *.pem / *.crt / *.cer (PEM or DER) are the db, a key beside them is passed over', async () => {
    const r = await bootlab(['image', 'verify', 'nos.signed.bin', '--db', 'certs']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/nos\.signed\.bin: trusted \(signature\); signer "CN=signer \(TEST ONLY\)", authority "CN=db CA \(TEST ONLY\)"/);
    expect(r.code).toBe(0);
  });

  it('takes a --default-url ONIE fetches (tftp://) up to the bind', async () => {
    // Gets past every input check; the bind it reaches is the taken port, so it stops there.
    const r = await bootlab(['serve', '--bind', '127.0.0.1', '--server-id', '127.0.0.1', '--dhcp-range', '10.0.0.10-10.0.0.20', '--default-url', 'tftp://10.0.0.1/onie-installer', '--dhcp-port', String(takenUdpPort)]);
    expect(r.stderr).toMatch(/^bootlab: DHCP: cannot bind 127\.0\.0\.1:\d+: another process is using it/);
    expect(r.code).toBe(3);
  });

  it('a taken port is the environment (exit 3): one line with the service, address:port and the flag to change', async () => {
    const r = await bootlab(['serve', '--bind', '127.0.0.1', '--http-root', 'www', '--http-port', String(takenPort)]);
    expect(r.stderr).toBe(`bootlab: HTTP: cannot bind 127.0.0.1:${takenPort}: another process is using it; stop it or pick another --http-port (e.g. --http-port ${takenPort + 1})\n`);
    expect(r.code).toBe(3);
  });

  it('a port below 1024 without root is the environment (exit 3): run as root or pick another port', async () => {
    const r = await bootlab(['serve', '--bind', '127.0.0.1', '--http-root', 'www', '--http-port', '80'], { unprivileged: true });
    expect(r.stderr).toBe('bootlab: HTTP: cannot bind 127.0.0.1:80: permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; run as root or pick another --http-port (e.g. --http-port 8080)\n');
    expect(r.code).toBe(3);
  });
});

