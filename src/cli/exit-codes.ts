import { CommanderError } from 'commander';
import { BootlabError, EnvironmentError } from '../errors.js';

/** The one exit-code contract of every command; the top-level --help prints it. */
export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3, internal: 70 } as const;

export const EXIT_CODES_HELP = `
Exit codes (every command):
  0   ok
  1   an expectation or verification failed (a run's verdict, image/attest verify)
  2   bad input or usage: unknown command or flag, missing argument, invalid file
  3   environment: port already in use, permission denied, missing tool
  70  internal error: a bug in bootlab, please report it (stack with --debug or BOOTLAB_DEBUG=1)
`;

export interface Failure {
  code: number;
  /** What to print on stderr; undefined when commander has already printed it. */
  message?: string;
}

// Raw errno codes that mean the machine, not the input or us; what the user can do about each.
const ENVIRONMENT_ERRNO: Record<string, string> = {
  EADDRINUSE: 'address already in use (another server holds the port)',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied (ports below 1024 and raw sockets need root or CAP_NET_BIND_SERVICE)',
  EPERM: 'operation not permitted (needs root or a capability)',
};

function errnoOf(e: unknown): NodeJS.ErrnoException | undefined {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException) : undefined;
}

/** Environment trouble that reached the top as a raw Node error rather than an EnvironmentError. */
function environmentErrno(e: unknown): string | undefined {
  const err = errnoOf(e);
  if (!err || e instanceof BootlabError) return undefined;
  const code = err.code!;
  const syscall = err.syscall ?? '';
  // A missing tool: spawn reports ENOENT with syscall "spawn <tool>" and the tool as path.
  if (code === 'ENOENT' && syscall.startsWith('spawn')) return `${err.path ?? syscall.slice(6)}: command not found (install it or put it on PATH)`;
  const what = ENVIRONMENT_ERRNO[code];
  if (!what) return undefined;
  const e2 = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = e2.address !== undefined ? `${e2.address}${e2.port !== undefined ? `:${e2.port}` : ''}` : err.path;
  return `${syscall ? `${syscall} ` : ''}${where ?? ''}${syscall || where ? ': ' : ''}${what} [${code}]`;
}

// A file the user named that is not there or not what it should be: bad input, whatever code
// path forgot to wrap it.
const INPUT_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a path component is not a directory',
  EISDIR: 'is a directory, expected a file',
  EEXIST: 'already exists',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
};

function inputErrno(e: unknown): string | undefined {
  const err = errnoOf(e);
  if (!err || e instanceof BootlabError || err.path === undefined) return undefined;
  const what = INPUT_ERRNO[err.code!];
  return what ? `${err.path}: ${what} [${err.code}]` : undefined;
}

/** Maps whatever reached the CLI's top to its exit code and one line (the stack only when debugging). */
export function classify(e: unknown, opts: { debug: boolean; reportTo?: string | undefined }): Failure {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; every other commander error is a usage error it has printed.
    return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  if (e instanceof EnvironmentError) return { code: EXIT.environment, message: `bootlab: ${e.message}` };
  // A user mistake gets its message, never a stack.
  if (e instanceof BootlabError) return { code: EXIT.usage, message: `bootlab: ${e.message}` };
  const env = environmentErrno(e);
  if (env) return { code: EXIT.environment, message: `bootlab: ${env}` };
  const input = inputErrno(e);
  if (input) return { code: EXIT.usage, message: `bootlab: ${input}` };
  const where = opts.reportTo ? `please report at ${opts.reportTo}` : 'please report it to the bootlab maintainers';
  const text = e instanceof Error ? e.message : String(e);
  const stack = opts.debug && e instanceof Error && e.stack ? `\n${e.stack}` : '';
  const hint = opts.debug ? '' : ' (run with --debug or BOOTLAB_DEBUG=1 for the stack)';
  return { code: EXIT.internal, message: `bootlab: internal error (${where}): ${text}${hint}${stack}` };
}
