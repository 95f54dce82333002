/**
 * Fuzz target for what a registry (or a CI job) hands Stella as text on the connected side,
 * before any signature is checked: a referrers index (`parseIndex`), a WWW-Authenticate header
 * (`parseChallenges`), an image reference (`parseImageReference`) and an OIDC identity token
 * (`decodeJwt`). Each is held to a plain reading of its own:
 *
 *   - an index: the descriptors returned are the `manifests` a plain JSON.parse finds, each with
 *     a valid digest, size and media type;
 *   - a challenge header never throws, and what it parses to is what the header written back
 *     from it parses to;
 *   - an image reference: the digest is what follows the `@`, and the reference Stella prints
 *     (`formatImage`) parses back to the same image;
 *   - a token: the signing input is the token's first two parts, and its header and claims are
 *     what a plain base64url and JSON.parse reading gives.
 */
import { MEDIA_TYPES, isDigest, parseChallenges, parseIndex } from '../../src/oci/client.js';
import { formatImage, parseImageReference } from '../../src/oci/reference.js';
import { decodeJwt } from '../../src/util/jwt.js';
import { utf8 } from '../../src/util/encoding.js';
import type { FuzzTarget, IterationResult } from './harness.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { mutateJson, stringifyFuzz, type Json } from './mutate-json.js';
import { classifyThrow } from './oracle.js';
import { fromThrow } from './targets.js';
import type { Prng } from './prng.js';

const D1 = `sha256:${'ab'.repeat(32)}`;
const D2 = `sha512:${'cd'.repeat(64)}`;

const INDEX: Json = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociIndex,
  manifests: [
    {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: D1,
      size: 1234,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
    },
    { mediaType: MEDIA_TYPES.ociManifest, digest: D2, size: 0 },
  ],
};

const CHALLENGES = [
  'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:org/app:pull"',
  'Basic realm="registry"',
  'Bearer realm="a\\"b\\\\c", error="insufficient_scope" , Basic realm=x',
  'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
];

const REFERENCES = [
  `ghcr.io/org/app@${D1}`,
  `localhost:5000/a/b:v1.2@${D1}`,
  `alpine@${D1}`,
  `[::1]:5000/x/y@${D1}`,
  `index.docker.io/library/alpine:3.20@${D1}`,
  `Registry.Example:443/a__b/c-d.e@${D1}`,
];

const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const TOKEN_HEADER: Json = { alg: 'ES256', typ: 'JWT', kid: 'k1' };
const TOKEN_CLAIMS: Record<string, Json> = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'repo:org/app:ref:refs/heads/main',
  aud: 'sigstore',
  exp: 1750000000,
  iat: 1749999700,
  email: 'a@example.com',
};
const token = (h: string, p: string, s = 'c2ln'): string => `${b64url(h)}.${b64url(p)}.${s}`;

type Kind = 'index' | 'challenge' | 'reference' | 'token';

/** Text mutated as bytes: every value a string can hold, odd UTF-8 and control bytes included. */
function mutateText(rng: Prng, s: string, trail: Trail): string {
  return Buffer.from(havoc(rng, utf8.encode(s), trail)).toString(
    rng.chance(0.5) ? 'utf8' : 'latin1',
  );
}

function failure(problem: string, input: string, error?: unknown): IterationResult {
  return { kind: 'failure', problem, input, ...(error === undefined ? {} : { error }) };
}

/** A refusal that must be a StellaError with a listed code. */
const refusal = (e: unknown, what: string, input: string): IterationResult =>
  fromThrow(classifyThrow(e), input, what);

export function judgeIndex(text: string): IterationResult {
  let got;
  try {
    got = parseIndex(utf8.encode(text), 'fuzzed referrers index');
  } catch (e) {
    return refusal(e, 'parseIndex', text);
  }
  let plain: { manifests?: unknown[] } | undefined;
  try {
    plain = JSON.parse(text) as { manifests?: unknown[] };
  } catch {
    return failure('POSSIBLE BYPASS: parseIndex accepts text JSON.parse refuses', text);
  }
  if (!Array.isArray(plain?.manifests) || plain.manifests.length !== got.length)
    return failure(
      'POSSIBLE BYPASS: parseIndex returns other descriptors than a plain reading',
      text,
    );
  const bad = got.find(
    (d) =>
      !isDigest(d.digest) ||
      !Number.isSafeInteger(d.size) ||
      d.size < 0 ||
      d.mediaType.length === 0 ||
      Object.values(d.annotations ?? {}).some((v) => typeof v !== 'string'),
  );
  if (bad) return failure('POSSIBLE BYPASS: parseIndex returns an invalid descriptor', text);
  return { kind: 'accepted', by: `${got.length} descriptor(s)` };
}

