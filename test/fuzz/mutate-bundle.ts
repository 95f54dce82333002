/**
 * Bundle mutations. A bundle is JSON whose string fields hold other formats, so the JSON
 * mutator (./mutate-json.ts) is given a mutator per field: certificates and TSA tokens get
 * DER mutations, the Rekor body (base64 of canonical JSON, itself holding base64 PEM) gets
 * JSON mutations re-encoded canonically or not, the checkpoint gets signed-note mutations,
 * the DSSE payload gets in-toto JSON mutations, signatures and hashes get DER/byte havoc.
 *
 * For the in-process seeds, whose keys the test holds, some mutations are signed again the
 * way the authority would sign them (`resignBundle`): a SET over another integrated time or
 * log index, a log that includes a mutated body (new tree, proof, checkpoint and SET), a TSA
 * token at another time or over other bytes, a new leaf certificate with odd validity,
 * serial or SCT time (and the artifact signed again with its key). Those inputs get past
 * every signature, so what decides their fate are the semantic checks.
 */
import type { Prng } from './prng.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateDer } from './mutate-der.js';
import { mutateNote } from './mutate-note.js';
import {
  cloneJson,
  hasRaw,
  mutateJson,
  stringifyFuzz,
  type BytesMutator,
  type Json,
  type JsonHooks,
  type StringMutator,
} from './mutate-json.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { bundleToJson } from '../../src/bundle/serialize.js';
import type { Bundle, TransparencyLogEntry } from '../../src/bundle/model.js';
import { preAuthEncoding } from '../../src/bundle/dsse.js';
import { canonicalize } from '../../src/util/canonical-json.js';
import { setPayload } from '../../src/tlog/set.js';
import { MerkleTree, leafHash } from '../../src/tlog/merkle.js';
import { buildDsseBody, buildHashedRekordBody } from '../../src/tlog/rekor-entry.js';
import { formatCheckpoint } from '../../src/tlog/note.js';
import { sha256 } from '../../src/crypto.js';
import { toBase64 } from '../../src/util/encoding.js';
import { craftLeaf, LEAF_LIFETIME } from '../helpers/crafted-bundles.js';
import { SIGNED_AT, type BundleSeed, type Resigner } from './corpus.js';

const last = (p: readonly (string | number)[]): string | number | undefined => p[p.length - 1];
const lastKey = (p: readonly (string | number)[]): string | undefined => {
  for (let i = p.length - 1; i >= 0; i--) if (typeof p[i] === 'string') return p[i] as string;
  return undefined;
};

const MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle.v0.4+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.4',
  'application/vnd.dev.sigstore.bundle+json;version=0.3 ',
  'APPLICATION/VND.DEV.SIGSTORE.BUNDLE.V0.3+JSON',
  'application/vnd.dev.sigstore.bundle+json; version=0.2',
  'application/vnd.dev.sigstore.bundle+json',
  'application/json',
  '__proto__',
  'toString',
  'constructor',
];

const mediaType: StringMutator = (rng, s, trail) => {
  const next = rng.pick(MEDIA_TYPES);
  trail.push(`media type ${JSON.stringify(s)} -> ${JSON.stringify(next)}`);
  return next;
};

const choice =
  (label: string, values: readonly string[]): StringMutator =>
  (rng, s, trail) => {
    const next = rng.pick(values);
    trail.push(`${label} ${JSON.stringify(s)} -> ${JSON.stringify(next)}`);
    return next;
  };

