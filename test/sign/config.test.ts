import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadSignerConfig,
  parseDuration,
  parseSignerConfig,
  renderSignerConfig,
  defaultSignerConfig,
} from '../../src/sign/config.js';
import { StellaError } from '../../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/sign -> test/fixtures/sign
const fixtures = join(here, '..', '..', '..', 'test', 'fixtures', 'sign');

function configError(t: import('ava').ExecutionContext, fn: () => unknown): StellaError {
  const err = t.throws(fn) as StellaError;
  t.true(err instanceof StellaError);
  t.is(err.code, 'CONFIG_INVALID');
  return err;
}

test('the seed signer.yaml loads with every key', (t) => {
  const c = loadSignerConfig(join(fixtures, 'signer.yaml'));
  t.is(c.mode, 'keyless');
  t.is(c.fulcio.url, 'https://fulcio.sigstore.dev');
  t.is(c.fulcio.timeoutMs, 30_000);
  t.is(c.fulcio.retries, 3);
  t.is(c.oidc.issuer, 'https://authority.internal');
  t.is(c.oidc.clientId, 'signer-keyless');
  t.true(c.oidc.useAmbientToken);
  t.is(c.algorithms.preferred, 'ECDSA_P256');
  t.deepEqual(c.algorithms.allowed, ['ECDSA_P256', 'Ed25519']);
  t.is(c.certificate.rootBundlePath, '/etc/stellaops/fulcio-roots.pem');
  t.true(c.certificate.validateChain);
  t.true(c.certificate.requireSCT);
});

test("the seed's private-Fulcio config without a Rekor URL is refused: entries would go to the public Rekor", (t) => {
  const err = configError(t, () => loadSignerConfig(join(fixtures, 'signer-private.yaml')));
  t.regex(
    err.message,
    /signer\.signing\.keyless\.rekor\.url \(line 5\): missing: a private Fulcio \(https:\/\/fulcio\.internal\.example\.com\) needs an explicit Rekor URL/,
  );
  // Public Rekor named explicitly is a choice, and accepted.
  const text = readFileSync(join(fixtures, 'signer-private.yaml'), 'utf8').replace(
    '      oidc:',
    '      rekor:\n        url: "https://rekor.sigstore.dev"\n      oidc:',
  );
  t.is(parseSignerConfig(text).rekor.url, 'https://rekor.sigstore.dev');
});

test('a relative rootBundlePath resolves against the config file folder; defaults fill the rest', (t) => {
  const text = readFileSync(join(fixtures, 'signer-private.yaml'), 'utf8').replace(
    '      oidc:',
    '      rekor:\n        url: "https://rekor.internal.example.com"\n      oidc:',
  );
  const c = parseSignerConfig(text, join(fixtures, 'signer-private.yaml'));
  t.is(c.certificate.rootBundlePath, join(fixtures, 'roots', 'private-fulcio-roots.pem'));
  t.is(c.fulcio.url, 'https://fulcio.internal.example.com');
  t.is(c.fulcio.retries, 3);
  t.is(c.rekor.url, 'https://rekor.internal.example.com');
  t.is(c.rekor.retries, 3);
});

test('an unknown key (typo) is an error naming the key and its line', (t) => {
  const err = configError(t, () => loadSignerConfig(join(fixtures, 'signer-typo.yaml')));
  t.regex(err.message, /signer\.signing\.keyless\.fulcio\.retires/);
  t.regex(err.message, /line 7/);
  t.is(err.details?.line, 7);
});

test('a bad duration names the key and the line', (t) => {
  const err = configError(t, () => loadSignerConfig(join(fixtures, 'signer-bad-timeout.yaml')));
  t.regex(err.message, /signer\.signing\.keyless\.fulcio\.timeout \(line 7\)/);
});

test('an unsupported algorithm names the key and the line', (t) => {
  const err = configError(t, () => loadSignerConfig(join(fixtures, 'signer-bad-algorithm.yaml')));
  t.regex(err.message, /algorithms\.preferred \(line 6\).*RSA_2048/);
});

test('preferred outside allowed is refused', (t) => {
  const err = configError(t, () =>
    parseSignerConfig(
      'signer:\n  signing:\n    keyless:\n      algorithms:\n        preferred: Ed25519\n        allowed: [ECDSA_P256]\n',
    ),
  );
  t.regex(err.message, /Ed25519 is not in algorithms.allowed/);
});

