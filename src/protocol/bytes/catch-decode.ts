import { DecodeError } from '../../errors.js';
import { err, type Result } from '../result.js';

/**
 * Runs a decoder written against ByteReader (which throws DecodeError at the first bad
 * field) and turns that throw into the codec's Result; anything else is a bug and
 * propagates.
 */
export function catchDecodeError<T>(decode: () => Result<T, DecodeError>): Result<T, DecodeError> {
  try {
    return decode();
  } catch (e) {
    if (e instanceof DecodeError) return err(e);
    throw e;
  }
}