/** base64 of PEM text (Rekor v1 bodies): mutate the DER inside, or the PEM text itself. */
const pemField: BytesMutator = (rng, bytes, trail) => {
  const text = Buffer.from(bytes).toString('utf8');
  const m =
    /^(-----BEGIN ([A-Z ]+)-----\r?\n)([A-Za-z0-9+/=\r\n]+?)(\r?\n-----END \2-----\r?\n?)$/.exec(
      text,
    );
  if (!m || rng.chance(0.15)) return havoc(rng, bytes, trail);
  const der = new Uint8Array(Buffer.from(m[3]!.replace(/\r?\n/g, ''), 'base64'));
  const wrap = (d: Uint8Array, label = m[2]!): string =>
    `-----BEGIN ${label}-----\n${(toBase64(d).match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;
  const op = rng.weighted<string>([
    [6, 'der'],
    [1, 'label'],
    [1, 'crlf'],
    [1, 'two-blocks'],
    [1, 'junk'],
    [1, 'no-newline'],
  ]);
  trail.push(`pem: ${op}`);
  switch (op) {
    case 'der':
      return Buffer.from(wrap(mutateDer(rng, der, trail)));
    case 'label':
      return Buffer.from(wrap(der, m[2] === 'CERTIFICATE' ? 'PUBLIC KEY' : 'CERTIFICATE'));
    case 'crlf':
      return Buffer.from(text.replace(/\n/g, '\r\n'));
    case 'two-blocks':
      return Buffer.from(text + text);
    case 'junk':
      return Buffer.from(`junk\n${text}`);
    default:
      return Buffer.from(text.replace(/\n$/, ''));
  }
};

const BODY_HOOKS: JsonHooks = {
  bytesField(p) {
    const k = lastKey(p);
    if (k === 'rawBytes') return (rng, b, t) => mutateDer(rng, b, t);
    if (k === 'verifier' || k === 'publicKey') return pemField;
    if (k === 'content') {
      // spec.signature.publicKey.content is base64 PEM; spec.signature.content is the signature.
      return p.includes('publicKey')
        ? pemField
        : (rng, b, t) => (rng.chance(0.5) ? mutateDer(rng, b, t) : havoc(rng, b, t));
    }
    if (k === 'signature' || k === 'sig' || k === 'digest' || k === 'payload')
      return (rng, b, t) => havoc(rng, b, t);
    return undefined;
  },
  stringField(p) {
    const k = lastKey(p);
    if (k === 'value')
      return choice('hex digest', [
        '',
        '00',
        'ZZ'.repeat(32),
        '0'.repeat(64),
        'A'.repeat(64),
        '0'.repeat(96),
        '0'.repeat(128),
        'f'.repeat(63),
      ]);
    if (k === 'algorithm')
      return choice('algorithm', [
        'sha256',
        'sha384',
        'sha512',
        'SHA256',
        'sha1',
        'SHA2_256',
        'SHA2_384',
        'SHA2_512',
        'HASH_ALGORITHM_UNSPECIFIED',
        '',
      ]);
    if (k === 'kind')
      return choice('kind', ['hashedrekord', 'dsse', 'intoto', 'rekord', 'HashedRekord', '']);
    if (k === 'apiVersion') return choice('apiVersion', ['0.0.1', '0.0.2', '0.0.3', '1', '']);
    if (k === 'keyDetails')
      return choice('keyDetails', [
        'PKIX_ECDSA_P256_SHA_256',
        'PKIX_ECDSA_P384_SHA_384',
        'PKIX_ED25519',
        'PKIX_RSA_PKCS1V15_2048_SHA256',
        'PKIX_ECDSA_P256_SHA_384',
        'UNKNOWN',
        '',
      ]);
    if (k === 'payloadType')
      return choice('payloadType', ['application/vnd.in-toto+json', 'text/plain', '']);
    return undefined;
  },
};

/** A Rekor entry body: JSON inside, written back canonically (usually) or not. */
export const mutateRekorBody: BytesMutator = (rng, bytes, trail) => {
  let doc: Json;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
  } catch {
    return havoc(rng, bytes, trail);
  }
  if (rng.chance(0.1)) return havoc(rng, bytes, trail);
  const sub: Trail = [];
  let next = doc;
  const steps = 1 + rng.smallSize(2);
  for (let i = 0; i < steps; i++) next = mutateJson(rng, next, sub, BODY_HOOKS);
  trail.push(`body: ${sub.join('; ')}`);
  if (hasRaw(next) || rng.chance(0.2))
    return Buffer.from(
      rng.chance(0.5) ? stringifyFuzz(next) : (JSON.stringify(next, null, 1) ?? 'null'),
    );
  try {
    return Buffer.from(canonicalize(next));
  } catch {
    return Buffer.from(stringifyFuzz(next));
  }
};

/** The DSSE payload: an in-toto statement, mutated as JSON (or as bytes). */
const mutatePayload: BytesMutator = (rng, bytes, trail) => {
  let doc: Json;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
  } catch {
    return havoc(rng, bytes, trail);
  }
  if (rng.chance(0.15)) return havoc(rng, bytes, trail);
  const sub: Trail = [];
  const next = mutateJson(rng, doc, sub, {
    stringField: (p) =>
      lastKey(p) === 'sha256' || lastKey(p) === 'sha512' || lastKey(p) === 'sha384'
        ? choice('subject digest', ['', 'A'.repeat(64), '0'.repeat(64), 'zz', '0'.repeat(128)])
        : lastKey(p) === '_type'
          ? choice('_type', [
              'https://in-toto.io/Statement/v1',
              'https://in-toto.io/Statement/v0.1',
              'https://in-toto.io/Statement/v2',
              '',
            ])
          : undefined,
  });
  trail.push(`payload: ${sub.join('; ')}`);
  return Buffer.from(stringifyFuzz(next));
};

const signatureBytes: BytesMutator = (rng, b, t) =>
  rng.chance(0.5) ? mutateDer(rng, b, t) : havoc(rng, b, t);

export function bundleHooks(
  seed: BundleSeed,
  derDonors: readonly Uint8Array[],
  tokenDonors: readonly Uint8Array[],
): JsonHooks {
  const resign = seed.resign;
  const noteSigner = resign ? (text: string): string[] => [signNoteLine(resign, text)] : undefined;
  return {
    bytesField(p) {
      const k = lastKey(p);
      switch (k) {
        case 'rawBytes':
          return (rng, b, t) => mutateDer(rng, b, t, derDonors);
        case 'signedTimestamp':
          return (rng, b, t) => mutateDer(rng, b, t, tokenDonors);
        case 'canonicalizedBody':
          return mutateRekorBody;
        case 'payload':
          return mutatePayload;
        case 'signature':
        case 'sig':
        case 'signedEntryTimestamp':
          return signatureBytes;
        case 'rootHash':
        case 'digest':
        case 'keyId':
          return (rng, b, t) => havoc(rng, b, t);
        case 'hashes':
          return typeof last(p) === 'number' ? (rng, b, t) => havoc(rng, b, t) : undefined;
        default:
          return undefined;
      }
    },
    stringField(p) {
      const k = lastKey(p);
      if (k === 'envelope') return (rng, s, t) => mutateNote(rng, s, t, noteSigner);
      if (k === 'mediaType') return mediaType;
      if (k === 'algorithm')
        return choice('algorithm', [
          'SHA2_256',
          'SHA2_384',
          'SHA2_512',
          'SHA3_256',
          'HASH_ALGORITHM_UNSPECIFIED',
          'sha256',
          '',
        ]);
      if (k === 'kind') return choice('kind', ['hashedrekord', 'dsse', 'intoto', 'rekord', '']);
      if (k === 'version') return choice('version', ['0.0.1', '0.0.2', '0.0.3', '']);
      if (k === 'payloadType')
        return choice('payloadType', [
          'application/vnd.in-toto+json',
          'application/vnd.in-toto+json ',
          'application/vnd.in-toto+jsoñ',
          'text/plain',
          '',
        ]);
      if (k === 'keyid' || k === 'hint') return choice(k, ['', 'x', 'a'.repeat(1000)]);
      return undefined;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Re-signing as the in-process authority

/** A checkpoint signature line by the in-process log over `text`. */
export function signNoteLine(r: Resigner, text: string): string {
  const sig = r.logKey.sign(Buffer.from(text, 'utf8'));
  return `\u2014 ${r.noteName} ${toBase64(new Uint8Array([...r.noteHint, ...sig]))}`;
}

/** Log `body` in a fresh tree (alone, or among random leaves), with proof, checkpoint and SET. */
function relog(
  rng: Prng,
  r: Resigner,
  entry: TransparencyLogEntry,
  body: Uint8Array,
  integratedTime: number,
): TransparencyLogEntry {
  const size = rng.chance(0.5) ? 1 : 2 + rng.int(40);
  const index = rng.int(size);
  const tree = new MerkleTree();
  for (let i = 0; i < size; i++)
    tree.appendLeafHash(i === index ? leafHash(body) : sha256(rng.bytes(8)));
  const rootHash = tree.root(size);
  const text = formatCheckpoint({ origin: r.origin, treeSize: size, rootHash });
  const checkpoint = `${text}\n${signNoteLine(r, text)}\n`;
  const set = r.logKey.sign(
    setPayload({ canonicalizedBody: body, integratedTime, logIndex: index, logId: r.logId }),
  );
  return {
    ...entry,
    logIndex: index,
    integratedTime,
    canonicalizedBody: body,
    inclusionPromise:
      entry.inclusionPromise || rng.chance(0.2) ? { signedEntryTimestamp: set } : undefined,
    inclusionProof: {
      logIndex: index,
      rootHash,
      treeSize: size,
      hashes: tree.inclusionProof(index, size),
      checkpoint,
    },
  };
}

/** Times (seconds) around the leaf's window, the key windows and the ends of `Date`. */
function secondsCandidates(rng: Prng, around: number): number[] {
  return [
    around,
    around + 1,
    around - 1,
    around + 600,
    around - 600,
    around + 601,
    around - 3600,
    around + 86_400 * 400,
    Math.floor(Date.UTC(2025, 0, 1) / 1000),
    Math.floor(Date.UTC(2025, 0, 1) / 1000) - 1,
    Math.floor(Date.UTC(2035, 0, 1) / 1000),
    Math.floor(Date.UTC(2035, 0, 1) / 1000) + 1,
    1,
    2 ** 31,
    253_402_300_799,
    253_402_300_800,
    8_640_000_000_000,
    8_640_000_000_001,
    9_007_199_254_740,
    9_007_199_254_740_991,
    around + rng.int(86_400) - 43_200,
  ];
}

function msCandidates(rng: Prng, around: number): number[] {
  return [
    around,
    around + 1,
    around - 1,
    around + 1000,
    around - 1000,
    around + LEAF_LIFETIME,
    around - LEAF_LIFETIME,
    around + LEAF_LIFETIME + 1000,
    Date.UTC(2025, 0, 1),
    Date.UTC(2025, 0, 1) - 1000,
    Date.UTC(2035, 0, 1),
    Date.UTC(2035, 0, 1) + 1000,
    Date.UTC(2049, 11, 31, 23, 59, 59),
    Date.UTC(2050, 0, 1),
    Date.UTC(1950, 0, 1),
    Date.UTC(1949, 11, 31, 23, 59, 59),
    Date.UTC(9999, 11, 31, 23, 59, 59),
    0,
    1000,
    Date.UTC(2026, 11, 31, 23, 59, 59),
    Date.UTC(2027, 0, 1, 0, 0, 1),
    around + rng.int(86_400_000) - 43_200_000,
  ];
}

function signatureOf(b: Bundle): Uint8Array {
  return b.content.kind === 'messageSignature'
    ? b.content.signature
    : (b.content.signatures[0]?.sig ?? new Uint8Array(0));
}

/**
 * One re-signed mutation of an in-process seed, as a JSON document (or undefined when the
 * test-side construction itself refuses the odd value, e.g. a year the DER writer cannot write).
 */
export function resignBundle(rng: Prng, seed: BundleSeed, trail: Trail): Json | undefined {
  const r = seed.resign!;
  const b = parseBundle(seed.text);
  const entries = b.verificationMaterial.tlogEntries;
  const kind = rng.weighted<string>([
    [entries.length ? 3 : 0, 'set'],
    [entries.length ? 3 : 0, 'body'],
    [3, 'tsa'],
    [2, 'leaf'],
    [entries.length ? 1 : 0, 'checkpoint'],
  ]);
  try {
    let next: Bundle;
    switch (kind) {
      case 'set': {
        const k = rng.int(entries.length);
        const e = entries[k]!;
        const integratedTime = rng.pick(
          secondsCandidates(rng, e.integratedTime || Math.floor(SIGNED_AT / 1000)),
        );
        const logIndex = rng.chance(0.7)
          ? e.logIndex
          : rng.pick([0, e.logIndex + 1, 2 ** 31, 2 ** 53 - 1]);
        const set = r.logKey.sign(
          setPayload({
            canonicalizedBody: e.canonicalizedBody,
            integratedTime,
            logIndex,
            logId: r.logId,
          }),
        );
        trail.push(
          `resign: entry ${k} SET over integratedTime ${integratedTime}, logIndex ${logIndex}`,
        );
        next = {
          ...b,
          verificationMaterial: {
            ...b.verificationMaterial,
            tlogEntries: entries.map((x, i) =>
              i === k
                ? {
                    ...x,
                    integratedTime,
                    logIndex,
                    inclusionPromise: { signedEntryTimestamp: set },
                  }
                : x,
            ),
          },
        };
        break;
      }
      case 'body': {
        const k = rng.int(entries.length);
        const e = entries[k]!;
        const sub: Trail = [];
        const body = rng.chance(0.9)
          ? mutateRekorBody(rng, e.canonicalizedBody, sub)
          : e.canonicalizedBody;
        const integratedTime = rng.chance(0.8)
          ? e.integratedTime || Math.floor(SIGNED_AT / 1000) + 5
          : rng.pick(secondsCandidates(rng, Math.floor(SIGNED_AT / 1000)));
        trail.push(
          `resign: entry ${k} body logged again (${sub.join('; ') || 'unchanged'}), integratedTime ${integratedTime}`,
        );
        next = {
          ...b,
          verificationMaterial: {
            ...b.verificationMaterial,
            tlogEntries: entries.map((x, i) =>
              i === k ? relog(rng, r, x, body, integratedTime) : x,
            ),
          },
        };
        break;
      }
      case 'tsa': {
        const genTime = rng.pick(msCandidates(rng, SIGNED_AT + 6_000));
        const data = rng.chance(0.9) ? signatureOf(b) : rng.bytes(16);
        const imprintHash = rng.pick(['sha256', 'sha384', 'sha512'] as const);
        const nonce = rng.chance(0.3) ? rng.pick([0n, -1n, 2n ** 64n, 2n ** 160n]) : undefined;
        const serial = rng.pick([7n, 0n, -5n, 2n ** 159n, 2n ** 200n]);
        const token = r.tsa.issue({
          data,
          genTime,
          imprintHash,
          ...(nonce !== undefined ? { nonce } : {}),
          serial,
          ...(rng.chance(0.2) ? { embedCertificates: [] } : {}),
        });
        const list = b.verificationMaterial.rfc3161Timestamps;
        const replace = list.length > 0 && rng.chance(0.5);
        trail.push(
          `resign: TSA token at ${genTime} (${new Date(genTime).toISOString()}), imprint ${imprintHash}${data === signatureOf(b) ? '' : ' over other bytes'}, serial ${serial}${nonce !== undefined ? `, nonce ${nonce}` : ''}, ${replace ? 'replacing' : 'added'}`,
        );
        next = {
          ...b,
          verificationMaterial: {
            ...b.verificationMaterial,
            rfc3161Timestamps: replace
              ? list.map((t, i) => (i === 0 ? token : t))
              : [...list, token],
          },
        };
        break;
      }
      case 'leaf': {
        const notBefore = rng.pick(msCandidates(rng, SIGNED_AT));
        const serial = rng.pick([
          undefined,
          0n,
          -1n,
          1n,
          2n ** 159n - 1n,
          2n ** 159n,
          2n ** 160n,
          2n ** 168n,
        ]);
        const precert = rng.chance(0.1);
        const sctTime = rng.chance(0.7)
          ? undefined
          : rng.chance(0.1)
            ? null
            : rng.pick(msCandidates(rng, notBefore));
        const leaf = craftLeaf(r.authority, {
          label: `fuzz-${rng.int(4)}`,
          notBefore,
          ...(serial !== undefined ? { serial } : {}),
          precert,
          ...(sctTime !== undefined ? { sctTime } : {}),
        });
        const c = b.content;
        let content = c;
        let body: Uint8Array;
        if (c.kind === 'messageSignature') {
          const signature = leaf.sign(r.artifact);
          content = { ...c, signature };
          body = buildHashedRekordBody({
            version: '0.0.1',
            digest: { algorithm: 'SHA2_256', digest: sha256(r.artifact) },
            signature,
            verifier: { certificateDer: leaf.der },
          });
        } else {
          const sig = leaf.sign(preAuthEncoding(c.payloadType, c.payload));
          content = { ...c, signatures: [{ sig, keyid: '' }] };
          body = buildDsseBody({
            version: '0.0.1',
            envelope: content,
            verifier: { certificateDer: leaf.der },
          });
        }
        const m = b.verificationMaterial.content;
        const material =
          m.kind === 'x509CertificateChain'
            ? { kind: 'x509CertificateChain' as const, certificates: [leaf.der] }
            : { kind: 'certificate' as const, certificate: leaf.der };
        const integratedTime = Math.floor(rng.pick(msCandidates(rng, notBefore + 5_000)) / 1000);
        const tsTime = rng.pick(msCandidates(rng, notBefore + 5_000));
        const sig =
          content.kind === 'messageSignature' ? content.signature : content.signatures[0]!.sig;
        trail.push(
          `resign: new leaf notBefore ${notBefore}, serial ${serial ?? 'default'}${precert ? ', precertificate' : ''}, SCT time ${sctTime === undefined ? 'default' : sctTime}; entry integratedTime ${integratedTime}; TSA at ${tsTime}`,
        );
        next = {
          ...b,
          content,
          verificationMaterial: {
            content: material,
            tlogEntries: entries.map((x) => relog(rng, r, x, body, integratedTime)),
            rfc3161Timestamps: b.verificationMaterial.rfc3161Timestamps.map(() =>
              r.tsa.issue({ data: sig, genTime: tsTime }),
            ),
          },
        };
        break;
      }
      default: {
        const k = rng.int(entries.length);
        const e = entries[k]!;
        if (!e.inclusionProof) return undefined;
        const sub: Trail = [];
        const checkpoint = mutateNote(rng, e.inclusionProof.checkpoint, sub, (text) => [
          signNoteLine(r, text),
        ]);
        trail.push(`resign: entry ${k} checkpoint: ${sub.join('; ')}`);
        next = {
          ...b,
          verificationMaterial: {
            ...b.verificationMaterial,
            tlogEntries: entries.map((x, i) =>
              i === k ? { ...x, inclusionProof: { ...e.inclusionProof!, checkpoint } } : x,
            ),
          },
        };
      }
    }
    return bundleToJson(next) as Json;
  } catch (e) {
    // The test's own issuing code refused the value (e.g. a year the DER writer cannot write):
    // no input was produced, so there is nothing to judge.
    trail.push(`resign: construction refused (${(e as Error).message})`);
    return undefined;
  }
}

/**
 * One fuzzed bundle from `seed`: sometimes re-signed first (in-process seeds), then 1-3 JSON
 * mutations (none after a re-signing half of the time, so the re-signed input is judged as is).
 */
export function mutateBundle(
  rng: Prng,
  seed: BundleSeed,
  trail: Trail,
  hooks: JsonHooks,
  donors: readonly Json[],
): string {
  let doc: Json | undefined;
  let resigned = false;
  if (seed.resign && rng.chance(0.35)) {
    doc = resignBundle(rng, seed, trail);
    resigned = doc !== undefined;
  }
  if (doc === undefined) {
    try {
      doc = JSON.parse(seed.text) as Json;
    } catch {
      // A seed that is not JSON (bundle-malformed-json_fail): bytes are all there is to mutate.
      return Buffer.from(havoc(rng, Buffer.from(seed.text, 'utf8'), trail)).toString('utf8');
    }
  }
  const steps = resigned && rng.chance(0.5) ? 0 : 1 + rng.smallSize(2);
  for (let i = 0; i < steps; i++) doc = mutateJson(rng, doc, trail, hooks, donors);
  return stringifyFuzz(cloneJson(doc));
}