test('wrong types, bad URLs, mode and YAML syntax errors are CONFIG_INVALID with a line', (t) => {
  let err = configError(t, () =>
    parseSignerConfig(
      'signer:\n  signing:\n    keyless:\n      fulcio:\n        retries: "three"\n',
    ),
  );
  t.regex(err.message, /fulcio\.retries \(line 5\)/);
  // A number, but not a whole one from 0 to 20: each refused by the same rule.
  for (const retries of ['1.5', '-1', '21', 'true'])
    t.regex(
      configError(t, () =>
        parseSignerConfig(
          `signer:\n  signing:\n    keyless:\n      rekor:\n        retries: ${retries}\n`,
        ),
      ).message,
      /rekor\.retries \(line 5\).*must be a whole number from 0 to 20/,
      retries,
    );
  err = configError(t, () =>
    parseSignerConfig('signer:\n  signing:\n    keyless:\n      fulcio:\n        url: "ftp://x"\n'),
  );
  t.regex(err.message, /fulcio\.url \(line 5\).*http/);
  err = configError(t, () => parseSignerConfig('signer:\n  signing:\n    mode: kms\n'));
  t.regex(err.message, /signer\.signing\.mode \(line 3\)/);
  err = configError(t, () =>
    parseSignerConfig(
      'signer:\n  signing:\n    keyless:\n      oidc:\n        useAmbientToken: maybe\n',
    ),
  );
  t.regex(err.message, /useAmbientToken \(line 5\).*true or false/);
  err = configError(t, () => parseSignerConfig('signer:\n  signing: [\n'));
  t.regex(err.message, /line \d+: not valid YAML/);
  err = configError(t, () =>
    parseSignerConfig('signer:\n  signing:\n    keyless:\n      enabled: false\n'),
  );
  t.regex(err.message, /enabled \(line 4\): keyless signing is disabled/);
  err = configError(t, () => parseSignerConfig('other: 1\n'));
  t.regex(err.message, /other \(line 1\): unknown key/);
  err = configError(t, () =>
    parseSignerConfig('signer:\n  signing:\n    mode: keyless\n    mode: keyless\n'),
  );
  t.regex(err.message, /line 4/);
});

test('a missing file is CONFIG_INVALID naming the path', (t) => {
  const err = configError(t, () => loadSignerConfig(join(fixtures, 'nope.yaml')));
  t.regex(err.message, /^signer config ".*nope\.yaml": no such file$/);
});

test('durations', (t) => {
  t.is(parseDuration('30s'), 30_000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('1m30s'), 90_000);
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('30'), undefined);
  t.is(parseDuration('s'), undefined);
  t.is(parseDuration('30s junk'), undefined);
});

test('renderSignerConfig round-trips through the parser', (t) => {
  const c = defaultSignerConfig();
  c.fulcio = { url: 'http://127.0.0.1:4000', timeoutMs: 1500, retries: 1 };
  c.rekor = { url: 'http://127.0.0.1:4000', timeoutMs: 2500, retries: 0 };
  c.oidc.issuer = 'http://127.0.0.1:4000';
  c.algorithms = { preferred: 'ECDSA_P256', allowed: ['ECDSA_P256', 'Ed25519'] };
  c.certificate.rootBundlePath = '/tmp/roots.pem';
  const back = parseSignerConfig(renderSignerConfig(c));
  t.deepEqual({ ...back, source: undefined }, { ...c, rekor: { ...c.rekor, explicit: true } });
  // The TSA's timeout and retries without a TSA url: a signing config (--signing-config) may
  // name the TSA, and they apply to it. Found by the signer-config fuzz target: they were lost.
  c.tsa = { url: undefined, timeoutMs: 4500, retries: 1 };
  const noTsaUrl = parseSignerConfig(renderSignerConfig(c));
  t.deepEqual(noTsaUrl.tsa, { url: undefined, timeoutMs: 4500, retries: 1 });
  // A TSA url is written and read back; with a signing config, which names every service, no
  // url key is written at all (the parser would refuse one beside it).
  c.tsa = { url: 'http://127.0.0.1:4000/api/v1/timestamp', timeoutMs: 4500, retries: 1 };
  t.deepEqual(parseSignerConfig(renderSignerConfig(c)).tsa, c.tsa);
  const viaSigningConfig = renderSignerConfig({
    ...c,
    signingConfigPath: '/x/signing_config.json',
  });
  t.notRegex(viaSigningConfig, /url:/);
  t.regex(viaSigningConfig, /signingConfig: "\/x\/signing_config\.json"/);
});

test('a timeout is more than zero; an empty document is "empty", any other non-mapping names what it is', (t) => {
  const withTimeout = (v: string) =>
    `signer:\n  signing:\n    keyless:\n      fulcio:\n        timeout: ${v}\n`;
  t.is(parseSignerConfig(withTimeout('1ms')).fulcio.timeoutMs, 1);
  t.is(parseSignerConfig(withTimeout('10m')).fulcio.timeoutMs, 600_000);
  for (const bad of ['0s', '0', '0ms', '10m1ms', '-1s'])
    t.regex(
      configError(t, () => parseSignerConfig(withTimeout(bad))).message,
      /fulcio\.timeout \(line 5\): must be a duration such as 30s/,
      bad,
    );
  for (const empty of ['', '# only a comment\n', '~\n', "''\n"])
    t.regex(
      configError(t, () => parseSignerConfig(empty, 'x.yaml')).message,
      /^x\.yaml: is empty: expected a signer config/,
      JSON.stringify(empty),
    );
  for (const scalar of ['hello\n', '42\n', '- a\n']) {
    const e = configError(t, () => parseSignerConfig(scalar, 'x.yaml'));
    t.notRegex(e.message, /is empty/, scalar);
    t.regex(e.message, /mapping|must be/, scalar);
  }
});
