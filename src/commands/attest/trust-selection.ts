/**
 * Which trust a command checks against, the one rule for `attest verify` (a bundle, an archive,
 * a shipment), `attest import`, `export-bundle` and `attest sign`: a trusted_root.json named by
 * the command (--trusted-root, or signer.yaml's trustedRoot), else the local trust store when
 * one exists (or is named), else the embedded public-good root.
 *
 * cosign picks its trust from environment variables too (SIGSTORE_ROOT_FILE and the rest,
 * cosign's pkg/cosign/env). Stella reads none of them: its trust is named on the command line
 * or kept, with its history, in the store. A cosign user who has one set would otherwise not
 * learn that it changed nothing, and would meet a chain or log-key failure with no hint why; so
 * when the trust was not named, a variable whose file holds anything this run does not trust
 * gets a warning that says what to do instead. A site that imported the same roots into the
 * store, and keeps the variable for cosign, hears nothing.
 */
import { createPublicKey } from 'node:crypto';
import { failureOf } from '../../errors.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { publicGoodTrustedRootPath } from '../../trust/public-good.js';
import { parseTrustedRoot, TRUSTED_ROOT_LIMITS } from '../../trust/trusted-root.js';
import { bytesEqual } from '../../util/encoding.js';
import { FILE_LIMITS, readFileBounded, readTextFileBounded } from '../../util/fs.js';
import { pemToDerList } from '../../util/pem.js';
import { withoutTrailing } from '../../util/text.js';

export const EMBEDDED_TRUST_SOURCE = 'embedded public-good trusted root';

/** cosign's default TUF mirror: the public good's, whose trusted root is the embedded one. */
const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** A trusted_root.json file, read within its limit and parsed strictly. */
export function readTrustedRoot(path: string, what: string): TrustMaterial {
  return parseTrustedRoot(
    readFileBounded(path, {
      what,
      maxBytes: TRUSTED_ROOT_LIMITS.maxBytes,
      limitCode: 'TRUSTED_ROOT_INVALID',
    }),
  );
}

export interface TrustSelectionOptions {
  /** A trusted_root.json the command names. */
  trustedRootPath?: string | undefined;
  /** How the command names it, for messages. Default "--trusted-root". */
  trustedRootWhat?: string;
  /** --store */
  storePath?: string | undefined;
  /** --max-age, as typed. */
  maxAge?: string | undefined;
  now?: number | undefined;
  env?: NodeJS.ProcessEnv;
}

export interface TrustSelection {
  trust: TrustMaterial;
  source: string;
  warnings: string[];
  /** The trust store the trust came from, if it did. */
  storePath?: string | undefined;
}

