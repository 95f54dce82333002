/**
 * in-toto Statements (v0.1 and v1): the DSSE payload of an attestation. Parsed strictly, with
 * the subject limits from checklist B17 (sigstore-go GHSA-cq38-jh5f-37mq), and built here for
 * the signing side so both sides agree on one shape.
 */
import { StellaError, type ErrorCode } from '../errors.js';
import { toHex, utf8 } from '../util/encoding.js';
import { DIGEST_NAMES, isDigestName, type DigestName } from '../util/digest.js';
import { isPlainObject, parseJsonStrict } from '../util/json.js';
import { quoted } from '../util/text.js';
import type { BundleContent } from './model.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export const IN_TOTO_LIMITS = {
  maxSubjects: 1024,
  maxDigestsPerSubject: 32,
  maxBytes: 16 * 1024 * 1024,
  maxJsonDepth: 64,
} as const;

export interface InTotoSubject {
  name: string;
  /** Algorithm name (sha256, sha512, gitCommit, ...) -> hex digest, as in the statement. */
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: typeof IN_TOTO_STATEMENT_V1 | typeof IN_TOTO_STATEMENT_V01;
  subject: InTotoSubject[];
  predicateType: string;
  /** Predicate JSON as parsed; undefined when absent. */
  predicate: unknown;
}

/**
 * cosign's names for predicate types (`cosign attest --type`, `verify-attestation --type`),
 * as cosign maps them (cmd/cosign/cli/options/predicate.go): a user may type the name where a
 * URI is asked for, and it stands for that URI everywhere after.
 */
export const COSIGN_PREDICATE_TYPES: Readonly<Record<string, string>> = {
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  link: 'https://in-toto.io/Link/v1',
  openvex: 'https://openvex.dev/ns',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
};

/** A predicate type as a user gives it: cosign's name for one becomes its URI; anything else is kept as it is. */
export function predicateTypeURI(value: string): string {
  return Object.hasOwn(COSIGN_PREDICATE_TYPES, value) ? COSIGN_PREDICATE_TYPES[value]! : value;
}

/**
 * Why `value` cannot name a predicate type, or undefined when it can. in-toto's predicateType
 * is a URI, and a verifier compares it exactly: so no whitespace or control character (which
 * `new URL` trims or skips without a word, so " https://slsa.dev/provenance/v1" parsed) and
 * NFC, as an issuer is held.
 */
export function predicateTypeMistake(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(value))
    return 'holds whitespace or a control character';
  if (value.normalize('NFC') !== value) return 'is not in Unicode NFC';
  if (!URL.canParse(value)) return 'is not a URI';
  return undefined;
}

/**
 * The predicate type of what a bundle signs: its in-toto statement's, for a DSSE envelope of
 * in-toto payload type; undefined for a message signature or another payload type. A payload
 * that claims in-toto and is not a statement is refused as parseInTotoStatement refuses it.
 */
