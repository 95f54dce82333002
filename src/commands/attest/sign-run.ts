/**
 * The I/O edge of `stella attest sign`: read the config, signing config, trusted root, Fulcio
 * roots, predicate and artifact, sign (sign/sign.ts takes bytes and trust material, never
 * paths), then write the bundle (only once everything succeeded: a failed run leaves no bundle
 * behind) and keep it in the attestation store.
 *
 * Trust for checking Rekor's and the TSA's answers: --trusted-root, else signer.yaml's
 * trustedRoot; when neither is given and a TSA or a Rekor v2 log is used, the same fallback
 * as `stella attest verify`: the local trust store when one exists, else the embedded
 * public-good root.
 */
import { basename, dirname, resolve } from 'node:path';
import { fail, StellaError } from '../../errors.js';
import { logInfo } from '../../util/log.js';
import { parseJsonStrict } from '../../util/json.js';
import { looksLikeDigestReference, parseSha256Digest } from '../../util/digest.js';
import { toHex } from '../../util/encoding.js';
import {
  checkFolderCreatable,
  checkWritableTarget,
  type CommandInput,
  FILE_LIMITS,
  probeFile,
  readArtifactFile,
  readFileBounded,
  STDOUT_PATH,
  writeFileAtomic,
} from '../../util/fs.js';
import { defaultSignerConfig, loadFulcioRoots, loadSignerConfig } from '../../sign/config.js';
import { loadSigningConfig } from '../../sign/signing-config.js';
import { planNeedsTrust, planServices } from '../../sign/services.js';
import type { TrustMaterial } from '../../model/trust-material.js';
import { signArtifact, type SignInput, type SignResult } from '../../sign/sign.js';
import { identityTokenPath } from '../../sign/token.js';
import type { KeyPairGenerator } from '../../sign/keys.js';
import type { AttestationStore } from '../../store/attestations.js';
import { IMAGE_NEEDS_DIGEST } from '../../oci/reference.js';
import { resolveStorePath } from '../../trust/store/paths.js';
import { checkPredicateTypeFlag, predicateTypeURI } from '../../bundle/intoto.js';
import { selectTrust } from './trust-selection.js';
import { printWarning } from '../render.js';

export type ArtifactType = 'blob' | 'image';

export interface RunSignOptions {
  artifact: string;
  /** How errors name `artifact`: `--artifact` (the default), or `artifact` when it was the argument. */
  artifactWhat?: string;
  type?: ArtifactType;
  predicatePath?: string;
  predicateType?: string;
  identityToken?: string;
  configPath?: string;
  /** A Sigstore signing_config.json (v0.2); overrides signer.yaml's signingConfig. */
  signingConfigPath?: string;
  /** trusted_root.json to check Rekor's and the TSA's answers against; overrides signer.yaml's trustedRoot. */
  trustedRootPath?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  /** Default: <artifact file>.sigstore.json, or <hex>.sigstore.json for a digest; "-": standard output. */
  outputPath?: string;
  /** Attestation store path (flag); undefined -> env / per-user default; false -> do not store. */
  attestationStorePath?: string | false;
  env?: NodeJS.ProcessEnv;
  now?: number;
  fetchImpl?: typeof fetch;
  keyGenerator?: KeyPairGenerator;
}

export interface RunSignResult extends SignResult {
  outputPath: string;
  attestationStorePath: string | undefined;
  /** Where the trust the answers were checked against came from (undefined: not checked against a trust root). */
  trustSource: string | undefined;
  /** The signing config used, if any. */
  signingConfigPath: string | undefined;
  warnings: string[];
}

export function defaultOutputPath(artifact: string, what = '--artifact'): string {
  return looksLikeDigestReference(artifact)
    ? `${toHex(parseSha256Digest(artifact, what).digest)}.sigstore.json`
    : `${artifact}.sigstore.json`;
}

/**
 * --artifact: a sha256:<hex> digest reference (util/digest.ts), or a regular file of any size:
 * held when it fits in memory, else hashed in chunks and signed as its digest (ECDSA over the
 * SHA-256 either way: the same signature as over the bytes).
 */
