/**
 * After signing, the entry is in the log whatever happens next: keepSignature writes the bundle
 * and keeps it in the attestation store, tries both when one fails, and its error says where
 * the signature survived (or that it survived nowhere but the log).
 */
import test from 'ava';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as stores from '../../../src/store/attestations.js';
import { StellaError } from '../../../src/errors.js';
import { keepSignature, type Keeping } from '../../../src/commands/attest/sign-run.js';
import type { SignResult } from '../../../src/sign/sign.js';
import { sha256 } from '../../../src/crypto.js';
import { toHex } from '../../../src/util/encoding.js';
import { PROJECT_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/temp.js';
import { literalPattern } from '../../../src/verify/identity-pattern.js';

const SAMPLES = path.join(PROJECT_ROOT, 'samples');
const bundleJson = readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8');
const artifactDigest = `sha256:${toHex(sha256(readFileSync(path.join(SAMPLES, 'artifact.txt'))))}`;
const LOGGED = 'the signature is logged (Rekor https://rekor.example, index 7, UUID ab)';
const LOGGED_PATTERN = literalPattern(LOGGED);

function keeping(outputPath: string, storePath: string | undefined): Keeping {
  const result = {
    bundleJson,
    artifactDigest,
    contentKind: 'messageSignature',
    predicateType: undefined,
    identity:
      'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
    issuer: 'https://oidc.stella.invalid',
    rekor: { uuid: 'ab', logIndex: 7, integratedTime: 1 },
  } as unknown as SignResult;
  return { result, outputPath, storePath, logged: LOGGED };
}

const kept = (storePath: string) => {
  const s = stores.AttestationStore.open(storePath, 'read');
  try {
    return s.findBundlesByDigest(artifactDigest).length;
  } finally {
    s.close();
  }
};

test('both places written: the bundle file and the store (opened now)', (t) => {
  const dir = tempDir(t, 'stella-keep-');
  const out = path.join(dir, 'b.sigstore.json');
  const storePath = path.join(dir, 'attestations.db');
  keepSignature(keeping(out, storePath), stores, undefined);
  t.is(readFileSync(out, 'utf8'), bundleJson);
  t.is(kept(storePath), 1);
});

test('the bundle cannot be written: the store keeps it, and the error says how to get it back', (t) => {
  const dir = tempDir(t, 'stella-keep-');
  const out = path.join(dir, 'missing-folder', 'b.sigstore.json');
  const storePath = path.join(dir, 'attestations.db');
  const e = t.throws(() => keepSignature(keeping(out, storePath), stores, undefined), {
    instanceOf: StellaError,
  });
  t.regex(
    e.message,
    new RegExp(
      `; ${LOGGED_PATTERN}: it was kept in the attestation store .*attestations\\.db: recover it with \`stella attest export-bundle --attestation-store .*attestations\\.db --artifact ${artifactDigest} --output FILE\\.tar\`$`,
    ),
  );
  t.like(e.details, { logIndex: 7, uuid: 'ab', attestationStore: storePath });
  t.is(kept(storePath), 1);
  // Without a store: kept nowhere but the log, and said so.
  const none = t.throws(() => keepSignature(keeping(out, undefined), stores, undefined), {
    instanceOf: StellaError,
  });
  t.regex(none.message, /: it was not kept anywhere$/);
  t.like(none.details, { attestationStore: null });
});

test("the store cannot keep it: the store's error, reworded to say the entry is logged and where the bundle is", (t) => {
  const dir = tempDir(t, 'stella-keep-');
  const out = path.join(dir, 'b.sigstore.json');
  const notAStore = path.join(dir, 'notes.txt');
  writeFileSync(notAStore, 'not a database, and long enough to have a header: '.repeat(4));
  const e = t.throws(() => keepSignature(keeping(out, notAStore), stores, undefined), {
    instanceOf: StellaError,
  });
  t.is(e.check, 'attestation-store', e.message);
  t.regex(e.message, new RegExp(`; ${LOGGED_PATTERN}: the bundle is in .*b\\.sigstore\\.json$`));
  t.like(e.details, { logIndex: 7, uuid: 'ab', bundle: out });
  t.is(readFileSync(out, 'utf8'), bundleJson, 'the bundle was still written');
  // Both fail: neither place, and the message names both failures.
  mkdirSync(path.join(dir, 'taken.json'));
  const both = t.throws(
    () => keepSignature(keeping(path.join(dir, 'taken.json'), notAStore), stores, undefined),
    { instanceOf: StellaError },
  );
  t.regex(both.message, /: and the bundle could not be written either \(.+\)$/);
  t.like(both.details, { bundle: null });
});

test('a fault of the code while writing is thrown as it is: not reworded as "the bundle could not be written", not swallowed', (t) => {
  const dir = tempDir(t, 'stella-keep-');
  const out = path.join(dir, 'b.sigstore.json');
  const storePath = path.join(dir, 'attestations.db');
  // A result without its JSON: writing it fails inside the writer, not in the file system.
  const broken = (storePath: string | undefined): Keeping => {
    const k = keeping(out, storePath);
    return { ...k, result: { ...k.result, bundleJson: null as unknown as string } };
  };
  const e = t.throws(() => keepSignature(broken(undefined), stores, undefined), {
    instanceOf: TypeError,
  });
  t.false(e instanceof StellaError);
  t.false(existsSync(out));
  // Nothing was kept: the store is not touched when the fault comes first.
  t.throws(() => keepSignature(broken(storePath), stores, undefined), { instanceOf: TypeError });
  t.false(existsSync(storePath));
});
