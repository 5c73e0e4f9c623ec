import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ScenarioError } from '../errors.js';

/** A parsed, schema-checked YAML document, with a way to point at a line for later checks. */
export interface CheckedYaml<T> {
  value: T;
  /** Throws a ScenarioError at the line of `path` (or its nearest existing parent). */
  fail(path: (string | number)[], message: string): never;
}

/** Parses YAML and validates it; every problem names the file, the line and the path in the document. */
export function parseYamlFile<S extends z.ZodType>(text: string, file: string, schema: S): CheckedYaml<z.output<S>> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) {
    throw new ScenarioError(file, '', `YAML: ${yamlError.message.split('\n')[0]}`, lines.linePos(yamlError.pos[0]).line);
  }
  const fail = (path: (string | number)[], message: string): never => {
    throw new ScenarioError(file, path.join('.'), message, lineOf(doc, lines, path));
  };
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(
      issue.path.filter((k): k is string | number => typeof k !== 'symbol'),
      issue.message,
    );
  }
  return { value: (parsed as { data: z.output<S> }).data, fail };
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  // The deepest node that exists: a missing key is reported where its parent is.
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