export function bundlePredicateType(content: BundleContent): string | undefined {
  if (content.kind !== 'dsseEnvelope' || content.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return undefined;
  return parseInTotoStatement(content.payload).predicateType;
}

/** What every refusal of a predicate type's text ends with. */
export const PREDICATE_TYPE_RULE = `a predicate type is a URI, compared exactly, or cosign's name for one (${Object.keys(COSIGN_PREDICATE_TYPES).join(', ')})`;

/** Why a predicate type a user gives (`what` names the flag) cannot be one, as a message; undefined when it can. */
export function predicateTypeFlagMistake(
  value: string,
  what = '--predicate-type',
): string | undefined {
  const mistake = predicateTypeMistake(predicateTypeURI(value));
  return mistake === undefined
    ? undefined
    : `${what} ${quoted(value)} ${mistake}: ${PREDICATE_TYPE_RULE}`;
}

/** A predicate type a user gives (`what` names the flag): INPUT_INVALID saying why it cannot be one. */
export function checkPredicateTypeFlag(value: string, what = '--predicate-type'): void {
  const mistake = predicateTypeFlagMistake(value, what);
  if (mistake !== undefined) throw new StellaError('INPUT_INVALID', 'input', mistake);
}

/** Hex lengths of the digest algorithms whose values we can check. */
const HEX_LENGTHS: Readonly<Record<string, number>> = {
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
  sha512_224: 56,
  sha512_256: 64,
  sha3_224: 56,
  sha3_256: 64,
  sha3_384: 96,
  sha3_512: 128,
};
const HEX_RE = /^[0-9a-fA-F]+$/;

function refuse(code: ErrorCode, message: string): never {
  throw new StellaError(code, 'bundle', `in-toto statement: ${message}`);
}

export function parseInTotoStatement(payload: Uint8Array): InTotoStatement {
  const doc = parseJsonStrict(payload, {
    maxDepth: IN_TOTO_LIMITS.maxJsonDepth,
    maxBytes: IN_TOTO_LIMITS.maxBytes,
    what: 'in-toto statement',
  });
  return validateStatement(doc);
}

function validateStatement(doc: unknown): InTotoStatement {
  if (!isPlainObject(doc)) return refuse('BUNDLE_MALFORMED', 'expected a JSON object');
  const type = doc._type;
  if (type !== IN_TOTO_STATEMENT_V1 && type !== IN_TOTO_STATEMENT_V01) {
    refuse('BUNDLE_UNSUPPORTED', `unsupported _type ${quoted(type ?? null, 100)}`);
  }
  const subjects = doc.subject;
  if (!Array.isArray(subjects)) return refuse('BUNDLE_MALFORMED', 'subject: expected an array');
  if (subjects.length === 0) refuse('BUNDLE_MALFORMED', 'subject is empty');
  if (subjects.length > IN_TOTO_LIMITS.maxSubjects) {
    refuse(
      'BUNDLE_LIMIT_EXCEEDED',
      `${subjects.length} subjects exceeds the limit of ${IN_TOTO_LIMITS.maxSubjects}`,
    );
  }
  const subject = new Array<InTotoSubject>(subjects.length);
  for (let i = 0; i < subjects.length; i++)
    subject[i] = validateSubject(subjects[i], `subject[${i}]`);

  const predicateType = doc.predicateType;
  if (typeof predicateType !== 'string' || predicateType === '')
    return refuse('BUNDLE_MALFORMED', 'predicateType missing');
  const predicate = doc.predicate ?? undefined;
  if (predicate !== undefined && !isPlainObject(predicate))
    refuse('BUNDLE_MALFORMED', 'predicate: expected an object');
  return { _type: type, subject, predicateType, predicate };
}

function validateSubject(v: unknown, path: string): InTotoSubject {
  if (!isPlainObject(v)) return refuse('BUNDLE_MALFORMED', `${path}: expected an object`);
  const name = v.name ?? '';
  if (typeof name !== 'string') refuse('BUNDLE_MALFORMED', `${path}.name: expected a string`);
  const d = v.digest;
  if (!isPlainObject(d)) return refuse('BUNDLE_MALFORMED', `${path}.digest: expected an object`);
  const algs = Object.keys(d);
  if (algs.length === 0) refuse('BUNDLE_MALFORMED', `${path}.digest is empty`);
  if (algs.length > IN_TOTO_LIMITS.maxDigestsPerSubject) {
    refuse(
      'BUNDLE_LIMIT_EXCEEDED',
      `${path}.digest: ${algs.length} digests exceeds the limit of ${IN_TOTO_LIMITS.maxDigestsPerSubject}`,
    );
  }
  const digest: Record<string, string> = {};
  for (const alg of algs) {
    const value = d[alg];
    if (typeof value !== 'string' || value === '')
      refuse('BUNDLE_MALFORMED', `${path}.digest.${alg}: expected a non-empty string`);
    const want = Object.hasOwn(HEX_LENGTHS, alg) ? HEX_LENGTHS[alg] : undefined;
    if (want !== undefined && (value.length !== want || !HEX_RE.test(value))) {
      refuse('BUNDLE_MALFORMED', `${path}.digest.${alg}: expected ${want} hex characters`);
    }
    // defineProperty: a subject digest keyed "__proto__" must stay plain data.
    Object.defineProperty(digest, alg, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { name, digest };
}

export type SubjectMatch =
  | { matched: true; subject: InTotoSubject; algorithm: DigestName; hex: string }
  | {
      matched: false;
      /** The algorithms compared (subjects' digests Stella can compute). */
      compared: DigestName[];
      /** Subjects with no digest Stella can compute, by name, with the algorithms they list. */
      unsupported: { name: string; algorithms: string[] }[];
    };

/**
 * Find the subject the artifact is. `digestOf` gives the artifact's digest in an algorithm, or
 * undefined when it cannot (an artifact known only by a digest of another algorithm). A
 * subject matches when ANY digest it lists that Stella can compute equals the artifact's, as
 * sigstore-go and sigstore-js match (npm provenance names a tarball by sha512 alone). Digests
 * in other algorithms (gitCommit, sha1, ...) are skipped; the caller reports them when
 * nothing matched.
 */
export function matchSubject(
  stmt: InTotoStatement,
  digestOf: (algorithm: DigestName) => Uint8Array | undefined,
): SubjectMatch {
  const compared = new Set<DigestName>();
  const unsupported: { name: string; algorithms: string[] }[] = [];
  for (const s of stmt.subject) {
    let computable = false;
    for (const [alg, value] of Object.entries(s.digest)) {
      if (!isDigestName(alg)) continue;
      computable = true;
      const d = digestOf(alg);
      if (!d) continue;
      compared.add(alg);
      const hex = toHex(d);
      if (value.toLowerCase() === hex) return { matched: true, subject: s, algorithm: alg, hex };
    }
    if (!computable) unsupported.push({ name: s.name, algorithms: Object.keys(s.digest) });
  }
  return { matched: false, compared: DIGEST_NAMES.filter((n) => compared.has(n)), unsupported };
}

/**
 * Build an in-toto v1 Statement and its payload bytes (the DSSE payload). The result is run
 * through the same checks as a parsed statement, so a signer cannot emit what a verifier refuses.
 */
export function buildInTotoStatement(
  subject: InTotoSubject[],
  predicateType: string,
  predicate?: unknown,
): { statement: InTotoStatement; payload: Uint8Array } {
  const doc: Record<string, unknown> = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: subject.map((s) => ({ name: s.name, digest: { ...s.digest } })),
    predicateType,
  };
  if (predicate !== undefined) doc.predicate = predicate;
  const payload = utf8.encode(JSON.stringify(doc));
  return { statement: parseInTotoStatement(payload), payload };
}
