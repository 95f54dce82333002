/**
 * Step 5: the signature over the artifact (or its digest), or over the DSSE PAE; for an
 * in-toto statement the artifact must be one of its subjects (sigstore-ruby CVE-2026-31830).
 *
 * The signature's hash is the one the bundle and its log entries declare, within the allowed
 * key/hash combinations (./algorithms.ts). Subjects are matched in every digest algorithm they
 * list that Stella computes (sha256, sha384, sha512): npm provenance names a package tarball
 * by sha512 only.
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { ecPublicPointOfSpki, verifySignature } from '../crypto.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import { digestNameOf, formatDigest, hashAlgorithmOf, type DigestName } from '../util/digest.js';
import { preAuthEncoding } from '../bundle/dsse.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  matchSubject,
  parseInTotoStatement,
  type InTotoStatement,
  type SubjectMatch,
} from '../bundle/intoto.js';
import type { HashAlgorithm } from '../bundle/model.js';
import { artifactDigest, type Artifact } from './artifact.js';
import { chooseSignatureHash, type SignatureDeclarations } from './algorithms.js';
import type { VerifyInput, VerifyState } from './context.js';
import { quoted } from '../util/text.js';

export interface SignatureResult {
  content: 'messageSignature' | 'dsseEnvelope';
  digest: string;
  subject?: string;
  /** The in-toto statement's predicate type (DSSE only). */
  predicateType?: string;
  /**
   * Key type and the hash the signature verified with ("none" for pure Ed25519); `declared`:
   * the hash was named by the bundle or its log entries, not chosen by default.
   */
  algorithm: { key: string; hash: string; declared: boolean };
}

/** The log entries' declarations, with where each came from. */
function entryDeclarations(state: VerifyState): SignatureDeclarations {
  const d: SignatureDeclarations = { hashes: [], keyDetails: [] };
  for (const e of state.tlog ?? []) {
    const where = `tlog entry ${e.logIndex} (${e.kind})`;
    if (e.declared.hash) d.hashes.push({ algorithm: e.declared.hash, where });
    if (e.declared.keyDetails) d.keyDetails.push({ value: e.declared.keyDetails, where });
  }
  return d;
}

const label = (h: DigestName | null): string => h ?? 'none';

export function verifySignatureStep(input: VerifyInput, state: VerifyState): SignatureResult {
  const c = input.bundle.content;
  return c.kind === 'messageSignature'
    ? verifyMessageSignature(input, state, c)
    : verifyDsseSignature(input, state.signingKey!.key, entryDeclarations(state), c);
}

type MessageSignature = Extract<VerifyInput['bundle']['content'], { kind: 'messageSignature' }>;
type DsseEnvelope = Extract<VerifyInput['bundle']['content'], { kind: 'dsseEnvelope' }>;

/** The signature over the artifact's bytes (or, given only its digest, over that digest). */
function verifyMessageSignature(
  input: VerifyInput,
  state: VerifyState,
  c: MessageSignature,
): SignatureResult {
  const { bundle, artifact } = input;
  const signingKey = state.signingKey!;
  // Given only the digest, a certificate's EC key is used by its point (crypto-prehash.ts
  // derives the key it verifies under from it): the leaf's own key is never built.
  const key =
    (artifact.kind === 'digest' && signingKey.kind === 'certificate'
      ? ecPublicPointOfSpki(signingKey.leaf.spkiDer)
      : undefined) ?? signingKey.key;
  const declarations = entryDeclarations(state);
  if (c.messageDigest)
    declarations.hashes.unshift({
      algorithm: c.messageDigest.algorithm,
      where: "the bundle's messageDigest",
    });
  // The artifact digest's algorithm: declared by the bundle, else by the log entry; with
  // neither, an artifact given as a digest names its own, and bytes are hashed with SHA-256
  // (protobuf-specs' default, as sigstore-js reads an unset algorithm).
  const algorithm: HashAlgorithm =
    declarations.hashes[0]?.algorithm ??
    (artifact.kind === 'digest' ? artifact.algorithm : 'SHA2_256');
  const actual = artifactDigest(artifact, algorithm);
  if (!actual)
    fail(
      'ARTIFACT_MISMATCH',
      'signature',
      `artifact digest algorithm ${artifact.kind === 'digest' ? artifact.algorithm : '?'} does not match the bundle's ${algorithm}`,
    );
  if (c.messageDigest && !bytesEqual(c.messageDigest.digest, actual)) {
    fail(
      'ARTIFACT_MISMATCH',
      'signature',
      `artifact digest ${formatDigest(digestNameOf(algorithm), actual)} does not match the bundle's messageDigest ${toHex(c.messageDigest.digest)}`,
    );
  }
  // Nothing declared: the algorithm chosen above stands in as the one declaration, so the
  // signature is verified with it (as sigstore-js reads an unset algorithm), and is reported
  // as not declared.
  const defaulted = declarations.hashes.length === 0 && declarations.keyDetails.length === 0;
  if (declarations.hashes.length === 0)
    declarations.hashes.push({
      algorithm,
      where:
        artifact.kind === 'digest' ? 'the artifact digest given' : 'default (nothing declared)',
    });
  const choice = chooseSignatureHash(key, bundle.version, declarations);
  const hash = choice.candidates[0]!;
  // A bare digest is verified as a prehash signature: only ECDSA can be (pure Ed25519 needs the bytes).
  const ok =
    artifact.kind === 'digest'
      ? state.verifyPrehashed!(key, actual, c.signature)
      : verifySignature(signingKey.key, artifact.data, c.signature, hash);
  const shown = formatDigest(digestNameOf(algorithm), actual);
  if (!ok)
    fail(
      'SIGNATURE_INVALID',
      'signature',
      `signature does not verify over the artifact ${shown} (${choice.family} with ${label(hash)})`,
    );
  return {
    content: 'messageSignature',
    digest: shown,
    algorithm: { key: choice.family, hash: label(hash), declared: choice.declared && !defaulted },
  };
}

