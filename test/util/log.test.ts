/**
 * Log levels and redaction: the level in force (explicit, then STELLAOPS_LOG_LEVEL, then warn)
 * and what `redact` keeps out of every log line whatever a caller passed: JWTs, PEM private
 * keys (whole or cut short), Basic and Bearer credentials.
 */
import test from 'ava';
import { currentLogLevel, isLogLevel, LOG_LEVELS, redact } from '../../src/util/log.js';
import { capturedOutput } from '../helpers/output.js';
import { textsOf } from '../helpers/random-text.js';

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

test('a JWT is redacted wherever it sits, whatever its header JSON starts with', (t) => {
  const jwt = `${b64url({ alg: 'ES256', kid: 'k' })}.${b64url({ sub: 'repo:o/r' })}.c2ln-_bmF0`;
  t.true(jwt.startsWith('eyJ'));
  t.is(redact(`token ${jwt} sent`), 'token <token redacted> sent');
  t.is(redact(`id_token=${jwt}&x=1`), 'id_token=<token redacted>&x=1');
  // Legal JSON headers with whitespace first encode as ey… without the J.
  for (const header of ['{ "alg": "RS256" }', '{\n"alg":"RS256"}']) {
    const spaced = `${Buffer.from(header).toString('base64url')}.${b64url({ sub: 's' })}.sig`;
    t.false(spaced.startsWith('eyJ'), header);
    t.is(redact(`t ${spaced}`), 't <token redacted>', header);
  }
  // The shortest JOSE header there is.
  const shortest = `${b64url({ alg: 'x' })}.${b64url({ sub: 's' })}.sig`;
  t.is(b64url({ alg: 'x' }).length, 15);
  t.is(redact(shortest), '<token redacted>');
  // An unsigned JWT (empty signature part) too.
  t.is(redact(`${b64url({ alg: 'none' })}.${b64url({ sub: 's' })}.`), '<token redacted>');
});

/** The pattern the token scan replaced, for the equivalence test. */
const REPLACED_TOKEN_RE = /\b(?:ey|ew)[A-Za-z0-9_-]{13,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

test('JWTs are found where the replaced pattern found them, in linear time', (t) => {
  const pieces = [
    'ey',
    'ew',
    'eyJhbGciOiJFUzI1NiJ9',
    'abcdefghijklmn',
    'a',
    '-',
    '_',
    '.',
    '.ab',
    '.ab.',
    ' ',
    'x',
    'é',
  ];
  for (const text of textsOf(pieces, 5000, 10)) {
    t.is(redact(text), text.replace(REPLACED_TOKEN_RE, '<token redacted>'), JSON.stringify(text));
  }
  // "ey-" again and again: every "ey" starts a try of the replaced pattern, which ran to the
  // end of the text each time (100 KB: ~8 s). These are 300 KB.
  const run = 'ey-'.repeat(100_000);
  t.is(redact(run), run);
  const jwt = `${b64url({ alg: 'ES256' })}.${b64url({ sub: 's' })}.sig`;
  // One segment from the first "ey": the token is redacted from there, as before.
  t.is(redact(`${run}${jwt} after`), '<token redacted> after');
  t.is(redact(`${run} ${jwt}`), `${run} <token redacted>`);
});

test('PEM private keys of any kind are redacted, also when the END line is missing', (t) => {
  for (const label of [
    'PRIVATE KEY',
    'EC PRIVATE KEY',
    'RSA PRIVATE KEY',
    'ENCRYPTED PRIVATE KEY',
  ]) {
    const pem = `-----BEGIN ${label}-----\nMIGHAgEAMBMGByqGSM49\nAgEGCCqGSM49AwEH\n-----END ${label}-----`;
    t.is(redact(`key:\n${pem}\nafter`), 'key:\n<private key redacted>\nafter', label);
    t.is(redact(`cut: -----BEGIN ${label}-----\nMIGHAgEAMBMG`), 'cut: <private key redacted>');
  }
  const two = ['A', 'B'].map((x) => `-----BEGIN PRIVATE KEY-----\n${x}\n-----END PRIVATE KEY-----`);
  t.is(
    redact(`${two[0]} between ${two[1]}`),
    '<private key redacted> between <private key redacted>',
  );
  // Public keys and certificates are not secrets.
  const pub = '-----BEGIN PUBLIC KEY-----\nMFkwEwYH\n-----END PUBLIC KEY-----';
  t.is(redact(pub), pub);
});

test('Basic and Bearer credentials are redacted in any case; the scheme stays', (t) => {
  t.is(redact('Authorization: Bearer abc.DEF-123_~+/='), 'Authorization: Bearer <redacted>');
  t.is(redact('authorization: basic dXNlcjpwYXNz'), 'authorization: basic <redacted>');
  t.is(redact('BEARER x and Basic y'), 'BEARER <redacted> and Basic <redacted>');
  // Redacting too much is the safe side: a word after "basic" in prose goes too.
  t.is(redact('a basic check'), 'a basic <redacted>');
});

test('text with no secret is unchanged', (t) => {
  for (const s of [
    '',
    'POST http://127.0.0.1:3000/api/v2/signingCert -> 201 (3 ms)',
    'sha256:' + 'ab'.repeat(32),
    'eyJ alone is not a token',
    'GET https://eyes.example.org/v2/ -> 200; ewr.example.com.a',
  ]) {
    t.is(redact(s), s);
  }
});

test('the level: STELLAOPS_LOG_LEVEL read trimmed and in any case; empty or absent is warn without a word; another value said once', async (t) => {
  const quiet = await capturedOutput(() => [
    currentLogLevel({ STELLAOPS_LOG_LEVEL: '' }),
    currentLogLevel({}),
  ]);
  t.deepEqual(quiet.value, ['warn', 'warn']);
  t.is(quiet.stderr.toString(), '', 'empty or absent is the default, not a mistake');
  const bad = await capturedOutput(() => [
    currentLogLevel({ STELLAOPS_LOG_LEVEL: 'loud' }),
    currentLogLevel({ STELLAOPS_LOG_LEVEL: 'louder' }),
  ]);
  t.deepEqual(bad.value, ['warn', 'warn']);
  t.is(
    bad.stderr.toString(),
    'warning: STELLAOPS_LOG_LEVEL="loud" is not one of error, warn, info, debug; using warn\n',
    'said once',
  );
  t.deepEqual([...LOG_LEVELS], ['error', 'warn', 'info', 'debug']);
  t.is(currentLogLevel({}), 'warn');
  t.is(currentLogLevel({ STELLAOPS_LOG_LEVEL: '' }), 'warn');
  t.is(currentLogLevel({ STELLAOPS_LOG_LEVEL: '  ' }), 'warn');
  t.is(currentLogLevel({ STELLAOPS_LOG_LEVEL: ' DEBUG ' }), 'debug');
  t.is(currentLogLevel({ STELLAOPS_LOG_LEVEL: 'error' }), 'error');
  t.true(isLogLevel('info'));
  t.false(isLogLevel('INFO'));
  t.false(isLogLevel('verbose'));
});
