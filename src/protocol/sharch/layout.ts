import { DecodeError, EncodeError } from '../../errors.js';
import { err, ok, type Result } from '../result.js';

/**
 * The "sharch" installer layout (onie.md §4): a POSIX sh header that ends with the line
 * `exit_marker`, then an uncompressed tar of `installer/` that is payload_image_size bytes
 * long, then optionally a detached signature (SONiC, onie.md §5.2). The header checks its
 * payload by itself with sha1; the signature is checked by whoever runs it.
 */
export interface SharchLayout {
  /** Bytes from the start of the file through `exit_marker\n`. */
  headerLength: number;
  /** Lower-case hex sha1 of the payload, as the header declares it. */
  payloadSha1: string;
  payloadSize: number;
  /** The header carries ONIE's updater cookie: the image updates ONIE rather than installing a NOS. */
  updaterCookie: boolean;
}

export interface SharchLimits {
  /** How far into the file the exit_marker line may be. */
  maxHeaderBytes?: number;
}

export const SHARCH_MAX_HEADER_BYTES = 64 * 1024;
export const ONIE_UPDATER_COOKIE = '## ONIE-UPDATER-COOKIE';

const MARKER = 'exit_marker';
/** A line start is what `sed '1,/^exit_marker$/d'` ends on; line 1 never ends the range. */
const MARKER_LINE = Buffer.from(`\n${MARKER}\n`, 'latin1');

export interface SharchHeaderInput {
  payloadSha1: string;
  payloadSize: number;
  updaterCookie?: boolean;
}

export function renderSharchHeader(input: SharchHeaderInput): Buffer {
  if (!/^[0-9a-f]{40}$/i.test(input.payloadSha1)) throw new EncodeError('sharch', 'payload_sha1', `not 40 hex digits: ${input.payloadSha1}`);
  if (!Number.isSafeInteger(input.payloadSize) || input.payloadSize < 0) {
    throw new EncodeError('sharch', 'payload_image_size', `not a byte count: ${input.payloadSize}`);
  }
  const lines = [
    '#!/bin/sh',
    '# Self-extracting installer built by bootlab (sharch layout).',
    '# This shell header is followed by the line exit_marker, an uncompressed tar of',
    '# installer/ exactly payload_image_size bytes long, and possibly a detached signature',
    '# that the header ignores. Usage: sh IMAGE [-x] [installer arguments...]',
    '#   -x  only extract the payload and print where it went.',
    ...(input.updaterCookie ? [ONIE_UPDATER_COOKIE] : []),
    '',
    `payload_sha1=${input.payloadSha1.toLowerCase()}`,
    `payload_image_size=${input.payloadSize}`,
    '',
    'self="$0"',
    'extract_only=no',
    'if [ "$1" = "-x" ] ; then',
    '    extract_only=yes',
    '    shift',
    'fi',
    '',
    '# The payload starts on the line after exit_marker and is read by length, so bytes',
    '# appended after it (a signature) never reach sha1sum or tar.',
    'read_payload()',
    '{',
    '    sed -e \'1,/^exit_marker$/d\' "$self" | head -c "$payload_image_size"',
    '}',
    '',
    "printf '%s' \"Verifying image checksum ...\"",
    'found_sha1=$(read_payload | sha1sum | cut -d " " -f 1)',
    'if [ "$found_sha1" != "$payload_sha1" ] ; then',
    '    echo',
    '    echo "ERROR: Unable to verify archive checksum"',
    '    echo "Expected: $payload_sha1"',
    '    echo "Found   : $found_sha1"',
    '    exit 1',
    'fi',
    'echo " OK."',
    '',
    'work_dir=$(mktemp -d "${TMPDIR:-/tmp}/sharch.XXXXXX") || {',
    '    echo "ERROR: Unable to create a directory to extract the image into"',
    '    exit 1',
    '}',
    'echo "Extracting image to $work_dir ..."',
    'if ! read_payload | tar -xf - -C "$work_dir" ; then',
    '    echo "ERROR: Unable to extract the image archive"',
    '    rm -rf "$work_dir"',
    '    exit 1',
    'fi',
    'if [ "$extract_only" = "yes" ] ; then',
    '    echo "Image extracted to: $work_dir"',
    '    exit 0',
    'fi',
    '',
    'if [ ! -f "$work_dir/installer/install.sh" ] ; then',
    '    echo "ERROR: The image has no installer/install.sh"',
    '    rm -rf "$work_dir"',
    '    exit 1',
    'fi',
    '(cd "$work_dir/installer" && ./install.sh "$@")',
    'rc=$?',
    'rm -rf "$work_dir"',
    'exit $rc',
    MARKER,
    '',
  ];
  return Buffer.from(lines.join('\n'), 'latin1');
}

/**
 * Finds the end of the header and the two values a verifier needs from it. `head` is the
 * start of the file, any length: a marker not yet seen is 'truncated' (read more) until
 * maxHeaderBytes, then 'limit'.
 */
export function parseSharchHeader(head: Uint8Array, limits: SharchLimits = {}): Result<SharchLayout, DecodeError> {
  const max = limits.maxHeaderBytes ?? SHARCH_MAX_HEADER_BYTES;
  const buf = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, max));
  const at = buf.indexOf(MARKER_LINE);
  if (at < 0) {
    return head.byteLength >= max
      ? err(new DecodeError('sharch', 'limit', max, 'exit_marker', `no exit_marker line in the first ${max} bytes`))
      : err(new DecodeError('sharch', 'truncated', head.byteLength, 'exit_marker', 'no exit_marker line yet'));
  }
  const headerLength = at + MARKER_LINE.length;
  const text = buf.subarray(0, at + 1).toString('latin1');

  const sha1 = findAssignment(text, 'payload_sha1');
  if (!sha1) return err(new DecodeError('sharch', 'malformed', at + 1, 'payload_sha1', 'missing before exit_marker'));
  if (!/^[0-9a-fA-F]{40}$/.test(sha1.value)) {
    return err(new DecodeError('sharch', 'malformed', sha1.offset, 'payload_sha1', `not 40 hex digits: ${JSON.stringify(sha1.value.slice(0, 64))}`));
  }
  const size = findAssignment(text, 'payload_image_size');
  if (!size) return err(new DecodeError('sharch', 'malformed', at + 1, 'payload_image_size', 'missing before exit_marker'));
  const payloadSize = /^[0-9]{1,15}$/.test(size.value) ? Number(size.value) : NaN;
  if (!Number.isSafeInteger(payloadSize)) {
    return err(new DecodeError('sharch', 'malformed', size.offset, 'payload_image_size', `not a byte count: ${JSON.stringify(size.value.slice(0, 64))}`));
  }
  const updaterCookie = text.split('\n').some((line) => line.startsWith(ONIE_UPDATER_COOKIE));
  return ok({ headerLength, payloadSha1: sha1.value.toLowerCase(), payloadSize, updaterCookie });
}

/** The first `name=value` line, as SONiC's verifier reads payload_image_size; offset is the value's. */
function findAssignment(text: string, name: string): { value: string; offset: number } | undefined {
  const re = new RegExp(`^${name}=(.*)$`, 'm');
  const m = re.exec(text);
  if (!m) return undefined;
  return { value: m[1]!, offset: m.index + name.length + 1 };
}
