// YAML nested too deep is refused before it is parsed.
//
// Why before: the `yaml` package (2.9.1) composes nested collections recursively, and when that overflows the stack
// (a few hundred levels) it catches the RangeError and carries on at the exhausted stack. A regular expression
// compiled there (V8 compiles one to native code the second time it runs) overflows inside V8's regexp compiler,
// which is not an exception but a fatal "RegExpCompiler Allocation failed - process out of memory" that kills the
// process: two such requests took the gateway down (found by its fuzz test).
// `yaml.parse('['.repeat(1000) + ']'.repeat(1000))` twice reproduces it in a bare Node 20.
//
// The depth is measured with the same package's lexer and CST parser, which keep their nesting in an array (no
// recursion), and stop at the first level too many: cheap for any text, exact for every YAML form (flow
// collections, indentation, `- - -`).
import { Lexer, Parser } from 'yaml';

/** Deepest nesting of collections a definition may have (the gateway's limit for JSON bodies too). */
export const MAX_DEFINITION_DEPTH = 100;

/** The CST stack holds the document (and a scalar being read) besides the collections. */
const STACK_ABOVE_COLLECTIONS = 2;

/** Where YAML text first nests deeper than `max` collections (a character offset into the text), or undefined. */
export function yamlTooDeepAt(text: string, max = MAX_DEFINITION_DEPTH): number | undefined {
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    for (const _token of parser.next(lexeme)) {
      // completed documents: only the depth matters here
    }
    if (parser.stack.length > max + STACK_ABOVE_COLLECTIONS) return parser.stack.at(-1)?.offset ?? 0;
  }
  return undefined;
}

/** 1-based line and column of an offset, for messages. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
