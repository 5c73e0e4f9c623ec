import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ScenarioError } from '../errors.js';
import { InputTooLargeError, MAX_INPUT_FILE_BYTES, readBoundedFile } from './input-file.js';
import { knownKeysAt, nearestKey } from './unknown-keys.js';
import { checkAliasExpansion, countYamlTokens } from './yaml-limits.js';

/** Throws a ScenarioError naming the file, the line of `path` in it, and the path. */
export type FailAt = (path: (string | number)[], message: string) => never;

/** A parsed, schema-checked YAML document, with a way to point at a line for later checks. */
export interface CheckedYaml<T> {
  value: T;
  /** Throws a ScenarioError at the line of `path` (or its nearest existing parent). */
  fail(path: (string | number)[], message: string): never;
}

/**
 * Reads a scenario or config file (`what` names it in messages), refusing one over
 * MAX_INPUT_FILE_BYTES before it is held or parsed.
 */
export async function readYamlText(file: string, what: string): Promise<string> {
  try {
    return (await readBoundedFile(file)).toString('utf8');
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new ScenarioError(file, '', `${what} is ${e.message}`);
    throw new ScenarioError(file, '', `cannot read ${what}: ${(e as Error).message}`);
  }
}

/** Parses YAML and validates it; every problem names the file, the line and the path in the document. */
export function parseYamlFile<S extends z.ZodType>(text: string, file: string, schema: S): CheckedYaml<z.output<S>> {
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : text.slice(0, offset).split('\n').length);
  if (text.length > MAX_INPUT_FILE_BYTES) throw new ScenarioError(file, '', `is larger than ${MAX_INPUT_FILE_BYTES} bytes, the most an input file may hold`);
  // Bounded before the document is built: building is what costs memory.
  const tooMany = countYamlTokens(text);
  if (tooMany) throw new ScenarioError(file, '', `YAML: ${tooMany.message}`, lineAt(tooMany.offset));
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    throw new ScenarioError(file, '', `YAML: ${yamlError.message.split('\n')[0]}`, lines.linePos(yamlError.pos[0]).line);
  }
  const expanded = checkAliasExpansion(doc);
  if (expanded) throw new ScenarioError(file, '', `YAML: ${expanded.message}`, expanded.offset === undefined ? undefined : lines.linePos(expanded.offset).line);
  const fail = (path: (string | number)[], message: string): never => {
    throw new ScenarioError(file, path.join('.'), message, lineOf(doc, lines, path));
  };
  let value: unknown;
  try {
    // Expansion is bounded above, by its real cost, so yaml's own alias count (100 uses of
    // one anchor) would only refuse honest files.
    value = doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    // yaml signals what it cannot convert (e.g. an alias it cannot resolve) with ReferenceError.
    throw new ScenarioError(file, '', `YAML: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    // A misspelt key is the cause; the required key it should have been is only missing
    // because of it, so the unknown key is reported first, at its own line.
    const unknown = parsed.error.issues.find((i) => i.code === 'unrecognized_keys');
    if (unknown) {
      const at = unknown.path.filter((k): k is string | number => typeof k !== 'symbol');
      const key = unknown.keys[0]!;
      const guess = nearestKey(key, knownKeysAt(schema, at));
      throw new ScenarioError(file, at.join('.'), `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`, keyLine(doc, lines, at, key) ?? lineOf(doc, lines, at));
    }
    const issue = parsed.error.issues[0]!;
    fail(
      issue.path.filter((k): k is string | number => typeof k !== 'symbol'),
      issue.message,
    );
  }
  return { value: (parsed as { data: z.output<S> }).data, fail };
}

/** The line of `key` itself inside the mapping at `path`. */
function keyLine(doc: Document, lines: LineCounter, path: (string | number)[], key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return isNode(pair?.key) && pair.key.range ? lines.linePos(pair.key.range[0]).line : undefined;
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  // The deepest node that exists: a missing key is reported where its parent is.
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