/** The trust named, else the local trust store when one exists, else the embedded public-good root. */
export async function selectTrust(opts: TrustSelectionOptions): Promise<TrustSelection> {
  if (opts.trustedRootPath) {
    return {
      trust: readTrustedRoot(opts.trustedRootPath, opts.trustedRootWhat ?? '--trusted-root'),
      source: `trusted root ${opts.trustedRootPath}`,
      warnings: [],
    };
  }
  const env = opts.env ?? process.env;
  const { trustFromStoreIfPresent } = await import('../../trust/store/verify-source.js');
  const fromStore = trustFromStoreIfPresent({
    env,
    ...(opts.storePath !== undefined ? { storePath: opts.storePath } : {}),
    ...(opts.maxAge !== undefined ? { maxAge: opts.maxAge } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  const selected: TrustSelection = fromStore ?? {
    trust: readTrustedRoot(publicGoodTrustedRootPath(), EMBEDDED_TRUST_SOURCE),
    source: EMBEDDED_TRUST_SOURCE,
    warnings: [],
  };
  selected.warnings.push(...cosignTrustWarnings(env, selected.trust, selected.source));
  return selected;
}

interface CosignTrustVariable {
  name: string;
  /** What the file holds, for messages. */
  holds: string;
  label: 'CERTIFICATE' | 'PUBLIC KEY';
  /** Whether `trust` holds this block of the file (DER), in the role the variable gives it. */
  held: (trust: TrustMaterial, der: Uint8Array) => boolean;
  /** The `stella trust import` line that brings it into the store. */
  importLine: string;
}

const amongCertificates = (cas: TrustMaterial['certificateAuthorities'], der: Uint8Array) =>
  cas.some((ca) => ca.certChain.some((c) => bytesEqual(c, der)));
/** A key is compared as a key (KeyObject.equals), not by its encoding: a file may hold a point compressed. */
const amongLogKeys = (logs: TrustMaterial['tlogs'], der: Uint8Array) => {
  const key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  return logs.some((log) => log.publicKey.key.equals(key));
};

/** cosign's variables that name files of trust material (pkg/cosign/env), in cosign's order. */
const COSIGN_TRUST_VARIABLES: readonly CosignTrustVariable[] = [
  {
    name: 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE',
    holds: 'CT log public key',
    label: 'PUBLIC KEY',
    held: (trust, der) => amongLogKeys(trust.ctlogs, der),
    importLine:
      'stella trust import FILE --kind ctlog --log-url CT_LOG_URL --valid-from KEY_START_TIME',
  },
  {
    name: 'SIGSTORE_ROOT_FILE',
    holds: 'Fulcio certificate',
    label: 'CERTIFICATE',
    held: (trust, der) => amongCertificates(trust.certificateAuthorities, der),
    importLine: 'stella trust import FILE --uri FULCIO_URL',
  },
  {
    name: 'SIGSTORE_REKOR_PUBLIC_KEY',
    holds: 'Rekor public key',
    label: 'PUBLIC KEY',
    held: (trust, der) => amongLogKeys(trust.tlogs, der),
    importLine:
      'stella trust import FILE --kind tlog --log-url REKOR_URL --valid-from KEY_START_TIME',
  },
  {
    name: 'SIGSTORE_TSA_CERTIFICATE_FILE',
    holds: 'timestamp authority certificate',
    label: 'CERTIFICATE',
    held: (trust, der) => amongCertificates(trust.timestampAuthorities, der),
    importLine: 'stella trust import FILE --kind tsa --uri TSA_URL',
  },
];

/**
 * A warning for each of cosign's trust variables that is set (cosign takes an empty value as
 * unset) and names a file holding something `trust` does not hold, or a file that cannot be
 * read. `source` is where `trust` came from.
 */
export function cosignTrustWarnings(
  env: NodeJS.ProcessEnv,
  trust: TrustMaterial,
  source: string,
): string[] {
  const warnings: string[] = [];
  for (const variable of COSIGN_TRUST_VARIABLES) {
    const path = env[variable.name];
    if (!path) continue;
    const importLine = variable.importLine.replace('FILE', `"$${variable.name}"`);
    const instead = `Stella does not read cosign's trust variables; this run trusts the ${source}. To trust the file here: \`${importLine}\`, or --trusted-root with a trusted_root.json that holds it`;
    let missing: number;
    let total: number;
    try {
      const text = readTextFileBounded(path, {
        what: variable.name,
        maxBytes: FILE_LIMITS.pemBundleBytes,
      });
      const named = pemToDerList(text, variable.label, { what: variable.name });
      total = named.length;
      missing = named.filter((der) => !variable.held(trust, der)).length;
    } catch (e) {
      warnings.push(
        `${variable.name} is set, but its file cannot be read (${failureOf(e).message}). ${instead}`,
      );
      continue;
    }
    if (missing === 0) continue;
    const what = total === 1 ? `a ${variable.holds}` : `${total} ${variable.holds}s`;
    const which =
      total === 1
        ? 'it is not'
        : missing === total
          ? 'none is'
          : `${missing} ${missing === 1 ? 'is' : 'are'} not`;
    warnings.push(`${variable.name} names ${what} and ${which} trusted by this run. ${instead}`);
  }
  // A TUF repository other than the public good's is a private deployment; its trust reaches
  // Stella only as the trusted_root.json it serves. Only said when nothing was set up here.
  if (source === EMBEDDED_TRUST_SOURCE) {
    const mirror = env.TUF_MIRROR;
    if (mirror && withoutTrailing(mirror, '/') !== PUBLIC_GOOD_TUF_MIRROR) {
      warnings.push(
        `TUF_MIRROR is set, but Stella does not fetch TUF metadata; this run trusts the ${source}. For the deployment that TUF repository serves, give its trusted_root.json to --trusted-root or \`stella trust import\``,
      );
    }
  }
  return warnings;
}