/** A challenge list written back as a header: quoted values, `"` and `\` escaped. */
function writeChallenges(cs: ReturnType<typeof parseChallenges>): string {
  return cs
    .map((c) => {
      const params = Object.entries(c.params).map(
        ([k, v]) => `${k}="${v.replace(/[\\"]/g, (m) => `\\${m}`)}"`,
      );
      return params.length ? `${c.scheme} ${params.join(', ')}` : c.scheme;
    })
    .join(', ');
}

export function judgeChallenges(header: string): IterationResult {
  let got;
  try {
    got = parseChallenges(header);
  } catch (e) {
    return failure(
      'CRASH: parseChallenges threw (a header is never refused, only parsed)',
      header,
      e,
    );
  }
  const again = parseChallenges(writeChallenges(got));
  if (JSON.stringify(again) !== JSON.stringify(got))
    return failure(
      `parseChallenges reads the header it parsed, written back, differently: ${JSON.stringify(got).slice(0, 300)} vs ${JSON.stringify(again).slice(0, 300)}`,
      header,
    );
  return { kind: 'accepted', by: `${got.length} challenge(s)` };
}

export function judgeReference(s: string): IterationResult {
  let ref;
  try {
    ref = parseImageReference(s, '--image');
  } catch (e) {
    return refusal(e, 'parseImageReference', s);
  }
  if (ref.digest !== s.slice(s.indexOf('@') + 1))
    return failure('POSSIBLE BYPASS: the digest is not what follows the @', s);
  let back;
  try {
    back = parseImageReference(formatImage(ref), '--image');
  } catch (e) {
    return failure(`the reference Stella prints does not parse back: ${formatImage(ref)}`, s, e);
  }
  if (JSON.stringify(back) !== JSON.stringify(ref))
    return failure(`the reference Stella prints parses to another image: ${formatImage(ref)}`, s);
  return { kind: 'accepted', by: 'round trip' };
}

export function judgeToken(t: string): IterationResult {
  let got;
  try {
    got = decodeJwt(t, { code: 'INPUT_INVALID', check: 'input', what: 'identity token' });
  } catch (e) {
    return refusal(e, 'decodeJwt', t);
  }
  const parts = t.trim().split('.');
  const plain = (part: string): string =>
    JSON.stringify(JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  let same: boolean;
  try {
    same =
      got.signingInput === `${parts[0]}.${parts[1]}` &&
      plain(parts[0]!) === JSON.stringify(got.header) &&
      plain(parts[1]!) === JSON.stringify(got.payload);
  } catch {
    same = false;
  }
  if (!same)
    return failure(
      'POSSIBLE BYPASS: decodeJwt reads a token differently from a plain base64url and JSON reading',
      t,
    );
  return { kind: 'accepted', by: 'plain reading agrees' };
}

export function registryTarget(defaultIterations: number): FuzzTarget {
  return {
    name: 'registry',
    defaultIterations,
    run(rng, trail) {
      const kind = rng.pick<Kind>(['index', 'challenge', 'reference', 'token']);
      trail.push(kind);
      switch (kind) {
        case 'index': {
          let doc = INDEX;
          const steps = 1 + rng.smallSize(3);
          for (let i = 0; i < steps; i++) doc = mutateJson(rng, doc, trail);
          const text = stringifyFuzz(doc);
          return judgeIndex(rng.chance(0.1) ? mutateText(rng, text, trail) : text);
        }
        case 'challenge':
          return judgeChallenges(mutateText(rng, rng.pick(CHALLENGES), trail));
        case 'reference':
          return judgeReference(mutateText(rng, rng.pick(REFERENCES), trail));
        default: {
          if (rng.chance(0.3))
            return judgeToken(
              mutateText(
                rng,
                token(JSON.stringify(TOKEN_HEADER), JSON.stringify(TOKEN_CLAIMS)),
                trail,
              ),
            );
          // One part mutated as JSON (or as text), the others kept.
          const header = rng.chance(0.5) ? mutateJson(rng, TOKEN_HEADER, trail) : TOKEN_HEADER;
          const claims = rng.chance(0.7) ? mutateJson(rng, TOKEN_CLAIMS, trail) : TOKEN_CLAIMS;
          return judgeToken(
            token(
              stringifyFuzz(header),
              stringifyFuzz(claims),
              rng.pick(['c2ln', '', 'c2ln=', 'a.b']),
            ),
          );
        }
      }
    },
  };
}
