/**
 * The mutant generator behind `npm run mutate` (scripts/mutants.ts): each operator finds what
 * it should on a small source, applying a mutant changes exactly that text, and sampling is
 * deterministic for a seed.
 */
import test from 'ava';
import {
  applyMutant,
  generateMutants,
  mutantDiff,
  sampleMutants,
  type Operator,
} from '../../scripts/mutants.js';

const SOURCE = `import { fail } from '../errors.js';
function refuse(why: string): never {
  throw new Error(why);
}
export function check(a: number, b: number, ok: boolean): number {
  if (a === b && ok) return 0;
  if (!ok) fail('INPUT_INVALID', 'input', 'not ok');
  for (const x of [a, b]) {
    if (x < 0) continue;
    if (x >= 10 || x !== b) refuse('range');
  }
  return a <= b ? 1 : 2;
}
export function valid(x: number): boolean {
  const inner = (y: number) => y > 1;
  return inner(x) && x != 3;
}
export const positive = (x: number): boolean => x > 0;
export function coerce(x: unknown): boolean {
  return !!x;
}
`;

test('each operator finds its sites, in source order, with stable ids', (t) => {
  const ms = generateMutants('x.ts', SOURCE);
  const summary = ms.map((m) => `${m.line}:${m.operator}:${m.original}->${m.replacement}`);
  t.deepEqual(summary, [
    '3:throw-removed:throw new Error(why);->;',
    '6:early-exit-dropped:if (a === b && ok) return 0;->;',
    '6:condition-negated:a === b && ok->!(a === b && ok)',
    '6:equality:===->!==',
    '6:logical:&&->||',
    '7:negation-removed:!->',
    "7:fail-removed:fail('INPUT_INVALID', 'input', 'not ok');->;",
    '9:early-exit-dropped:if (x < 0) continue;->;',
    '9:condition-negated:x < 0->!(x < 0)',
    '9:boundary:<-><=',
    '10:condition-negated:x >= 10 || x !== b->!(x >= 10 || x !== b)',
    '10:boundary:>=->>',
    '10:logical:||->&&',
    '10:equality:!==->===',
    "10:fail-removed:refuse('range');->;",
    '12:boundary:<=-><',
    '15:boundary:>->>=',
    '16:returns-true:inner(x) && x != 3->true',
    '16:logical:&&->||',
    '16:equality:!=->==',
    '18:returns-true:x > 0->true',
    '18:boundary:>->>=',
    '20:negation-removed:!->',
    '20:returns-true:!!x->true',
  ]);
  t.is(new Set(ms.map((m) => m.id)).size, ms.length, 'ids are unique');
  t.deepEqual(generateMutants('x.ts', SOURCE), ms, 'same source, same mutants');
  // Operators the issue names are all represented.
  const ops = new Set<Operator>(ms.map((m) => m.operator));
  t.is(ops.size, 9);
});

test('applying a mutant changes exactly its text; a stale mutant is refused', (t) => {
  const ms = generateMutants('x.ts', SOURCE);
  const eq = ms.find((m) => m.operator === 'equality' && m.line === 6)!;
  const mutated = applyMutant(SOURCE, eq);
  t.true(mutated.includes('if (a !== b && ok) return 0;'));
  t.is(mutated.length, SOURCE.length);
  t.deepEqual(mutantDiff(SOURCE, eq), {
    before: 'if (a === b && ok) return 0;',
    after: 'if (a !== b && ok) return 0;',
  });
  t.throws(() => applyMutant(mutated, eq), { message: /does not match the source/ });
});

test('sampling is deterministic for a seed, differs across seeds, keeps source order', (t) => {
  const ms = generateMutants('x.ts', SOURCE);
  const a = sampleMutants(ms, 5, 'seed-1');
  t.is(a.length, 5);
  t.deepEqual(sampleMutants(ms, 5, 'seed-1'), a);
  t.notDeepEqual(
    sampleMutants(ms, 5, 'seed-2').map((m) => m.id),
    a.map((m) => m.id),
  );
  t.deepEqual(
    [...a].sort((x, y) => x.start - y.start),
    a,
  );
  t.is(sampleMutants(ms, 100, 'seed-1'), ms, 'fewer mutants than the cap: all of them');
});
