/**
 * Fuzz target for trust-root rotation bundles: the tar of payload.json, root.json and
 * signatures.json that `stella trust rotate FILE` reads on a disconnected host and applies to
 * its trust store (src/trust/rotation). A rotation is how a private Fulcio root changes there,
 * so a bundle accepted that its trusted keys did not sign, or that breaks a rotation rule,
 * would put an attacker's root into the store.
 *
 * Each input is a seed bundle mutated as a tar (./mutate-tar.ts), one of its files mutated as
 * JSON, or its payload rewritten field by field and signed again by some of the known keys (so
 * the later rules are reached with good signatures). The oracle reads an accepted bundle again
 * on its own: a plain tar reading finds the same three files; the payload is one this run's
 * trusted keys really signed, at least the threshold of them, and those are the signers
 * reported; the version is the next one; it has not expired; root.json is the file the payload
 * names; new rotation keys, when the payload sets them, signed it too.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeTar } from '../../src/archive/tar.js';
import { keyIdOf, sha256, spkiKeyId, spkiOf } from '../../src/crypto.js';
import { canonicalize } from '../../src/util/canonical-json.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import {
  createRotation,
  readRotationBundle,
  signPayload,
  ROTATION_FILES,
  ROTATION_PAYLOAD_TYPE,
} from '../../src/trust/rotation/bundle.js';
import { verifyRotation, type RotationTrust } from '../../src/trust/rotation/verify.js';
import { SAMPLES_TRUSTED_ROOT } from '../helpers/samples.js';
import type { FuzzTarget, IterationResult } from './harness.js';
import { attemptSync } from './oracle.js';
import { fixedPrivateKey, fromThrow } from './targets.js';
import { mutateJson, stringifyFuzz, type Json } from './mutate-json.js';
import { listTar, mutateTar, plainTarProblems } from './mutate-tar.js';
import type { Prng } from './prng.js';
import type { Trail } from './mutate-bytes.js';

/** The verifier's clock in the library runs. Seeds expire in 2099, so the CLI's clock agrees. */
export const ROTATION_NOW = Date.UTC(2026, 0, 1);
const EXPIRES = Date.UTC(2099, 0, 1);

interface FixedKey {
  name: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** spkiKeyId of the normalised SPKI: how the oracle names a signer. */
  id: string;
}

/** A rotation key the same every run (targets.ts fixedPrivateKey). */
function fixedKey(name: string, kind: 'ed25519' | 'p256', fill: number): FixedKey {
  const privateKey = fixedPrivateKey(kind, fill);
  const publicKey = createPublicKey(privateKey);
  return { name, privateKey, publicKey, id: keyIdOf(publicKey) };
}

export const ROTATION_KEYS = {
  a: fixedKey('a', 'ed25519', 0xa1),
  b: fixedKey('b', 'p256', 0x11),
  /** Signs, but no store trusts it. */
  stranger: fixedKey('stranger', 'ed25519', 0xc3),
  /** Becomes a rotation key in the seed that replaces them. */
  d: fixedKey('d', 'p256', 0x22),
};
const ALL_KEYS = Object.values(ROTATION_KEYS);

export interface RotationSeed {
  name: string;
  tar: Uint8Array;
  trust: RotationTrust;
  payloadBytes: Uint8Array;
  rootBytes: Uint8Array;
}

/**
 * What the oracle knows was signed: hex SHA-256 of payload bytes -> ids of the keys that
 * signed exactly those bytes (the seeds', and what an iteration signs again).
 */
export type SignedPayloads = Map<string, Set<string>>;

const sha256Hex = (b: Uint8Array): string => toHex(sha256(b));

function recordSignature(signed: SignedPayloads, payload: Uint8Array, key: FixedKey): void {
  const h = sha256Hex(payload);
  let s = signed.get(h);
  if (!s) signed.set(h, (s = new Set()));
  s.add(key.id);
}