function loadArtifact(ref: string, type: ArtifactType, what: string): SignInput {
  if (looksLikeDigestReference(ref))
    return { kind: 'digest', sha256: parseSha256Digest(ref, what).digest, name: ref };
  // An image reference is read by the command (oci/sign-target.ts), never here.
  if (type === 'image') fail('INPUT_INVALID', 'input', `--type image ${IMAGE_NEEDS_DIGEST}`);
  const file = readArtifactFile(ref, { what });
  return file.kind === 'digest'
    ? { kind: 'digest', sha256: file.digest, name: basename(ref) }
    : { kind: 'bytes', bytes: file.bytes, name: basename(ref) };
}

/**
 * The files the keyless signing path reads (signer.yaml and what it names, the trust store),
 * so an output is never written over one of them (checkWritableTarget's inputs).
 */
export function signingSetupInputs(
  opts: Pick<
    RunSignOptions,
    'configPath' | 'signingConfigPath' | 'trustedRootPath' | 'identityToken'
  >,
  setup: SigningSetup,
): CommandInput[] {
  return [
    { what: '--identity-token file', path: identityTokenPath(opts.identityToken) },
    { what: '--config', path: opts.configPath },
    {
      what: opts.signingConfigPath ? '--signing-config' : 'the signing config signer.yaml names',
      path: setup.signingConfigPath,
    },
    {
      what: opts.trustedRootPath ? '--trusted-root' : 'the trusted root signer.yaml names',
      path: opts.trustedRootPath ?? setup.config.trustedRootPath,
    },
    { what: 'the Fulcio roots signer.yaml names', path: setup.config.certificate.rootBundlePath },
    { what: 'the trust store', path: resolveStorePath(undefined, setup.env) },
  ];
}

/** What the keyless signing path needs before it signs: signer.yaml, the service plan, the trust to check answers against. */
export interface SigningSetup {
  config: ReturnType<typeof defaultSignerConfig>;
  plan: ReturnType<typeof planServices>;
  fulcioRoots: ReturnType<typeof loadFulcioRoots>;
  trust: TrustMaterial | undefined;
  trustSource: string | undefined;
  signingConfigPath: string | undefined;
  warnings: string[];
  env: NodeJS.ProcessEnv;
  nowMs: number;
}

/**
 * The keyless signing path's setup, shared by `attest sign` and `export-bundle --seal-keyless`:
 * signer.yaml (--config), --signing-config, URL overrides, Fulcio roots, and the trust Rekor's
 * and the TSA's answers are checked against (--trusted-root, else signer.yaml's, else the trust
 * store or the embedded public-good root when the plan needs one).
 */
export async function prepareSigning(
  opts: Pick<
    RunSignOptions,
    | 'configPath'
    | 'signingConfigPath'
    | 'trustedRootPath'
    | 'fulcioUrl'
    | 'rekorUrl'
    | 'env'
    | 'now'
  >,
): Promise<SigningSetup> {
  const env = opts.env ?? process.env;
  const config = opts.configPath ? loadSignerConfig(opts.configPath) : defaultSignerConfig();
  const signingConfigPath = opts.signingConfigPath ?? config.signingConfigPath;
  const signingConfig = signingConfigPath
    ? loadSigningConfig(
        signingConfigPath,
        opts.signingConfigPath ? '--signing-config' : 'signer config signingConfig',
      )
    : undefined;
  const nowMs = opts.now !== undefined ? opts.now * 1000 : Date.now();
  const plan = planServices(
    config,
    signingConfig,
    { fulcioUrl: opts.fulcioUrl, rekorUrl: opts.rekorUrl },
    nowMs,
  );
  const fulcioRoots = loadFulcioRoots(config);
  let trust: TrustMaterial | undefined;
  let trustSource: string | undefined;
  let warnings: string[] = [];
  const trustedRootPath = opts.trustedRootPath ?? config.trustedRootPath;
  if (trustedRootPath || planNeedsTrust(plan)) {
    ({
      trust,
      source: trustSource,
      warnings,
    } = await selectTrust({
      trustedRootPath,
      trustedRootWhat: opts.trustedRootPath ? '--trusted-root' : 'signer config trustedRoot',
      env,
      ...(opts.now !== undefined ? { now: nowMs } : {}),
    }));
  }
  return {
    config,
    plan,
    fulcioRoots,
    trust,
    trustSource,
    signingConfigPath,
    warnings,
    env,
    nowMs,
  };
}

