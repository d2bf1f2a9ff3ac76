// Where JSON text breaks RFC 8259's grammar: the first offending position, with line and column,
// for a 400 message a client can act on. V8's JSON.parse messages leave the position out for some
// errors, so this scanner re-reads text that JSON.parse rejected. Iterative: no recursion on depth.

/** Where and why JSON text is invalid; `position` counts UTF-16 code units from 0. */
export interface JsonSyntaxError {
  position: number;
  line: number;
  column: number;
  reason: string;
}

const enum Expect {
  Value,
  Key,
  After,
}
const ARRAY = 0;
const OBJECT = 1;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;

function describe(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const code = text.charCodeAt(i);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
  return `'${String.fromCodePoint(text.codePointAt(i)!)}'`;
}

/** The index after the string starting at `i` (a '"'), or a reason with its position. */
function scanString(text: string, i: number): number | { at: number; reason: string } {
  for (i++; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return { at: i, reason: `unescaped ${describe(text, i)} in a string` };
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { at: i, reason: 'bad \\u escape in a string' };
        i += 5;
      } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
        i++;
      } else {
        return { at: i, reason: 'bad escape in a string' };
      }
    }
  }
  return { at: text.length, reason: 'unterminated string' };
}

function at(text: string, position: number, reason: string): JsonSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { position, line, column: position - lineStart + 1, reason };
}

/** The first syntax error in `text`, or null when it is valid JSON (RFC 8259 §2). */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const stack: number[] = [];
  let i = 0;
  let expect = Expect.Value;
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  for (;;) {
    skipSpace();
    if (expect === Expect.Value) {
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        skipSpace();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          expect = Expect.After;
        } else {
          stack.push(c === '{' ? OBJECT : ARRAY);
          expect = c === '{' ? Expect.Key : Expect.Value;
        }
        continue;
      }
      if (c === '"') {
        const end = scanString(text, i);
        if (typeof end !== 'number') return at(text, end.at, end.reason);
        i = end;
        expect = Expect.After;
        continue;
      }
      NUMBER.lastIndex = i;
      LITERAL.lastIndex = i;
      if ((c === '-' || (c !== undefined && c >= '0' && c <= '9')) && NUMBER.test(text)) {
        i = NUMBER.lastIndex;
        expect = Expect.After;
        continue;
      }
      if (LITERAL.test(text)) {
        i = LITERAL.lastIndex;
        expect = Expect.After;
        continue;
      }
      return at(text, i, `unexpected ${describe(text, i)}, expected a value`);
    }
    if (expect === Expect.Key) {
      if (text[i] !== '"') return at(text, i, `unexpected ${describe(text, i)}, expected a property name in double quotes`);
      const end = scanString(text, i);
      if (typeof end !== 'number') return at(text, end.at, end.reason);
      i = end;
      skipSpace();
      if (text[i] !== ':') return at(text, i, `unexpected ${describe(text, i)}, expected ':' after a property name`);
      i++;
      expect = Expect.Value;
      continue;
    }
    // Expect.After: a complete value.
    if (stack.length === 0) {
      return i < text.length ? at(text, i, `unexpected ${describe(text, i)} after the JSON value`) : null;
    }
    const top = stack[stack.length - 1];
    const close = top === OBJECT ? '}' : ']';
    if (text[i] === ',') {
      i++;
      expect = top === OBJECT ? Expect.Key : Expect.Value;
    } else if (text[i] === close) {
      i++;
      stack.pop();
    } else {
      return at(text, i, `unexpected ${describe(text, i)}, expected ',' or '${close}'`);
    }
  }
}