/** The trusted root the samples are signed under, and a second one (its first CA left out). */
function seedRoots(): Uint8Array[] {
  const text = readFileSync(SAMPLES_TRUSTED_ROOT, 'utf8');
  const doc = JSON.parse(text) as { certificateAuthorities?: unknown[] };
  const other = { ...doc, certificateAuthorities: (doc.certificateAuthorities ?? []).slice(1) };
  return [utf8.encode(text), utf8.encode(JSON.stringify(other, null, 2))];
}

/**
 * Three rotations: two of two trusted keys (version 1, as a fresh store takes), one of two
 * with a stranger's signature beside it, and one that replaces the rotation keys (signed by
 * the old keys and by both new ones).
 */
export async function rotationSeeds(
  signed: SignedPayloads,
): Promise<{ seeds: RotationSeed[]; roots: Uint8Array[] }> {
  const { a, b, stranger, d } = ROTATION_KEYS;
  const roots = seedRoots();
  const trustAB = (threshold: number, lastVersion: number): RotationTrust => ({
    keys: [a, b].map((k) => ({ spki: spkiOf(k.publicKey) })),
    threshold,
    lastVersion,
  });
  const specs = [
    { name: 'rotation/two-of-two', root: roots[0]!, version: 1, by: [a, b], trust: trustAB(2, 0) },
    {
      name: 'rotation/one-of-two-and-a-stranger',
      root: roots[1]!,
      version: 5,
      by: [a, stranger],
      trust: trustAB(1, 4),
    },
    {
      name: 'rotation/new-keys',
      root: roots[0]!,
      version: 3,
      by: [a, b, d],
      trust: trustAB(1, 2),
      newKeys: { keys: [b.publicKey, d.publicKey], threshold: 2 },
    },
  ];
  const seeds: RotationSeed[] = [];
  for (const s of specs) {
    const r = await createRotation({
      rootBytes: s.root,
      version: s.version,
      expires: EXPIRES,
      signWith: s.by.map((k) => k.privateKey),
      now: ROTATION_NOW,
      newRotationKeys: s.newKeys,
    });
    for (const k of s.by) recordSignature(signed, r.payloadBytes, k);
    seeds.push({
      name: s.name,
      tar: r.tar,
      trust: s.trust,
      payloadBytes: r.payloadBytes,
      rootBytes: s.root,
    });
  }
  return { seeds, roots };
}

/** The three files of a seed, by name. */
function filesOf(seed: RotationSeed): Map<string, Uint8Array> {
  return new Map(listTar(seed.tar).entries.map((e) => [e.name, e.data]));
}

/** Signs `payload` with a random non-empty set of the known keys, recorded in `signed`. */
function signAgain(
  rng: Prng,
  payload: Uint8Array,
  signed: SignedPayloads,
  trail: Trail,
): Uint8Array {
  const by = ALL_KEYS.filter(() => rng.chance(0.6));
  if (by.length === 0) by.push(rng.pick(ALL_KEYS));
  trail.push(`signed again by ${by.map((k) => k.name).join(', ')}`);
  const signatures = by.map((k) => {
    recordSignature(signed, payload, k);
    return { keyId: k.id, signature: toBase64(signPayload(k.privateKey, payload)) };
  });
  return utf8.encode(canonicalize({ signatures }, { integersOnly: true }));
}