/** --predicate and --predicate-type: a JSON object and the URI naming its type, or neither. */
function readPredicate(opts: RunSignOptions): { type: string; value: unknown } | undefined {
  if ((opts.predicatePath === undefined) !== (opts.predicateType === undefined)) {
    fail('INPUT_INVALID', 'input', '--predicate and --predicate-type go together');
  }
  if (opts.predicatePath === undefined || opts.predicateType === undefined) return undefined;
  const bytes = readFileBounded(opts.predicatePath, {
    what: '--predicate',
    maxBytes: FILE_LIMITS.predicateBytes,
  });
  const value = parseJsonStrict(bytes, {
    what: `--predicate ${opts.predicatePath}`,
    maxBytes: FILE_LIMITS.predicateBytes,
    maxDepth: 64,
    code: 'INPUT_INVALID',
    limitCode: 'INPUT_INVALID',
    check: 'input',
  });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('INPUT_INVALID', 'input', `--predicate ${opts.predicatePath}: must be a JSON object`);
  checkPredicateTypeFlag(opts.predicateType);
  return { type: predicateTypeURI(opts.predicateType), value };
}

type AttestationStores = typeof import('../../store/attestations.js');

/**
 * The attestation store the signature will be kept in, judged before the first request: an
 * existing store is opened (foreign, corrupt, too new are refused now); a missing one is
 * created only once there is something to keep, where a folder can be made.
 */
function prepareAttestationStore(
  stores: AttestationStores,
  flag: RunSignOptions['attestationStorePath'],
  env: NodeJS.ProcessEnv,
): { storePath: string | undefined; store: AttestationStore | undefined } {
  if (flag === false) return { storePath: undefined, store: undefined };
  const storePath = stores.resolveAttestationStorePath(flag, env);
  let store: AttestationStore | undefined;
  if (
    probeFile(storePath, 0, {
      what: 'attestation store',
      code: 'STORE_CORRUPT',
      check: 'attestation-store',
    }).kind === 'missing'
  ) {
    checkFolderCreatable(dirname(storePath), {
      what: 'attestation store folder',
      code: 'STORE_CORRUPT',
      check: 'attestation-store',
    });
  } else store = stores.AttestationStore.open(storePath, 'write');
  logInfo(`attestation store ${storePath} can be written`);
  return { storePath, store };
}

/** Where the signature went and what could not be kept: the logged entry is never lost silently. */
export interface Keeping {
  result: SignResult;
  outputPath: string;
  storePath: string | undefined;
  /** "the signature is logged (...)": from here on the entry exists whatever happens. */
  logged: string;
}

/**
 * Where the bundle went, for messages: the file, or standard output (`--output -`, as `trust
 * export --output -` writes its document).
 */
export function bundlePlace(outputPath: string): string {
  return outputPath === STDOUT_PATH ? 'standard output' : outputPath;
}

/** The store could not keep the signature: say where the entry and the bundle are. */
function storeFailed(e: StellaError, k: Keeping, writeError: StellaError | undefined): StellaError {
  const bundleAt = writeError
    ? `and the bundle could not be written either (${writeError.message})`
    : `the bundle is in ${bundlePlace(k.outputPath)}`;
  return e.reworded(`${e.message}; ${k.logged}: ${bundleAt}`, {
    ...e.details,
    logIndex: k.result.rekor.logIndex,
    uuid: k.result.rekor.uuid,
    bundle: writeError ? null : k.outputPath,
  });
}

/** The bundle could not be written: say where the entry is and how to recover the bundle. */
function bundleWriteFailed(writeError: StellaError, k: Keeping, kept: boolean): StellaError {
  const recover = kept
    ? `it was kept in the attestation store ${k.storePath}: recover it with \`stella attest export-bundle --attestation-store ${k.storePath} --artifact ${k.result.artifactDigest} --output FILE.tar\``
    : 'it was not kept anywhere';
  return new StellaError(
    writeError.code,
    writeError.check,
    `${writeError.message}; ${k.logged}: ${recover}`,
    {
      logIndex: k.result.rekor.logIndex,
      uuid: k.result.rekor.uuid,
      attestationStore: k.storePath ?? null,
    },
    { cause: writeError },
  );
}

