/**
 * `attest inspect`'s description of a bundle (src/verify/inspect.ts), read in process from the
 * samples: what it says of the signer depends on which kind of verification material the
 * bundle carries. The command's own output is tested in test/commands/attest/identity-seed.test.ts.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseBundle } from '../../src/bundle/parse.js';
import { describeBundle, describeLines } from '../../src/verify/inspect.js';
import { SAMPLES } from '../helpers/samples.js';
import { craftLeaf } from '../helpers/crafted-bundles.js';
import { testAuthority } from '../helpers/authority-bundles.js';

const sample = (file: string) => parseBundle(readFileSync(path.join(SAMPLES, file)));

test('a key bundle is described by its public key hint, a certificate bundle by its certificate', (t) => {
  const keyed = describeBundle(sample('managed-key.sigstore.json'));
  t.is(keyed.publicKeyHint, 'ZD1nzMIBz+m0LXFaIoxMulUl2YBXEujWcY05iHChQRQ=');
  t.is(keyed.certificate, undefined);
  t.true(describeLines(keyed, false).includes(`Public key hint: ${keyed.publicKeyHint}`));

  const certified = describeBundle(sample('blob.sigstore.json'));
  t.false('publicKeyHint' in certified, 'no hint field at all, so --json has none');
  t.is(
    certified.certificate?.san[0],
    'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
  );
  t.false(describeLines(certified, false).some((l) => l.startsWith('Public key hint')));
  t.deepEqual(certified.problems, []);
});

test('a message signature names its digest; one that carries none (the field is optional) has no digest line', (t) => {
  const j = JSON.parse(readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8')) as {
    messageSignature: { messageDigest?: { algorithm: string; digest: string } };
  };
  const hex = Buffer.from(j.messageSignature.messageDigest!.digest, 'base64').toString('hex');
  const described = describeBundle(parseBundle(JSON.stringify(j)));
  t.is(described.messageDigest, `SHA2_256:${hex}`);
  t.true(describeLines(described, false).includes(`Message digest: SHA2_256:${hex}`));
  delete j.messageSignature.messageDigest;
  const without = describeBundle(parseBundle(JSON.stringify(j)));
  t.false('messageDigest' in without, 'no field at all, so --json has none');
  t.false(describeLines(without, false).some((l) => l.startsWith('Message digest')));
});

test('a DSSE bundle names its payload type, and its predicate type only when the payload is an in-toto statement', (t) => {
  const lines = describeLines(describeBundle(sample('attestation.sigstore.json')), false);
  t.true(lines.includes('DSSE payload type: application/vnd.in-toto+json'));
  t.true(lines.includes('Predicate type: https://slsa.dev/provenance/v1'));

  const j = JSON.parse(readFileSync(path.join(SAMPLES, 'attestation.sigstore.json'), 'utf8')) as {
    dsseEnvelope: { payload: string; payloadType: string };
  };
  j.dsseEnvelope.payloadType = 'text/plain';
  j.dsseEnvelope.payload = Buffer.from('not a statement').toString('base64');
  const plain = describeLines(describeBundle(parseBundle(JSON.stringify(j))), false);
  t.true(plain.includes('DSSE payload type: text/plain'));
  t.false(
    plain.some((l) => l.startsWith('Predicate type')),
    'no "Predicate type: undefined" line',
  );
});

test('the log entries: one line each, or "none" for a bundle without any', (t) => {
  const logged = describeLines(describeBundle(sample('blob.sigstore.json')), false);
  t.is(logged.filter((l) => l.startsWith('Transparency log entr')).length, 1);
  t.true(logged.some((l) => l.startsWith('Transparency log entry: index ')));
  t.false(logged.includes('Transparency log entries: none'));

  const j = JSON.parse(readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8')) as {
    verificationMaterial: { tlogEntries: unknown[] };
  };
  j.verificationMaterial.tlogEntries = [];
  const unlogged = describeLines(describeBundle(parseBundle(JSON.stringify(j))), false);
  t.deepEqual(
    unlogged.filter((l) => l.startsWith('Transparency log entr')),
    ['Transparency log entries: none'],
  );
});

test('a log entry with no integrated time (0: a Rekor v2 entry) shows none, never 1970', (t) => {
  const j = JSON.parse(readFileSync(path.join(SAMPLES, 'blob.sigstore.json'), 'utf8')) as {
    verificationMaterial: { tlogEntries: { integratedTime: string }[] };
  };
  const logged = describeBundle(parseBundle(JSON.stringify(j)));
  t.regex(logged.tlogEntries[0]?.integratedTime ?? '', /^20\d\d-/);
  j.verificationMaterial.tlogEntries[0]!.integratedTime = '0';
  const v2 = describeBundle(parseBundle(JSON.stringify(j)));
  t.is(v2.tlogEntries[0]?.integratedTime, undefined);
  const line = describeLines(v2, false).find((l) => l.startsWith('Transparency log entry: '));
  t.truthy(line);
  t.notRegex(line ?? '', /1970/);
});

test('a certificate without embedded SCTs: no SCT lines and no problem noted', (t) => {
  const blob = parseBundle(readFileSync(path.join(SAMPLES, 'blob.sigstore.json')));
  const leaf = craftLeaf(testAuthority('inspect-no-sct'), {
    label: 'inspect-no-sct',
    notBefore: Date.UTC(2025, 5, 1),
    sctTime: null,
  });
  const bundle = {
    ...blob,
    verificationMaterial: {
      ...blob.verificationMaterial,
      content: { kind: 'certificate' as const, certificate: leaf.der },
    },
  };
  const d = describeBundle(bundle);
  t.deepEqual(d.certificate?.scts, []);
  t.deepEqual(d.problems, []);
  t.false(describeLines(d, false).some((l) => l.startsWith('SCT') || l.startsWith('note:')));
});

test('RFC 3161 timestamps: a line with their count when the bundle has any, none otherwise', (t) => {
  const timed = describeLines(describeBundle(sample('rekor-v2.sigstore.json')), false);
  t.deepEqual(
    timed.filter((l) => l.startsWith('RFC 3161')),
    ['RFC 3161 timestamps: 1'],
  );
  const untimed = describeLines(describeBundle(sample('blob.sigstore.json')), false);
  t.false(
    untimed.some((l) => l.startsWith('RFC 3161')),
    'no "RFC 3161 timestamps: 0" line',
  );
});