/** A payload field rewritten to a value that breaks (or just passes) one rotation rule. */
function rewritePayload(
  rng: Prng,
  payload: Record<string, any>,
  seed: RotationSeed,
  roots: Uint8Array[],
  trail: Trail,
): { payload: Record<string, any>; root?: Uint8Array } {
  const p = structuredClone(payload);
  const last = seed.trust.lastVersion;
  const field = rng.pick(['version', 'expires', 'root', 'root-file', 'rotationKeys'] as const);
  let root: Uint8Array | undefined;
  switch (field) {
    case 'version':
      p.version = rng.pick([last, last + 1, last + 2, 0, -1, 2 ** 53, 1.5]);
      break;
    case 'expires':
      // The canonical form (milliseconds, Z) reaches the expiry rule; the others must be
      // refused as not canonical, or as no date at all.
      p.expires = rng.pick([
        '2025-12-31T23:59:59.999Z',
        '2026-01-01T00:00:00.000Z',
        '2026-01-01T00:00:00.001Z',
        '2026-12-31T00:00:00.000Z',
        '2099-02-29T00:00:00.000Z',
        '2099-01-01T00:00:00Z',
        '2099-01-01T01:00:00.000+01:00',
        '9999-12-31T23:59:59.999Z',
      ]);
      break;
    case 'root': {
      const other = rng.pick(roots);
      p.root = rng.chance(0.5)
        ? { sha256: sha256Hex(other), size: other.length }
        : { ...p.root, size: (p.root.size as number) + rng.pick([-1, 1]) };
      break;
    }
    case 'root-file': {
      // Another root.json, with the payload naming it (or, half the time, still the old one).
      root = rng.pick(roots);
      if (rng.chance(0.5)) p.root = { sha256: sha256Hex(root), size: root.length };
      break;
    }
    default: {
      const keyText = (k: FixedKey): string => toBase64(spkiOf(k.publicKey));
      const { a, b, stranger, d } = ROTATION_KEYS;
      const keys = rng.pick([[d], [b, d], [a, stranger], [d, d], [a, b, d]]).map(keyText);
      p.rotationKeys = { keys, threshold: rng.pick([0, 1, 2, 3]) };
    }
  }
  trail.push(`payload ${field} rewritten`);
  return { payload: p, root };
}

/** The tar of three files (the writer Stella itself uses, so the framing is a good one). */
function rotationTar(files: Map<string, Uint8Array>): Promise<Uint8Array> {
  return writeTar(
    ROTATION_FILES.map((name) => ({
      name,
      data: files.get(name)!,
    })),
  );
}

/** One mutated rotation bundle from a seed. */
export async function mutateRotation(
  rng: Prng,
  seed: RotationSeed,
  roots: Uint8Array[],
  signed: SignedPayloads,
  trail: Trail,
): Promise<Uint8Array> {
  trail.push(`seed ${seed.name}`);
  const how = rng.weighted<string>([
    [3, 'tar'],
    [3, 'file'],
    [3, 'rewrite'],
  ]);
  if (how === 'tar') {
    let tar = seed.tar;
    const steps = 1 + rng.smallSize(2);
    for (let i = 0; i < steps; i++) tar = mutateTar(rng, tar, trail);
    return tar;
  }
  const files = filesOf(seed);
  if (how === 'file') {
    const name = rng.pick(['payload.json', 'signatures.json', 'root.json']);
    let doc = JSON.parse(Buffer.from(files.get(name)!).toString('utf8')) as Json;
    const steps = 1 + rng.smallSize(3);
    for (let i = 0; i < steps; i++) doc = mutateJson(rng, doc, trail);
    const text = utf8.encode(stringifyFuzz(doc));
    files.set(name, text);
    trail.push(`${name} mutated`);
    if (name === 'payload.json' && rng.chance(0.6))
      files.set('signatures.json', signAgain(rng, text, signed, trail));
    return rotationTar(files);
  }
  const payload = JSON.parse(Buffer.from(files.get('payload.json')!).toString('utf8'));
  const r = rewritePayload(rng, payload, seed, roots, trail);
  // Canonical when it can be (so later rules are reached); JSON.stringify when not (1.5, 2^53).
  const c = attemptSync(() => canonicalize(r.payload, { integersOnly: true }));
  const bytes = utf8.encode(c.kind === 'ok' ? c.value : JSON.stringify(r.payload));
  files.set('payload.json', bytes);
  if (r.root) files.set('root.json', r.root);
  files.set('signatures.json', signAgain(rng, bytes, signed, trail));
  return rotationTar(files);
}

/** The rotation keys a payload sets, as oracle ids; undefined when one is not a key. */
function newKeyIds(keys: unknown): string[] | undefined {
  if (!Array.isArray(keys)) return undefined;
  const ids: string[] = [];
  for (const k of keys) {
    if (typeof k !== 'string') return undefined;
    try {
      const key = createPublicKey({ key: Buffer.from(k, 'base64'), format: 'der', type: 'spki' });
      ids.push(keyIdOf(key));
    } catch {
      return undefined;
    }
  }
  return ids;
}

