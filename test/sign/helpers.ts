/**
 * Test helpers for the signing tests: verify a bundle offline with @sigstore/verify (a verifier
 * no one here wrote) and with Stella's own verifier, both against the sandbox trusted_root.json.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { parseBundle } from '../../src/bundle/parse.js';
import { parseTrustedRoot } from '../../src/trust/trusted-root.js';
import { verifyBundle } from '../../src/verify/pipeline.js';
import { buildPolicy } from '../../src/verify/policy.js';
import type { Artifact } from '../../src/verify/artifact.js';
import { fromHex } from '../../src/util/encoding.js';
import { literalPattern } from '../../src/verify/identity-pattern.js';

// @sigstore/protobuf-specs is @sigstore/verify's own dependency: resolve it from there.
const requireFromVerify = createRequire(createRequire(import.meta.url).resolve('@sigstore/verify'));
const { TrustedRoot } = requireFromVerify('@sigstore/protobuf-specs') as {
  TrustedRoot: { fromJSON(j: unknown): unknown };
};

export interface Expected {
  san: string;
  issuer: string;
}

/** @sigstore/verify: bundle JSON + artifact bytes (or none for DSSE) against the trust root file. */
export function verifyWithSigstoreJs(
  bundleJson: string,
  trustedRootPath: string,
  artifact: Uint8Array | undefined,
  expected: Expected,
): void {
  const trust = toTrustMaterial(
    TrustedRoot.fromJSON(JSON.parse(readFileSync(trustedRootPath, 'utf8'))) as Parameters<
      typeof toTrustMaterial
    >[0],
  );
  const verifier = new Verifier(trust);
  const bundle = bundleFromJSON(JSON.parse(bundleJson));
  verifier.verify(toSignedEntity(bundle, artifact ? Buffer.from(artifact) : undefined), {
    subjectAlternativeName: expected.san,
    extensions: { issuer: expected.issuer },
  });
}

/** Stella's verifier (src/verify): the artifact as bytes or as a sha256 digest. */
export async function verifyWithStella(
  bundleJson: string,
  trustedRootPath: string,
  artifact: Uint8Array | string,
  expected: Expected,
): Promise<void> {
  const a: Artifact =
    typeof artifact === 'string'
      ? { kind: 'digest', algorithm: 'SHA2_256', digest: fromHex(artifact.replace(/^sha256:/, '')) }
      : { kind: 'bytes', data: artifact };
  await verifyBundle({
    bundle: parseBundle(bundleJson),
    artifact: a,
    trust: parseTrustedRoot(readFileSync(trustedRootPath)),
    policy: buildPolicy({
      certificateIdentity: literalPattern(expected.san),
      certificateOidcIssuer: expected.issuer,
      requireTlog: true,
    }),
  });
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** The tree size of a sandbox's Rekor v1 log (`GET /api/v1/log`): did a run log anything? */
export async function rekorV1TreeSize(rekorUrl: string): Promise<number> {
  const log = (await (await fetch(`${rekorUrl}/api/v1/log`)).json()) as { treeSize: number };
  return log.treeSize;
}
