/**
 * The published consistency-proof vectors of transparency-dev/merkle (testdata/consistency,
 * see test/fixtures/tlog/transparency-dev-consistency/SOURCE.md) pin verifyConsistency: every
 * vector the reference implementation accepts is accepted, every one it refuses is refused.
 */
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { verifyConsistency } from '../../src/tlog/merkle.js';
import { StellaError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../helpers/paths.js';

interface Vector {
  size1: number;
  size2: number;
  root1: string | null;
  root2: string | null;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'tlog', 'transparency-dev-consistency');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return name.endsWith('.json') ? [p] : [];
  });
}

const b64 = (s: string | null): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64'));

const vectors = files(DIR).map((p) => ({
  name: path.relative(DIR, p),
  v: JSON.parse(readFileSync(p, 'utf8')) as Vector,
}));

test('every transparency-dev consistency vector is present (they are the pin)', (t) => {
  // 98 files at the recorded commit; fewer means the data was lost, not that the code passes.
  t.is(vectors.length, 98);
  t.true(vectors.some((x) => !x.v.wantErr));
  t.true(vectors.some((x) => x.v.wantErr));
});

for (const { name, v } of vectors) {
  test(`transparency-dev consistency vector ${name}: ${v.desc} (${v.wantErr ? 'refused' : 'accepted'})`, (t) => {
    const run = () =>
      verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    if (v.wantErr) {
      const err = t.throws(run, { instanceOf: StellaError });
      t.is(err?.code, 'INCLUSION_PROOF_INVALID');
    } else t.notThrows(run);
  });
}
