/**
 * Which hash a bundle signature is made with, and which key/hash combinations Stella accepts.
 *
 * The hash is what the bundle and its log entries DECLARE — the message digest's algorithm,
 * a hashedrekord entry's digest algorithm, a Rekor v2 verifier's keyDetails — never an
 * assumption from the key's curve; every declaration must agree (a P-384 key signing a
 * SHA-256 digest says SHA2_256 in the bundle and sha256 in the entry). Where nothing is
 * declared (a DSSE envelope logged to Rekor v1) the allowed hashes for the key are tried in
 * order, as sigstore-go does.
 *
 * The allowed combinations are protobuf-specs' PublicKeyDetails / the Sigstore algorithm
 * registry (sigstore/sigstore pkg/signature/algorithm_registry.go) that clients verify today:
 * the registry's pairs, plus the deprecated P-384/P-521 with SHA-256 that sigstore-go accepts
 * on purpose for bundles v0.1–v0.3 (pkg/verify signed_entity.go enableCompat: "old clients
 * used SHA256 for ECDSA P384/P521"). Every bundle version Stella reads is ≤ v0.3.
 * Not supported: Ed25519ph, RSA-PSS, LMS, ML-DSA (Node 20 cannot verify them, or no peer
 * signs with them for bundles).
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { namedCurveOf, type EcPublicKey } from '../crypto.js';
import type { BundleVersion, HashAlgorithm } from '../bundle/model.js';
import { digestNameOf, type DigestName } from '../util/digest.js';
import { quoted } from '../util/text.js';

export type KeyFamily = 'ECDSA P-256' | 'ECDSA P-384' | 'ECDSA P-521' | 'Ed25519' | 'RSA';

export interface SignatureAlgorithm {
  family: KeyFamily;
  /** The signature's hash; null for pure Ed25519. */
  hash: DigestName | null;
  /** protobuf-specs PublicKeyDetails name(s). */
  keyDetails: readonly string[];
  /** Accepted for compatibility only (bundles v0.1–v0.3), as sigstore-go does. */
  compat: boolean;
}

/** In preference order per family: the registry pair first, then the compatibility one. */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  { family: 'ECDSA P-256', hash: 'sha256', keyDetails: ['PKIX_ECDSA_P256_SHA_256'], compat: false },
  { family: 'ECDSA P-384', hash: 'sha384', keyDetails: ['PKIX_ECDSA_P384_SHA_384'], compat: false },
  { family: 'ECDSA P-384', hash: 'sha256', keyDetails: ['PKIX_ECDSA_P384_SHA_256'], compat: true },
  { family: 'ECDSA P-521', hash: 'sha512', keyDetails: ['PKIX_ECDSA_P521_SHA_512'], compat: false },
  { family: 'ECDSA P-521', hash: 'sha256', keyDetails: ['PKIX_ECDSA_P521_SHA_256'], compat: true },
  { family: 'Ed25519', hash: null, keyDetails: ['PKIX_ED25519'], compat: false },
  {
    family: 'RSA',
    hash: 'sha256',
    keyDetails: [
      'PKIX_RSA_PKCS1V15_2048_SHA256',
      'PKIX_RSA_PKCS1V15_3072_SHA256',
      'PKIX_RSA_PKCS1V15_4096_SHA256',
    ],
    compat: false,
  },
];

const COMPAT_VERSIONS: ReadonlySet<BundleVersion> = new Set(['0.1', '0.2', '0.3']);

/** Reading asymmetricKeyDetails crosses into C++ each time; trust keys are asked per bundle. */
const familyMemo = new WeakMap<KeyObject, KeyFamily | null>();

/** The family of a key, or of an EC key known by its curve and point (not yet built). */
export function keyFamily(key: EcPublicKey): KeyFamily | undefined {
  if ('point' in key) return familyOfCurve(key.curve);
  let f = familyMemo.get(key);
  if (f === undefined) familyMemo.set(key, (f = familyOf(key) ?? null));
  return f ?? undefined;
}

function familyOf(key: KeyObject): KeyFamily | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return familyOfCurve(namedCurveOf(key));
    case 'ed25519':
      return 'Ed25519';
    case 'rsa':
      return 'RSA';
    default:
      return undefined;
  }
}

