/**
 * Mutant generation for `npm run mutate` (scripts/mutate.ts): small, meaningful changes to one
 * TypeScript source file, found on its syntax tree, each a single text replacement. Pure: no
 * file system, no randomness except the seeded sampler.
 *
 * Operators (each names what a surviving mutant means: no test notices the change):
 *   equality          === <-> !==, == <-> !=
 *   boundary          < <-> <=, > <-> >=
 *   logical           && <-> ||
 *   negation-removed  !x -> x
 *   condition-negated if (c) -> if (!(c))
 *   throw-removed     throw x; -> ;
 *   fail-removed      fail(...) / a local never-returning helper call -> ;  (also `return fail(...)`)
 *   returns-true      return <expr> -> return true, in a function declared `: boolean`
 *   early-exit-dropped if (c) return/continue/break ...; (no else) -> removed
 */
import ts from 'typescript';

export type Operator =
  | 'equality'
  | 'boundary'
  | 'logical'
  | 'negation-removed'
  | 'condition-negated'
  | 'throw-removed'
  | 'fail-removed'
  | 'returns-true'
  | 'early-exit-dropped';

export interface Mutant {
  /** Stable id within the file: `<line>:<column>:<operator>[#n]`. */
  id: string;
  operator: Operator;
  /** 1-based line and column of the replaced text. */
  line: number;
  column: number;
  start: number;
  end: number;
  original: string;
  replacement: string;
}

const SWAP: Partial<Record<ts.SyntaxKind, [Operator, string]>> = {
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: ['equality', '!=='],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: ['equality', '==='],
  [ts.SyntaxKind.EqualsEqualsToken]: ['equality', '!='],
  [ts.SyntaxKind.ExclamationEqualsToken]: ['equality', '=='],
  [ts.SyntaxKind.LessThanToken]: ['boundary', '<='],
  [ts.SyntaxKind.LessThanEqualsToken]: ['boundary', '<'],
  [ts.SyntaxKind.GreaterThanToken]: ['boundary', '>='],
  [ts.SyntaxKind.GreaterThanEqualsToken]: ['boundary', '>'],
  [ts.SyntaxKind.AmpersandAmpersandToken]: ['logical', '||'],
  [ts.SyntaxKind.BarBarToken]: ['logical', '&&'],
};

