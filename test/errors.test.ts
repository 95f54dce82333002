/**
 * A StellaError that re-wraps a caught error keeps it as `cause`: the one-line message is for
 * users, the cause is what a developer needs (an errno, an SQLite code, a parser's reason).
 * Checked on real re-wraps across the library, and by a scan of src/ for catch blocks that
 * build a new StellaError without passing the caught error on.
 */
import { createRequire } from 'node:module';
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { fail, failureOf, StellaError } from '../src/errors.js';
import { parsePublicKey } from '../src/crypto.js';
import { buildPolicy } from '../src/verify/policy.js';
import { literalPattern } from '../src/verify/identity-pattern.js';
import { parseJsonStrict } from '../src/util/json.js';
import { readFileBounded } from '../src/util/fs.js';
import { storeErrorFrom } from '../src/trust/store/errors.js';
import { parseTrustedRoot } from '../src/trust/trusted-root.js';
import { parseEnvelope } from '../src/bundle/dsse.js';
import { PROJECT_ROOT } from './helpers/paths.js';

function thrown(fn: () => unknown): StellaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StellaError) return e;
    throw e;
  }
  throw new Error('expected a StellaError, nothing was thrown');
}

// src/verify/identity-pattern.ts loads re2js with require() on first use (start-up cost), so
// the class its errors are instances of is the CommonJS one, not the ESM import's.
const { RE2JSSyntaxException } = createRequire(import.meta.url)('re2js') as typeof import('re2js');

test('fail() passes { cause } through; without it there is no cause', (t) => {
  const original = new RangeError('the original');
  const e = thrown(() => fail('INPUT_INVALID', 'input', 'wrapped', { k: 1 }, { cause: original }));
  t.is(e.cause, original);
  t.deepEqual(e.details, { k: 1 });
  t.false('cause' in thrown(() => fail('INPUT_INVALID', 'input', 'plain')));
});

test('re-wrapped errors keep their cause: file, key, regex, JSON, trusted root, DSSE', (t) => {
  const missing = thrown(() =>
    readFileBounded(path.join(PROJECT_ROOT, 'no-such-file.json'), {
      what: '--file',
      maxBytes: 1024,
    }),
  );
  t.is(missing.code, 'INPUT_INVALID');
  t.is((missing.cause as NodeJS.ErrnoException).code, 'ENOENT');

  const key = thrown(() =>
    parsePublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', '--key'),
  );
  t.true(key.cause instanceof Error, 'the node:crypto error behind "not a valid public key"');

  const regex = thrown(() =>
    buildPolicy({ certificateIdentity: '(unclosed', certificateOidcIssuer: 'https://issuer.test' }),
  );
  t.true(
    regex.cause instanceof RE2JSSyntaxException,
    're2js\'s syntax error behind "not a valid RE2 regular expression"',
  );
  // The message keeps RE2's reason ("missing closing )") and the offending text.
  t.regex(
    regex.message,
    new RegExp(
      `${literalPattern((regex.cause as InstanceType<typeof RE2JSSyntaxException>).error)}: \`\\(unclosed\`$`,
    ),
  );

  const json = thrown(() =>
    parseJsonStrict('{"a":', { what: 'test input', maxBytes: 100, maxDepth: 4 }),
  );
  t.is(json.code, 'BUNDLE_MALFORMED');
  t.true(json.cause instanceof SyntaxError);

  const root = thrown(() =>
    parseTrustedRoot(
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [
          {
            baseUrl: 'https://l.test',
            hashAlgorithm: 'SHA2_256',
            publicKey: {
              rawBytes: 'AAAA',
              keyDetails: 'PKIX_ECDSA_P256_SHA_256',
              validFor: { start: '2025-01-01T00:00:00Z' },
            },
            logId: { keyId: 'AAAA' },
          },
        ],
      }),
    ),
  );
  t.is(root.code, 'TRUSTED_ROOT_INVALID');
  t.true(root.cause instanceof Error, root.message);

  const dsse = thrown(() => parseEnvelope('{not json'));
  t.is(dsse.code, 'DSSE_INVALID');
  t.true(dsse.cause instanceof SyntaxError);
});

test('an SQLite failure mapped to a store code keeps the SQLite error', (t) => {
  const sqlite = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  const busy = storeErrorFrom(sqlite, '/tmp/x.db');
  t.is(busy.code, 'STORE_BUSY');
  t.is(busy.cause, sqlite);
  const corrupt = storeErrorFrom(
    Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }),
    '/tmp/x.db',
  );
  t.is(corrupt.code, 'STORE_CORRUPT');
  t.is((corrupt.cause as { code: string }).code, 'SQLITE_NOTADB');
});

// --- a scan of src/: no catch block builds a StellaError without the caught error ----------

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

/** `fail(...)` and `new StellaError(...)` calls lexically inside a catch block that pass no cause. */
function causelessRewraps(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const inCatch = (n: ts.Node): void => {
    if (
      (ts.isCallExpression(n) || ts.isNewExpression(n)) &&
      ['fail', 'StellaError'].includes(n.expression.getText(sf))
    ) {
      const args = n.arguments ?? ts.factory.createNodeArray();
      const last = args[args.length - 1];
      const passesCause =
        args.length === 5 && last !== undefined && /\bcause\b/.test(last.getText(sf));
      if (!passesCause)
        found.push(
          `${path.relative(PROJECT_ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${n.getText(sf).slice(0, 100)}`,
        );
    }
    ts.forEachChild(n, inCatch);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isCatchClause(n)) ts.forEachChild(n.block, inCatch);
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

test('src/: every fail(...) or new StellaError(...) inside a catch block passes { cause }', (t) => {
  const files = [...sourceFiles(path.join(PROJECT_ROOT, 'src'))];
  t.true(files.length > 50);
  t.deepEqual(files.flatMap(causelessRewraps), []);
  // The scan can fail: a causeless re-wrap written here is found.
  const probe = path.join(PROJECT_ROOT, 'test', 'fixtures', 'errors', 'causeless-rewrap.ts.txt');
  t.is(causelessRewraps(probe).length, 2);
});

test('failureOf: a StellaError as its own fields; anything else an internal error with exit 1', (t) => {
  const e = new StellaError('IDENTITY_MISMATCH', 'policy', 'no identity matched');
  t.deepEqual(failureOf(e), {
    code: 'IDENTITY_MISMATCH',
    check: 'policy',
    message: 'no identity matched',
    exitCode: e.exitCode,
  });
  t.not(e.exitCode, 1);
  t.deepEqual(failureOf(new TypeError('x is undefined')), {
    code: 'INTERNAL',
    check: 'internal',
    message: 'x is undefined',
    exitCode: 1,
  });
  t.is(failureOf('thrown text').message, 'thrown text');
});

test('reworded: the same code and check in new words, details kept unless replaced, the original as cause', (t) => {
  const e = new StellaError('SCT_INVALID', 'sct', 'no CT log verifies it', { logId: 'ab' });
  const r = e.reworded(`while signing: ${e.message}`);
  t.is(r.code, 'SCT_INVALID');
  t.is(r.check, 'sct');
  t.is(r.message, 'while signing: no CT log verifies it');
  t.deepEqual(r.details, { logId: 'ab' });
  t.is(r.cause, e);
  t.is(r.exitCode, e.exitCode);
  t.deepEqual(e.reworded('x', { key: 'k' }).details, { key: 'k' });
  t.is(new StellaError('INPUT_INVALID', 'input', 'm').reworded('n').details, undefined);
});
