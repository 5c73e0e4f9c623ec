/**
 * Patterns that give each device of a template its own identity: `{n}` is the device's
 * number within its template (from `start`), with an optional offset and format:
 *
 *   {n}        7          {n:4}  / {n:04}   0007
 *   {n:x}      1f         {n:06x}           00001f      {n:04X}  001F
 *   {n+100}    107        {n+0x10:02x}      17
 *
 * Text without `{` is a literal; `{{` and `}}` stand for single braces.
 */

export interface NamePattern {
  /** True when the pattern mentions {n}: a template with count > 1 needs that for unique ids. */
  readonly varies: boolean;
  format(n: number): string;
}

type Part = string | { offset: number; width: number; radix: 10 | 16; upper: boolean };

const FIELD = /^n(?:\+(0x[0-9a-fA-F]+|\d+))?(?::(0?)(\d{1,2})?([xX])?)?$/;

/** Parses a pattern; throws a RangeError naming the bad field. */
export function parseNamePattern(text: string): NamePattern {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c;
      i++;
      continue;
    }
    if (c === '}') throw new RangeError(`unmatched "}" at character ${i + 1} (write "}}" for a brace)`);
    if (c !== '{') {
      literal += c;
      continue;
    }
    const end = text.indexOf('}', i);
    if (end < 0) throw new RangeError(`unclosed "{" at character ${i + 1}`);
    const field = text.slice(i + 1, end);
    const m = FIELD.exec(field);
    if (!m) throw new RangeError(`"{${field}}" is not a number field: use {n}, {n:04}, {n:06x} or {n+K}`);
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ offset: m[1] ? Number(m[1]) : 0, width: m[3] ? Number(m[3]) : 0, radix: m[4] ? 16 : 10, upper: m[4] === 'X' });
    i = end;
  }
  if (literal) parts.push(literal);
  return {
    varies: parts.some((p) => typeof p !== 'string'),
    format: (n) =>
      parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const digits = (n + p.offset).toString(p.radix);
          return (p.upper ? digits.toUpperCase() : digits).padStart(p.width, '0');
        })
        .join(''),
  };
}

/**
 * A MAC address from a pattern: whatever the separators, the result must be 12 hex
 * digits, and it is written as ONIE's EEPROM tools print it (xx:xx:xx:xx:xx:xx), so
 * `52:54:00:{n:06x}` and `5254.00{n:02x}.{n+1:04x}` both work.
 */
export function formatMac(pattern: NamePattern, n: number): string {
  const text = pattern.format(n);
  const hex = text.replace(/[:.-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new RangeError(`device ${n} gets MAC "${text}", which is not 12 hex digits`);
  return hex.match(/../g)!.join(':');
}