/** Helpers that throw instead of returning: `fail` (src/errors.ts) and any `: never` function declared in the file. */
function neverReturning(sf: ts.SourceFile): Set<string> {
  const names = new Set(['fail']);
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name && n.type?.kind === ts.SyntaxKind.NeverKeyword)
      names.add(n.name.text);
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.initializer &&
      (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer)) &&
      n.initializer.type?.kind === ts.SyntaxKind.NeverKeyword
    ) {
      names.add(n.name.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return names;
}

function isNeverCall(e: ts.Expression | undefined, names: Set<string>): boolean {
  return (
    !!e && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && names.has(e.expression.text)
  );
}

/** The innermost function-like node around `n`. */
function enclosingFunction(n: ts.Node): ts.SignatureDeclaration | undefined {
  for (let p = n.parent; p; p = p.parent) if (ts.isFunctionLike(p)) return p;
  return undefined;
}

function isEarlyExit(s: ts.Statement): boolean {
  if (ts.isReturnStatement(s) || ts.isContinueStatement(s) || ts.isBreakStatement(s)) return true;
  return ts.isBlock(s) && s.statements.length === 1 && isEarlyExit(s.statements[0]!);
}

/** Every mutant of `text` (a TypeScript module), in source order. */
export function generateMutants(fileName: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const never = neverReturning(sf);
  const out: Omit<Mutant, 'id' | 'line' | 'column'>[] = [];
  const add = (operator: Operator, start: number, end: number, replacement: string): void => {
    out.push({ operator, start, end, original: text.slice(start, end), replacement });
  };

  const visit = (n: ts.Node): void => {
    if (ts.isBinaryExpression(n)) {
      const swap = SWAP[n.operatorToken.kind];
      if (swap) add(swap[0], n.operatorToken.getStart(sf), n.operatorToken.getEnd(), swap[1]);
    } else if (ts.isPrefixUnaryExpression(n) && n.operator === ts.SyntaxKind.ExclamationToken) {
      // `!!x` is a coercion, not a check: mutate the outer `!` only once.
      if (!(
        ts.isPrefixUnaryExpression(n.parent) && n.parent.operator === ts.SyntaxKind.ExclamationToken
      ))
        add('negation-removed', n.getStart(sf), n.operand.getStart(sf), '');
    } else if (ts.isIfStatement(n)) {
      const c = n.expression;
      // `if (!x)` negated is `if (x)`: negation-removed already makes that mutant.
      if (!(ts.isPrefixUnaryExpression(c) && c.operator === ts.SyntaxKind.ExclamationToken))
        add('condition-negated', c.getStart(sf), c.getEnd(), `!(${c.getText(sf)})`);
      if (!n.elseStatement && isEarlyExit(n.thenStatement))
        add('early-exit-dropped', n.getStart(sf), n.getEnd(), ';');
    } else if (ts.isThrowStatement(n)) {
      add('throw-removed', n.getStart(sf), n.getEnd(), ';');
    } else if (ts.isExpressionStatement(n) && isNeverCall(n.expression, never)) {
      add('fail-removed', n.getStart(sf), n.getEnd(), ';');
    } else if (ts.isReturnStatement(n) && isNeverCall(n.expression, never)) {
      add('fail-removed', n.getStart(sf), n.getEnd(), ';');
    } else if (ts.isReturnStatement(n) && n.expression) {
      const f = enclosingFunction(n);
      const e = n.expression;
      if (f?.type?.kind === ts.SyntaxKind.BooleanKeyword && e.kind !== ts.SyntaxKind.TrueKeyword)
        add('returns-true', e.getStart(sf), e.getEnd(), 'true');
    }
    // A concise arrow body declared `: boolean` (`(x): boolean => check(x)`) is a return too.
    if (
      ts.isArrowFunction(n) &&
      n.type?.kind === ts.SyntaxKind.BooleanKeyword &&
      !ts.isBlock(n.body) &&
      n.body.kind !== ts.SyntaxKind.TrueKeyword
    ) {
      add('returns-true', n.body.getStart(sf), n.body.getEnd(), 'true');
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);

  out.sort((a, b) => a.start - b.start || a.end - b.end || a.operator.localeCompare(b.operator));
  const seen = new Map<string, number>();
  return out.map((m) => {
    const { line, character } = sf.getLineAndCharacterOfPosition(m.start);
    const key = `${line + 1}:${character + 1}:${m.operator}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return { ...m, id: n ? `${key}#${n}` : key, line: line + 1, column: character + 1 };
  });
}

/** The source with one mutant applied. */
export function applyMutant(text: string, m: Mutant): string {
  if (text.slice(m.start, m.end) !== m.original)
    throw new Error(`mutant ${m.id} does not match the source`);
  return text.slice(0, m.start) + m.replacement + text.slice(m.end);
}

/** Deterministic PRNG (mulberry32) from a string seed. */
export function seededRandom(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) {
    h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** At most `max` of `mutants`, chosen by a seeded shuffle, returned in source order. */
export function sampleMutants(mutants: Mutant[], max: number, seed: string): Mutant[] {
  if (mutants.length <= max) return mutants;
  const rnd = seededRandom(seed);
  const idx = mutants.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, max)
    .sort((a, b) => a - b)
    .map((i) => mutants[i]!);
}

/** A one-line diff of the mutated line, for reports. */
export function mutantDiff(text: string, m: Mutant): { before: string; after: string } {
  const lineStart = text.lastIndexOf('\n', m.start - 1) + 1;
  const endAt = text.indexOf('\n', m.end);
  const lineEnd = endAt < 0 ? text.length : endAt;
  const before = text.slice(lineStart, lineEnd);
  const after = text.slice(lineStart, m.start) + m.replacement + text.slice(m.end, lineEnd);
  return { before: before.trim(), after: after.trim() };
}
