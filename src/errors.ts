/**
 * One error base with a stable code that users and tests match on.
 * Subclasses add the context that makes a message actionable (offset, file, peer).
 */
export type BootlabErrorCode = `BL_${string}`;

export class BootlabError extends Error {
  constructor(
    readonly code: BootlabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export type DecodeReason = 'truncated' | 'malformed' | 'limit' | 'unsupported';

/** Bad bytes: names the protocol, the field and the absolute offset that was wrong. */
export class DecodeError extends BootlabError {
  constructor(
    readonly protocol: string,
    readonly reason: DecodeReason,
    readonly offset: number,
    readonly field: string,
    detail?: string,
  ) {
    super(
      `BL_DECODE_${reason.toUpperCase()}`,
      `${protocol}: ${reason} ${field} at offset ${offset}${detail ? `: ${detail}` : ''}`,
    );
  }
}

/** A value we were asked to encode cannot be put on the wire. */
export class EncodeError extends BootlabError {
  constructor(
    readonly protocol: string,
    readonly field: string,
    detail: string,
  ) {
    super('BL_ENCODE_INVALID', `${protocol}: cannot encode ${field}: ${detail}`);
  }
}

/** A peer (server, client, tool) answered with something we cannot use. */
export class PeerError extends BootlabError {
  constructor(code: BootlabErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export class TimeoutError extends BootlabError {
  constructor(what: string, ms: number) {
    super('BL_TIMEOUT', `${what} timed out after ${ms} ms`);
  }
}

/** A scenario or config file is wrong: names the file, line and path inside the document. */
export class ScenarioError extends BootlabError {
  constructor(
    readonly file: string,
    readonly path: string,
    message: string,
    readonly line?: number,
  ) {
    super('BL_SCENARIO_INVALID', `${file}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${message}`);
  }
}

/** A report file (`--report`, `report merge`) that cannot be read or does not fit the others. */
export class ReportError extends BootlabError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super('BL_REPORT_INVALID', `${file}: ${message}`);
  }
}

/** A command-line flag or argument that cannot be used as given. */
export class UsageError extends BootlabError {
  constructor(message: string) {
    super('BL_USAGE', message);
  }
}

/**
 * The machine, not the input: a port already taken, a permission missing, a tool not
 * installed. The CLI exits 3 for it (2 is bad input, 70 a bug of ours).
 */
export class EnvironmentError extends BootlabError {
  constructor(code: BootlabErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
