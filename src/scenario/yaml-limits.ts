import { Lexer, isAlias, isCollection, isPair, isScalar, type Document, type Node } from 'yaml';

/**
 * Nodes (keys, values, items) a scenario or config may hold once its aliases are expanded.
 * A 2,000-device fleet written out device by device is ~40,000; templates make it a few
 * dozen. Building the document costs ~1 KiB of memory per node, so this caps it near 250 MiB.
 */
export const MAX_YAML_NODES = 250_000;

/**
 * Aliases (`*name`) a file may hold. yaml finds each alias's anchor by a scan of the aliases
 * and anchors before it, so converting costs the square of their number: 2,000 take
 * ~30 ms, 30,000 take seconds. A scenario shares a few blocks a few hundred times at most.
 */
export const MAX_YAML_ALIASES = 2_000;

/** What went wrong and where (a character offset into the text), for the caller to name by line. */
export interface YamlLimitProblem {
  message: string;
  offset?: number;
}

/**
 * Counts the document's nodes from its tokens before it is built: the lexer holds one token
 * at a time, so a file of millions of tiny nodes is refused without building any. Every
 * token that can stand for a node is counted (scalars, aliases, collection and item
 * markers), so the count is an upper bound.
 */
export function countYamlTokens(text: string, max = MAX_YAML_NODES, maxAliases = MAX_YAML_ALIASES): YamlLimitProblem | undefined {
  let nodes = 0;
  let aliases = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    const first = token[0];
    if (first === '\x1f' || first === '*' || token === '[' || token === '{' || token === '-' || token === ',' || token === ':' || token === '?') {
      if (++nodes > max) return { message: `more than ${max} YAML nodes (keys, values and items), the most a file may hold`, offset };
    }
    if (first === '*' && ++aliases > maxAliases) return { message: `more than ${maxAliases} aliases, the most a file may hold`, offset };
    // Control tokens (document, scalar and flow markers) take no room in the text.
    if (first !== '\x02' && first !== '\x18' && first !== '\x1f') offset += token.length;
  }
  return undefined;
}

/**
 * The document's size with every alias expanded, which is what converting and validating
 * it costs: a few aliases of aliases (the "billion laughs") expand exponentially. Each
 * anchored node is measured once, so this is linear in the document as written. An alias
 * inside the node it names (a cycle) is refused too: nothing downstream can walk it.
 */
export function checkAliasExpansion(doc: Document, max = MAX_YAML_NODES): YamlLimitProblem | undefined {
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  // An alias names the last node before it with that anchor: the walk below is in document
  // order, so this map holds exactly that (yaml's own lookup scans the document per alias).
  const anchors = new Map<string, Node>();
  let problem: YamlLimitProblem | undefined;
  const fail = (node: Node, message: string): number => {
    problem ??= { message, ...(node.range ? { offset: node.range[0] } : {}) };
    return Infinity;
  };
  let total = 0;
  const size = (node: unknown): number => {
    if (problem) return Infinity;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return 1; // an unknown anchor is the parser's error, reported already
      if (open.has(target)) return fail(node, `alias *${node.source} is inside the node it names`);
      const n = size(target);
      total += n;
      if (total > max) return fail(node, `aliases expand the document past ${max} YAML nodes, the most a file may hold`);
      return n;
    }
    if (isPair(node)) return size(node.key) + size(node.value);
    if (isScalar(node)) {
      if (node.anchor) anchors.set(node.anchor, node);
      return 1;
    }
    if (isCollection(node)) {
      const known = sizes.get(node);
      if (known !== undefined) return known;
      if (node.anchor) anchors.set(node.anchor, node);
      open.add(node);
      let n = 1;
      for (const item of node.items) n += size(item);
      open.delete(node);
      sizes.set(node, n);
      return n;
    }
    return node == null ? 0 : 1;
  };
  size(doc.contents);
  return problem;
}