/**
 * readRotationBundle + verifyRotation: a refusal is a StellaError with a listed code; an
 * acceptance must survive the independent reading in this file's comment.
 */
export function judgeRotation(
  tar: Uint8Array,
  trust: RotationTrust,
  signed: SignedPayloads,
  now = ROTATION_NOW,
): IterationResult {
  const minimize = (b: Uint8Array): Promise<boolean> =>
    Promise.resolve(judgeRotation(b, trust, signed, now).kind === 'failure');
  const r = attemptSync(() => verifyRotation(readRotationBundle(tar), trust, now));
  if (r.kind !== 'ok') return fromThrow(r, tar, 'readRotationBundle/verifyRotation', minimize);
  const verified = r.value;
  const plain = listTar(tar);
  const problems = plainTarProblems(tar, plain);
  if (plain.entries.length !== 3)
    problems.push(`a plain tar reader finds ${plain.entries.length} files, not 3`);
  const byName = new Map(plain.entries.map((e) => [e.name, e]));
  const payloadBytes = byName.get('payload.json')?.data;
  const rootBytes = byName.get('root.json')?.data;
  if (!payloadBytes || sha256Hex(payloadBytes) !== verified.payloadSha256)
    problems.push('payload.json is not what a plain tar reading extracts');
  if (!rootBytes || !Buffer.from(rootBytes).equals(Buffer.from(verified.rootBytes)))
    problems.push('root.json is not what a plain tar reading extracts');
  const signers = (payloadBytes && signed.get(sha256Hex(payloadBytes))) || new Set<string>();
  const trustedIds = trust.keys.map((k) => spkiKeyId(k.spki));
  const reallySigned = trustedIds.filter((id) => signers.has(id));
  if (reallySigned.length < trust.threshold)
    problems.push(
      `only ${reallySigned.length} trusted key(s) signed these payload bytes (threshold ${trust.threshold})`,
    );
  if (verified.signers.some((id) => !reallySigned.includes(id)))
    problems.push('a signer is reported that is not a trusted key that signed these bytes');
  let p: Record<string, any> = {};
  try {
    p = JSON.parse(Buffer.from(payloadBytes ?? []).toString('utf8'));
  } catch {
    problems.push('payload.json is not JSON');
  }
  if (p.type !== ROTATION_PAYLOAD_TYPE) problems.push('payload type is not the rotation type');
  if (p.version !== trust.lastVersion + 1)
    problems.push(`version ${p.version} is not the next after ${trust.lastVersion}`);
  if (!(typeof p.expires === 'string' && Date.parse(p.expires) > now))
    problems.push(`expires ${p.expires} is not after the clock`);
  if (!rootBytes || p.root?.sha256 !== sha256Hex(rootBytes) || p.root?.size !== rootBytes.length)
    problems.push('root.json is not the file the payload names');
  if (p.rotationKeys !== undefined) {
    const ids = newKeyIds(p.rotationKeys?.keys);
    const newSigned = ids?.filter((id) => signers.has(id)).length ?? 0;
    if (!ids || new Set(ids).size !== ids.length || !(newSigned >= p.rotationKeys.threshold))
      problems.push(
        'the new rotation keys are not distinct keys, at least their threshold of which signed',
      );
  }
  if (problems.length)
    return {
      kind: 'failure',
      problem: `POSSIBLE BYPASS: a rotation is accepted that an independent reading refuses: ${problems.join('; ')}`,
      input: tar,
      minimize,
    };
  return { kind: 'accepted', by: `version ${p.version}, ${verified.signers.length} signer(s)` };
}

export function rotationTarget(
  seeds: readonly RotationSeed[],
  roots: Uint8Array[],
  signed: SignedPayloads,
  defaultIterations: number,
): FuzzTarget {
  return {
    name: 'rotation',
    defaultIterations,
    async run(rng, trail) {
      const seed = rng.pick(seeds);
      return judgeRotation(
        await mutateRotation(rng, seed, roots, signed, trail),
        seed.trust,
        signed,
      );
    },
  };
}
