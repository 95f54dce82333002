/**
 * A public key named as cosign's `--key` names one (cosign's pkg/signature/keys.go and
 * pkg/blob/load.go): a PEM file, or `env://VAR`, the PEM in an environment variable, as CI
 * jobs pass a key from a secret. The other references cosign takes need a service (a URL, a
 * KMS, Kubernetes, GitLab) or a token (PKCS#11); Stella verifies offline, so they are refused
 * saying what to give instead, rather than "no such file".
 */
import { fail } from '../errors.js';
import { FILE_LIMITS, readTextFileBounded } from '../util/fs.js';
import { quoted } from '../util/text.js';

/** What cosign would fetch the key from, by scheme. */
const REMOTE_KEY_SCHEMES: Readonly<Record<string, string>> = {
  'http://': 'a key at a URL',
  'https://': 'a key at a URL',
  'awskms://': 'a key in AWS KMS',
  'gcpkms://': 'a key in Google Cloud KMS',
  'azurekms://': 'a key in Azure Key Vault',
  'hashivault://': 'a key in HashiCorp Vault',
  'k8s://': 'a key in a Kubernetes secret',
  'gitlab://': 'a key in a GitLab project variable',
};

const ENV_SCHEME = 'env://';

/** Where a key reference points: the PEM text of env://VAR, or a file to read. */
export type KeyRefTarget = { kind: 'env'; text: string } | { kind: 'file'; path: string };

/**
 * Resolve `ref` (`what`: the flag, for messages): env://VAR's value, checked set and within the
 * key size limit, or a path. Every other reference cosign takes is refused, after what it names
 * ("a key in AWS KMS"), with what `remote(scheme)` says to do instead.
 */
export function resolveKeyRef(
  ref: string,
  what: string,
  env: NodeJS.ProcessEnv,
  remote: (scheme: string) => string,
): KeyRefTarget {
  const named = `${what} ${quoted(ref)}`;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(ref)?.[0].toLowerCase();
  if (scheme === ENV_SCHEME) {
    const name = ref.slice(ENV_SCHEME.length);
    const value = env[name];
    if (name === '' || value === undefined || value === '')
      fail('INPUT_INVALID', 'input', `${named}: $${name} is not set`);
    if (Buffer.byteLength(value, 'utf8') > FILE_LIMITS.keyBytes)
      fail(
        'INPUT_INVALID',
        'input',
        `${named}: $${name} is larger than the ${FILE_LIMITS.keyBytes}-byte limit`,
      );
    return { kind: 'env', text: value };
  }
  if (scheme !== undefined) {
    const where = REMOTE_KEY_SCHEMES[scheme];
    fail(
      'INPUT_INVALID',
      'input',
      where === undefined
        ? `${named}: unrecognized key reference scheme ${scheme}; give a PEM file or env://VAR`
        : `${named} names ${where}; ${remote(scheme)}`,
    );
  }
  if (ref.startsWith('pkcs11:'))
    fail('INPUT_INVALID', 'input', `${named} names a key on a PKCS#11 token; ${remote('pkcs11:')}`);
  return { kind: 'file', path: ref };
}

/** The PEM text of a public key `ref` names (`what`: the flag, for messages). */
export function readPublicKeyRef(
  ref: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const offline = (how: string): string =>
    `Stella verifies offline and fetches no key: ${how} at the boundary and give the PEM file`;
  const target = resolveKeyRef(ref, what, env, (scheme) =>
    scheme.startsWith('http')
      ? offline('download it')
      : offline(`export its public key (\`cosign public-key --key ${ref}\`)`),
  );
  return target.kind === 'env'
    ? target.text
    : readTextFileBounded(target.path, { what, maxBytes: FILE_LIMITS.keyBytes });
}
