/**
 * readPublicKeyRef: a public key as cosign's --key names one. A PEM file or env://VAR is read;
 * what needs a service or a token is refused saying what to give instead.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { StellaError } from '../../src/errors.js';
import { readPublicKeyRef } from '../../src/commands/key-ref.js';
import { FILE_LIMITS } from '../../src/util/fs.js';
import { tempDir } from '../helpers/temp.js';

const PEM = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';

function refused(t: import('ava').ExecutionContext, ref: string, message: string, env = {}): void {
  const e = t.throws(() => readPublicKeyRef(ref, '--key', env), { instanceOf: StellaError });
  t.is(e?.code, 'INPUT_INVALID', ref);
  t.is(e?.message, message, ref);
}

test('a PEM file, or env://VAR (the PEM in the environment, as cosign reads it), is the key text', (t) => {
  const file = path.join(tempDir(t, 'stella-key-ref-'), 'key.pub');
  writeFileSync(file, PEM);
  t.is(readPublicKeyRef(file, '--key', {}), PEM);
  t.is(readPublicKeyRef('env://COSIGN_PUBLIC_KEY', '--key', { COSIGN_PUBLIC_KEY: PEM }), PEM);
  // The scheme is read case-insensitively, as a URL's is; the variable's name is not.
  t.is(readPublicKeyRef('ENV://K', '--key', { K: PEM }), PEM);
  refused(t, 'env://k', '--key "env://k": $k is not set', { K: PEM });
  refused(t, 'env://K', '--key "env://K": $K is not set', { K: '' });
  refused(t, 'env://', '--key "env://": $ is not set');
  refused(
    t,
    'env://K',
    `--key "env://K": $K is larger than the ${FILE_LIMITS.keyBytes}-byte limit`,
    { K: 'x'.repeat(FILE_LIMITS.keyBytes + 1) },
  );
  t.is(
    readPublicKeyRef('env://K', '--key', { K: 'x'.repeat(FILE_LIMITS.keyBytes) }).length,
    FILE_LIMITS.keyBytes,
  );
});

test('a key behind a service or on a token is refused saying what to give; an unknown scheme too', (t) => {
  const exported = (ref: string, where: string): string =>
    `--key "${ref}" names ${where}; Stella verifies offline and fetches no key: export its public key (\`cosign public-key --key ${ref}\`) at the boundary and give the PEM file`;
  for (const [ref, where] of [
    ['awskms:///arn:aws:kms:us-east-1:1:key/k', 'a key in AWS KMS'],
    ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', 'a key in Google Cloud KMS'],
    ['azurekms://vault.vault.azure.net/k', 'a key in Azure Key Vault'],
    ['hashivault://k', 'a key in HashiCorp Vault'],
    ['k8s://ns/secret', 'a key in a Kubernetes secret'],
    ['gitlab://group/project', 'a key in a GitLab project variable'],
  ])
    refused(t, ref!, exported(ref!, where!));
  refused(
    t,
    'pkcs11:token=t;object=k',
    exported('pkcs11:token=t;object=k', 'a key on a PKCS#11 token'),
  );
  for (const url of ['https://example.com/cosign.pub', 'HTTP://example.com/cosign.pub'])
    refused(
      t,
      url,
      `--key "${url}" names a key at a URL; Stella verifies offline and fetches no key: download it at the boundary and give the PEM file`,
    );
  refused(
    t,
    'ftp://example.com/k',
    '--key "ftp://example.com/k": unrecognized key reference scheme ftp://; give a PEM file or env://VAR',
  );
  // A path that only contains "://" later is a path.
  const e = t.throws(() => readPublicKeyRef('./a://b', '--key', {}), { instanceOf: StellaError });
  t.regex(e?.message ?? '', /no such file/);
});
