/**
 * Fuzz target for the signer configuration file (`--config signer.yaml`, the seed's
 * `etc/signer.yaml`): `parseSignerConfig` must refuse every mistake as CONFIG_INVALID naming its
 * key and line, and what it accepts must survive a round trip through `renderSignerConfig`
 * (the writer the sandbox uses): the config written back parses to the same settings.
 *
 * Seeds: the guide's file (test/fixtures/sign/signer.yaml), the README's file that uses every
 * key, and one that names a signing config instead of the service URLs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSignerConfig, renderSignerConfig, type SignerConfig } from '../../src/sign/config.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import type { FuzzTarget, IterationResult } from './harness.js';
import { attemptSync } from './oracle.js';
import { refusedOnlyAs, yamlDocumentTarget } from './targets.js';

const EVERY_KEY = `signer:
  signing:
    mode: "keyless"
    keyless:
      enabled: true
      fulcio:
        url: "https://fulcio.example"
        timeout: 1m30s
        retries: 3
      rekor:
        url: "https://rekor.example"
        timeout: 500ms
        retries: 0
        majorApiVersion: 2
      tsa:
        url: "https://tsa.example/api/v1/timestamp"
        timeout: 30s
        retries: 5
      trustedRoot: "trusted_root.json"
      oidc:
        issuer: "https://authority.internal"
        clientId: "sigstore"
        useAmbientToken: false
      algorithms:
        preferred: "Ed25519"
        allowed: ["ECDSA_P256", "Ed25519"]
      certificate:
        rootBundlePath: "roots/fulcio.pem"
        validateChain: true
        requireSCT: false
`;

const VIA_SIGNING_CONFIG = `signer:
  signing:
    keyless:
      signingConfig: "../etc/signing_config.json"
      fulcio:
        timeout: 2m
      tsa:
        retries: 1
      algorithms:
        allowed:
          - ECDSA_P256
`;

export const SIGNER_CONFIG_SEEDS: readonly { name: string; text: string }[] = [
  {
    name: 'signer/guide',
    text: readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'sign', 'signer.yaml'), 'utf8'),
  },
  { name: 'signer/every-key', text: EVERY_KEY },
  { name: 'signer/signing-config', text: VIA_SIGNING_CONFIG },
];

/** Values at the edges of what each key takes, and YAML's own corners. */
const SIGNER_VALUES = [
  '0ms',
  '1ms',
  '-1s',
  '1.5s',
  '30',
  '1h1h',
  '9007199254740993ms',
  '99999999999h',
  '1m30s ',
  '"30s"',
  '-1',
  '2',
  '65536',
  '1e3',
  '0x10',
  '3.0',
  'yes',
  'True',
  '"true"',
  '~',
  '""',
  '"http://fulcio.example"',
  '"https://user:pw@fulcio.example"',
  '"https://fulcio.example/path?q#f"',
  '"file:///etc/passwd"',
  '"https://fulcio.example\\u0000x"',
  '"ECDSA_P384"',
  '"ed25519"',
  '["Ed25519"]',
  '[]',
  '[ECDSA_P256, ECDSA_P256]',
  '{ url: "https://x" }',
  '/absolute/path.pem',
  '"../../../../etc/shadow"',
  '&a 1',
  '*a',
  '!!str 30s',
  '!!binary aGVsbG8=',
  '"caf\\u0065\\u0301"',
  'keyless',
  '"offline"',
];

/** The settings a round trip keeps: everything but where the file was, and what render leaves out on purpose. */
function settings(c: SignerConfig): unknown {
  const viaSigningConfig = c.signingConfigPath !== undefined;
  return {
    ...c,
    source: undefined,
    // With a signing config the URLs come from it: render leaves them out, and parsing the
    // result gives the defaults back.
    fulcio: { ...c.fulcio, url: viaSigningConfig ? undefined : c.fulcio.url },
    rekor: {
      ...c.rekor,
      url: viaSigningConfig ? undefined : c.rekor.url,
      majorApiVersion: viaSigningConfig ? undefined : (c.rekor.majorApiVersion ?? 1),
      // Render always writes rekor.url (when it writes URLs), so it is explicit after.
      explicit: undefined,
    },
    tsa: { ...c.tsa, url: viaSigningConfig ? undefined : c.tsa.url },
  };
}

export function judgeSignerConfig(text: string): IterationResult {
  const source = '/work/etc/signer.yaml';
  const r = attemptSync(() => parseSignerConfig(text, source));
  if (r.kind !== 'ok')
    return refusedOnlyAs(r, 'CONFIG_INVALID', 'a signer config', text, 'parseSignerConfig');
  const written = renderSignerConfig(r.value);
  const back = attemptSync(() => parseSignerConfig(written, source));
  if (back.kind !== 'ok')
    return {
      kind: 'failure',
      problem: `the config written back does not parse: ${back.kind === 'refused' ? back.code : String((back as { error?: unknown }).error)}\n${written}`,
      input: text,
    };
  if (JSON.stringify(settings(back.value)) !== JSON.stringify(settings(r.value)))
    return {
      kind: 'failure',
      problem: `the config written back parses to other settings:\n${JSON.stringify(settings(r.value))}\n${JSON.stringify(settings(back.value))}`,
      input: text,
    };
  return { kind: 'accepted', by: 'round trip' };
}

export function signerConfigTarget(defaultIterations: number): FuzzTarget {
  return yamlDocumentTarget(
    'signer-config',
    SIGNER_CONFIG_SEEDS,
    SIGNER_VALUES,
    judgeSignerConfig,
    defaultIterations,
  );
}