function familyOfCurve(curve: string | undefined): KeyFamily | undefined {
  return curve === 'prime256v1'
    ? 'ECDSA P-256'
    : curve === 'secp384r1'
      ? 'ECDSA P-384'
      : curve === 'secp521r1'
        ? 'ECDSA P-521'
        : undefined;
}

const hashLabel = (h: DigestName | null): string =>
  h === null ? 'no hash (pure Ed25519)' : h.toUpperCase().replace('SHA', 'SHA-');

/** What the bundle and its log entries say about the signature. */
export interface SignatureDeclarations {
  /** Hash algorithms declared, each with where it was declared (for messages). */
  hashes: { algorithm: HashAlgorithm; where: string }[];
  /** Rekor v2 verifier keyDetails, each with where. */
  keyDetails: { value: string; where: string }[];
}

export interface SignatureHashChoice {
  family: KeyFamily;
  /** Hashes to try, in order (one when something was declared). */
  candidates: (DigestName | null)[];
  /** Whether the hash came from a declaration rather than the key's allowed list. */
  declared: boolean;
}

/**
 * The hash(es) the signature may be verified with. Refuses, with BUNDLE_UNSUPPORTED, a key or a
 * key/hash combination outside SIGNATURE_ALGORITHMS, and, with TLOG_BODY_MISMATCH,
 * declarations that disagree with each other or with the key.
 */
export function chooseSignatureHash(
  key: EcPublicKey,
  version: BundleVersion,
  d: SignatureDeclarations,
): SignatureHashChoice {
  const family = keyFamily(key);
  if (!family) {
    const what =
      'point' in key
        ? `ECDSA ${key.curve}`
        : key.asymmetricKeyType === 'ec'
          ? `ECDSA ${String(namedCurveOf(key))}`
          : String(key.asymmetricKeyType);
    fail(
      'BUNDLE_UNSUPPORTED',
      'signature',
      `signing key type ${what} is not supported (supported: ECDSA P-256/P-384/P-521, Ed25519, RSA)`,
    );
  }
  const allowed = SIGNATURE_ALGORITHMS.filter(
    (a) => a.family === family && (!a.compat || COMPAT_VERSIONS.has(version)),
  );
  const allowedText = allowed.map((a) => hashLabel(a.hash)).join(', ');

  const declared: { hash: DigestName | null; where: string }[] = [];
  for (const k of d.keyDetails) {
    const a = SIGNATURE_ALGORITHMS.find((x) => x.keyDetails.includes(k.value));
    if (!a)
      fail(
        'BUNDLE_UNSUPPORTED',
        'signature',
        `${k.where} declares keyDetails ${quoted(k.value, 60)}, which Stella does not support`,
      );
    if (a.family !== family)
      fail(
        'TLOG_BODY_MISMATCH',
        'tlog',
        `${k.where} declares keyDetails ${k.value}, but the signing key is ${family}`,
      );
    declared.push({ hash: a.hash, where: `${k.where} (keyDetails ${k.value})` });
  }
  // For Ed25519 a message digest names the artifact's digest, not a signature hash: pure
  // Ed25519 signs the bytes themselves.
  if (family !== 'Ed25519')
    for (const h of d.hashes) declared.push({ hash: digestNameOf(h.algorithm), where: h.where });

  const first = declared[0];
  if (!first) return { family, candidates: allowed.map((a) => a.hash), declared: false };
  const other = declared.find((x) => x.hash !== first.hash);
  if (other)
    fail(
      'TLOG_BODY_MISMATCH',
      'tlog',
      `the signature hash is declared twice and differently: ${hashLabel(first.hash)} by ${first.where}, ${hashLabel(other.hash)} by ${other.where}`,
    );
  if (!allowed.some((a) => a.hash === first.hash)) {
    fail(
      'BUNDLE_UNSUPPORTED',
      'signature',
      `${family} with ${hashLabel(first.hash)} (declared by ${first.where}) is not an allowed signature algorithm; allowed for ${family}: ${allowedText}`,
    );
  }
  return { family, candidates: [first.hash], declared: true };
}