/**
 * Writes the bundle and keeps it in the attestation store (opened now if it did not exist
 * before). Either may fail; both are tried, so the signature survives in one place if it can.
 */
export function keepSignature(
  k: Keeping,
  stores: AttestationStores,
  store: AttestationStore | undefined,
): void {
  let writeError: StellaError | undefined;
  try {
    // The document itself, the bytes a file would hold (data, not a message).
    if (k.outputPath === STDOUT_PATH) process.stdout.write(k.result.bundleJson);
    else writeFileAtomic(k.outputPath, k.result.bundleJson, { what: 'bundle' });
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    writeError = e;
  }
  let opened: AttestationStore | undefined;
  try {
    let kept = false;
    try {
      if (k.storePath !== undefined && !store)
        opened = stores.AttestationStore.open(k.storePath, 'write');
      const target = store ?? opened;
      target?.save({
        artifactDigest: k.result.artifactDigest,
        bundleJson: k.result.bundleJson,
        contentKind: k.result.contentKind,
        predicateType: k.result.predicateType,
        identity: k.result.identity,
        issuer: k.result.issuer,
      });
      kept = target !== undefined;
    } catch (e) {
      if (!(e instanceof StellaError)) throw e;
      throw storeFailed(e, k, writeError);
    }
    if (writeError) throw bundleWriteFailed(writeError, k, kept);
  } finally {
    opened?.close();
  }
}

export async function runSign(opts: RunSignOptions): Promise<RunSignResult> {
  const setup = await prepareSigning(opts);
  const { config, plan, fulcioRoots, trust, trustSource, signingConfigPath, warnings, env } = setup;
  const predicate = readPredicate(opts);
  const artifactWhat = opts.artifactWhat ?? '--artifact';
  const artifact = loadArtifact(opts.artifact, opts.type ?? 'blob', artifactWhat);

  // Every local output is checked before the first request: a typo in --output or a bad
  // attestation store must not leave a permanent log entry and no bundle.
  const stores = await import('../../store/attestations.js');
  const outputPath =
    opts.outputPath === STDOUT_PATH
      ? STDOUT_PATH
      : resolve(opts.outputPath ?? defaultOutputPath(opts.artifact, artifactWhat));
  if (outputPath !== STDOUT_PATH)
    checkWritableTarget(outputPath, {
      what: 'bundle (--output)',
      inputs: [
        {
          what: artifactWhat,
          path: looksLikeDigestReference(opts.artifact) ? undefined : opts.artifact,
        },
        { what: '--predicate', path: opts.predicatePath },
        {
          what: 'the attestation store',
          path:
            opts.attestationStorePath === false
              ? undefined
              : stores.resolveAttestationStorePath(opts.attestationStorePath, env),
        },
        ...signingSetupInputs(opts, setup),
      ],
    });
  logInfo(`bundle will be written to ${bundlePlace(outputPath)}`);
  const { storePath, store } = prepareAttestationStore(stores, opts.attestationStorePath, env);
  try {
    let result: SignResult;
    try {
      result = await signArtifact({
        artifact,
        predicate,
        identityToken: opts.identityToken,
        config,
        fulcioRoots,
        plan,
        ...(trust ? { trust, trustSource } : {}),
        env,
        now: opts.now,
        fetchImpl: opts.fetchImpl,
        keyGenerator: opts.keyGenerator,
      });
    } catch (e) {
      // The command prints warnings for a run that succeeds; the trust selection's (a cosign
      // trust variable naming roots this run does not trust) may be why this one failed.
      for (const w of warnings) printWarning(w);
      throw e;
    }
    warnings.push(...result.warnings);
    const logged = `the signature is logged (${result.tlog.map((e) => `${e.url} log index ${e.logIndex}`).join(', ')}${result.rekor.uuid ? `, entry ${result.rekor.uuid}` : ''})`;
    keepSignature({ result, outputPath, storePath, logged }, stores, store);
    logInfo(
      `bundle written to ${bundlePlace(outputPath)}${storePath ? ` and kept in ${storePath}` : ''}`,
    );
    return {
      ...result,
      outputPath,
      attestationStorePath: storePath,
      trustSource,
      signingConfigPath,
      warnings,
    };
  } finally {
    store?.close();
  }
}