/** The DSSE signature over the envelope's PAE, then the artifact among the statement's subjects. */
function verifyDsseSignature(
  input: VerifyInput,
  key: KeyObject,
  declarations: SignatureDeclarations,
  c: DsseEnvelope,
): SignatureResult {
  const { bundle, artifact } = input;
  if (c.signatures.length !== 1)
    fail(
      'DSSE_INVALID',
      'signature',
      `DSSE envelope must carry exactly one signature, found ${c.signatures.length}`,
    );
  if (c.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    fail(
      'DSSE_INVALID',
      'signature',
      `DSSE payload type ${quoted(c.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  // Nothing in a DSSE bundle declares the hash unless a Rekor v2 entry does: then the allowed
  // hashes for the key are tried in order (the registry's, then the compatibility one), as
  // sigstore-go's compatibility verifier does.
  const choice = chooseSignatureHash(key, bundle.version, declarations);
  const pae = preAuthEncoding(c.payloadType, c.payload);
  const hash = choice.candidates.find((h) => verifySignature(key, pae, c.signatures[0]!.sig, h));
  if (hash === undefined) {
    fail(
      'SIGNATURE_INVALID',
      'signature',
      `DSSE signature does not verify over the envelope payload (${choice.family} with ${choice.candidates.map(label).join(' or ')})`,
    );
  }
  const statement = parseInTotoStatement(c.payload);
  const m = matchSubject(statement, (name) => artifactDigest(artifact, hashAlgorithmOf(name)));
  if (!m.matched) failNotASubject(artifact, statement, m);
  return {
    content: 'dsseEnvelope',
    digest: `${m.algorithm}:${m.hex}`,
    subject: m.subject.name,
    predicateType: statement.predicateType,
    algorithm: { key: choice.family, hash: label(hash), declared: choice.declared },
  };
}

/**
 * The artifact is none of the statement's subjects: BUNDLE_UNSUPPORTED when no subject lists
 * a digest Stella can compute, else ARTIFACT_MISMATCH naming what was compared.
 */
function failNotASubject(
  artifact: Artifact,
  statement: InTotoStatement,
  m: Extract<SubjectMatch, { matched: false }>,
): never {
  if (m.compared.length === 0 && m.unsupported.length === statement.subject.length) {
    const algs = [...new Set(m.unsupported.flatMap((u) => u.algorithms))].slice(0, 10);
    fail(
      'BUNDLE_UNSUPPORTED',
      'signature',
      `in-toto statement: no subject lists a digest Stella can compute (sha256, sha384, sha512); found ${algs.join(', ')}`,
    );
  }
  const given =
    artifact.kind === 'digest'
      ? formatDigest(digestNameOf(artifact.algorithm), artifact.digest)
      : m.compared
          .map((n) => formatDigest(n, artifactDigest(artifact, hashAlgorithmOf(n))!))
          .join(', ');
  const others = m.unsupported.length
    ? `; ${m.unsupported.length} subject(s) list only digests Stella cannot compute (${[...new Set(m.unsupported.flatMap((u) => u.algorithms))].slice(0, 10).join(', ')})`
    : '';
  const why =
    artifact.kind === 'digest' && m.compared.length === 0
      ? ` (no subject lists a ${digestNameOf(artifact.algorithm)} digest)`
      : '';
  return fail(
    'ARTIFACT_MISMATCH',
    'signature',
    `artifact ${given} is not a subject of the in-toto statement${why}${others}`,
  );
}
