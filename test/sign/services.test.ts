/**
 * planServices from signer.yaml's keys and the command's overrides (signing configs are in
 * signing-config.test.ts), and which plans need a trust root to check their answers.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  defaultSignerConfig,
  PUBLIC_GOOD_FULCIO_URL,
  PUBLIC_GOOD_REKOR_URL,
} from '../../src/sign/config.js';
import { parseSigningConfig, renderSigningConfig } from '../../src/sign/signing-config.js';
import { planNeedsTrust, planServices } from '../../src/sign/services.js';

const NOW = Date.UTC(2026, 5, 1);

function refused(t: import('ava').ExecutionContext, fn: () => unknown, code: string, why: RegExp) {
  const e = t.throws(fn, { instanceOf: StellaError });
  t.is(e.code, code as StellaError['code'], e.message);
  t.regex(e.message, why);
}

test('a private Fulcio with the default (public) Rekor is refused; an explicit Rekor, either way, is not', (t) => {
  const config = defaultSignerConfig();
  config.fulcio.url = 'https://fulcio.internal.example';
  refused(
    t,
    () => planServices(config, undefined, {}, NOW),
    'CONFIG_INVALID',
    /a private Fulcio \(https:\/\/fulcio\.internal\.example\) needs an explicit Rekor URL/,
  );
  refused(
    t,
    () => planServices(defaultSignerConfig(), undefined, { fulcioUrl: 'https://f.example/' }, NOW),
    'CONFIG_INVALID',
    /a private Fulcio \(https:\/\/f\.example\) needs an explicit Rekor URL/,
  );
  // rekor.url written in signer.yaml, even as the public one: meant.
  const explicit = defaultSignerConfig();
  explicit.fulcio.url = 'https://fulcio.internal.example';
  explicit.rekor.explicit = true;
  t.is(planServices(explicit, undefined, {}, NOW).rekor[0]!.url, PUBLIC_GOOD_REKOR_URL);
  // --rekor-url, even as the public one: meant.
  t.is(
    planServices(config, undefined, { rekorUrl: `${PUBLIC_GOOD_REKOR_URL}/` }, NOW).rekor[0]!.url,
    PUBLIC_GOOD_REKOR_URL,
  );
  // Another Rekor: no question.
  t.is(
    planServices(config, undefined, { rekorUrl: 'https://rekor.internal.example' }, NOW).rekor[0]!
      .url,
    'https://rekor.internal.example',
  );
  // The public Fulcio with the public Rekor: the defaults.
  const plan = planServices(defaultSignerConfig(), undefined, {}, NOW);
  t.is(plan.fulcio.url, PUBLIC_GOOD_FULCIO_URL);
  t.is(plan.rekor[0]!.url, PUBLIC_GOOD_REKOR_URL);
});

test('--fulcio-url and --rekor-url cannot be combined with a signing config', (t) => {
  const sc = parseSigningConfig(
    renderSigningConfig({
      caUrls: [
        { url: 'https://f.example', majorApiVersion: 1, validFor: { start: 0 }, operator: 'x' },
      ],
      oidcUrls: [],
      rekorTlogUrls: [
        { url: 'https://r.example', majorApiVersion: 1, validFor: { start: 0 }, operator: 'x' },
      ],
      rekorTlogConfig: { selector: 'ANY' },
      tsaUrls: [],
      tsaConfig: { selector: 'ANY' },
    }),
    'sc.json',
  );
  t.is(planServices(defaultSignerConfig(), sc, {}, NOW).rekor[0]!.url, 'https://r.example');
  for (const o of [{ fulcioUrl: 'https://x.example' }, { rekorUrl: 'https://x.example' }])
    refused(
      t,
      () => planServices(defaultSignerConfig(), sc, o, NOW),
      'INPUT_INVALID',
      /--fulcio-url and --rekor-url cannot be combined with a signing config/,
    );
});

test('planNeedsTrust: a TSA or a Rekor v2 log needs a trust root; Rekor v1 alone does not', (t) => {
  const config = defaultSignerConfig();
  t.false(planNeedsTrust(planServices(config, undefined, {}, NOW)));
  config.tsa.url = 'https://tsa.example';
  t.true(planNeedsTrust(planServices(config, undefined, {}, NOW)));
  config.rekor.majorApiVersion = 2;
  config.rekor.explicit = true;
  t.true(planNeedsTrust(planServices(config, undefined, {}, NOW)));
  // Rekor v2 without a TSA has no time to check anything at: refused in the plan.
  config.tsa.url = undefined;
  refused(
    t,
    () => planServices(config, undefined, {}, NOW),
    'CONFIG_INVALID',
    /Rekor v2 gives no signed entry timestamp: signer.yaml needs tsa.url/,
  );
});
