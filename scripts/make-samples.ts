/**
 * Generate samples/: a trusted root and bundles signed by a sandbox authority derived from a
 * FIXED seed at a FIXED clock, so running this twice writes byte-identical files (a test
 * regenerates into a temporary directory and compares with the committed samples/).
 *
 *   node dist/scripts/make-samples.js [OUT_DIR]     (default: <project>/samples)
 *
 * Every sample goes through the same path as real signing, in process instead of over HTTP:
 * OIDC token -> Fulcio request with proof of possession -> certificate -> signature -> Rekor
 * proposed entry -> LogEntry -> bundle. The "ephemeral" signing keys are derived from the seed
 * here (samples only: the real signer's key is random and never leaves memory).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sha256 } from '../src/crypto.js';
import { concatBytes, toBase64, toHex, utf8 } from '../src/util/encoding.js';
import { preAuthEncoding, serializeEnvelope } from '../src/bundle/dsse.js';
import { buildInTotoStatement, IN_TOTO_PAYLOAD_TYPE } from '../src/bundle/intoto.js';
import type { Bundle, BundleContent } from '../src/bundle/model.js';
import { serializeBundle } from '../src/bundle/serialize.js';
import {
  createSandboxAuthority,
  LocalRekorV2Log,
  LocalTsa,
  MemoryLogStorage,
  type SandboxAuthority,
} from '../src/sandbox/authority/index.js';
import {
  deriveAuthorityKey,
  deriveAuthorityKeys,
  seedFromString,
  type AuthorityKey,
} from '../src/sandbox/authority/keys.js';
import { deriveV2AuthorityKeys } from '../src/sandbox/authority/keys-v2.js';
import { createEntryRequestV2, keyDetailsFor } from '../src/sign/rekor-v2-client.js';
import { parseTransparencyLogEntryJson } from '../src/bundle/parse.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../src/bundle/serialize.js';
import type { MintTokenOptions } from '../src/sandbox/authority/oidc.js';
import { bundleFromRekorResponse } from '../src/bundle/from-rekor.js';
import { dsseProposal, hashedRekordProposal } from '../src/sign/rekor-client.js';
import { derToPem, pemToDerList } from '../src/util/pem.js';
import { writeFileAtomic } from '../src/util/fs.js';

export const SAMPLES_SEED = 'stella samples v1';
/** The authority's creation time: CA certificates and log keys are valid from here. */
export const SAMPLES_CREATED_AT = Date.UTC(2025, 0, 1, 0, 0, 0);
/** When the samples are signed (one minute apart, in file order). */
export const SAMPLES_SIGNED_AT = Date.UTC(2025, 5, 1, 12, 0, 0);

export const SAMPLES_URLS = {
  oidcIssuer: 'https://oidc.stella.invalid',
  fulcio: 'https://fulcio.stella.invalid',
  rekor: 'https://rekor.stella.invalid',
  ctLog: 'https://ctfe.stella.invalid',
  /** A Rekor v2 (rekor-tiles) log: its checkpoints are signed under this host name. */
  rekorV2: 'https://log2025-1.rekor.stella.invalid',
  tsa: 'https://timestamp.stella.invalid/api/v1/timestamp',
} as const;

const GITHUB_REPO = 'stella-samples/demo';
const GITLAB_PROJECT = 'stella-samples/demo';

export interface SampleDescription {
  file: string;
  what: string;
  verify: string;
}

export interface GeneratedSamples {
  /** File name -> exact content. */
  files: Map<string, string>;
  descriptions: SampleDescription[];
}

/** An ephemeral-signer stand-in with a deterministic key (the shape src/sign uses). */
function sampleSigner(seed: Uint8Array, label: string): { key: AuthorityKey; pem: string } {
  const key = deriveAuthorityKey(seed, label);
  return { key, pem: derToPem(key.spki, 'PUBLIC KEY') };
}

/** Token -> Fulcio request (PoP over `sub`) -> leaf certificate DER. */
function certify(
  authority: SandboxAuthority,
  signer: { key: AuthorityKey; pem: string },
  token: MintTokenOptions,
): Uint8Array {
  const jwt = authority.oidc.mintToken(token);
  const sub = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: token.now }).sub;
  const response = authority.fulcio.createSigningCertificate(
    {
      credentials: { oidcIdentityToken: jwt },
      publicKeyRequest: {
        publicKey: { algorithm: 'ECDSA', content: signer.pem },
        proofOfPossession: toBase64(signer.key.sign(utf8.encode(sub))),
      },
    },
    { now: token.now, oidcIssuers: [authority.oidc.trusted()] },
  );
  return pemToDerList(response.signedCertificateEmbeddedSct.chain.certificates[0]!)[0]!;
}

function bundleText(b: Bundle): string {
  return `${serializeBundle(b, { indent: 2 })}\n`;
}

/** Build every sample in memory. Pure: same code, same bytes. */
export function generateSamples(): GeneratedSamples {
  const seed = seedFromString(SAMPLES_SEED);
  const authority = createSandboxAuthority({
    keys: deriveAuthorityKeys(seed),
    createdAt: SAMPLES_CREATED_AT,
    urls: SAMPLES_URLS,
  });
  const minute = 60_000;
  const t = (i: number): number => SAMPLES_SIGNED_AT + i * minute;

  const artifact = utf8.encode(
    'Stella sample artifact.\nSigned by the Stella sandbox authority (fixed seed, fixed clock).\n',
  );
  const artifactDigest = sha256(artifact);
  const imageManifest = utf8.encode(
    `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${toHex(sha256(utf8.encode('{}')))}`,
          size: 2,
        },
        layers: [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            digest: `sha256:${toHex(artifactDigest)}`,
            size: artifact.length,
          },
        ],
      },
      null,
      2,
    )}\n`,
  );
  const imageDigest = sha256(imageManifest);

  const pending: Array<{
    file: string;
    content: BundleContent;
    signer: { certificate: Uint8Array } | { publicKeyHint: string };
    logIndex: number;
  }> = [];

  // 1. hashedrekord over a blob, GitHub Actions identity.
  const gh: MintTokenOptions = {
    platform: 'github',
    repo: GITHUB_REPO,
    ref: 'refs/heads/main',
    now: t(0),
  };
  {
    const signer = sampleSigner(seed, 'sample-ephemeral-blob');
    const cert = certify(authority, signer, gh);
    const signature = signer.key.sign(artifact);
    const r = authority.rekor.createEntry(
      hashedRekordProposal(toHex(artifactDigest), signature, derToPem(cert)),
      { now: t(0) + 5_000 },
    );
    pending.push({
      file: 'blob.sigstore.json',
      content: {
        kind: 'messageSignature',
        messageDigest: { algorithm: 'SHA2_256', digest: artifactDigest },
        signature,
      },
      signer: { certificate: cert },
      logIndex: r.logIndex,
    });
  }

  // 2. Digest only: the signer never sees the bytes (an image manifest digest), same flow.
  {
    const signer = sampleSigner(seed, 'sample-ephemeral-digest');
    const cert = certify(authority, signer, { ...gh, now: t(1) });
    const signature = signer.key.signDigest(imageDigest);
    const r = authority.rekor.createEntry(
      hashedRekordProposal(toHex(imageDigest), signature, derToPem(cert)),
      { now: t(1) + 5_000 },
    );
    pending.push({
      file: 'digest-only.sigstore.json',
      content: {
        kind: 'messageSignature',
        messageDigest: { algorithm: 'SHA2_256', digest: imageDigest },
        signature,
      },
      signer: { certificate: cert },
      logIndex: r.logIndex,
    });
  }

  // 3. In-toto attestation (SLSA-style provenance) in DSSE, GitLab CI identity.
  const gl: MintTokenOptions = {
    platform: 'gitlab',
    repo: GITLAB_PROJECT,
    ref: 'refs/heads/main',
    now: t(2),
  };
  const glClaims = authority.oidc.verifyToken(authority.oidc.mintToken(gl), {
    audience: 'sigstore',
    now: t(2),
  });
  const glSan = `https://${String(glClaims['ci_config_ref_uri'])}`;
  {
    const signer = sampleSigner(seed, 'sample-ephemeral-attestation');
    const cert = certify(authority, signer, gl);
    const { payload } = buildInTotoStatement(
      [{ name: 'artifact.txt', digest: { sha256: toHex(artifactDigest) } }],
      'https://slsa.dev/provenance/v1',
      {
        buildDefinition: {
          buildType: 'https://stella.invalid/sandbox/build/v1',
          externalParameters: {
            repository: `https://gitlab.com/${GITLAB_PROJECT}`,
            ref: 'refs/heads/main',
          },
          internalParameters: {},
          resolvedDependencies: [
            {
              uri: `git+https://gitlab.com/${GITLAB_PROJECT}@refs/heads/main`,
              digest: { gitCommit: String(glClaims['sha']) },
            },
          ],
        },
        runDetails: {
          builder: { id: glSan },
          metadata: {
            invocationId: `https://gitlab.com/${GITLAB_PROJECT}/-/jobs/${String(glClaims['job_id'])}`,
            startedOn: new Date(t(2) - minute).toISOString(),
            finishedOn: new Date(t(2)).toISOString(),
          },
        },
      },
    );
    const sig = signer.key.sign(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
    const content: BundleContent = {
      kind: 'dsseEnvelope',
      payload,
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig, keyid: '' }],
    };
    const r = authority.rekor.createEntry(
      dsseProposal(serializeEnvelope(content), derToPem(cert)),
      { now: t(2) + 5_000 },
    );
    pending.push({
      file: 'attestation.sigstore.json',
      content,
      signer: { certificate: cert },
      logIndex: r.logIndex,
    });
  }

  // 4. Managed key: a long-lived key named by a hint, verified with key.pub.
  const managed = sampleSigner(seed, 'sample-managed-key');
  const hint = toBase64(sha256(managed.key.spki));
  {
    const signature = managed.key.sign(artifact);
    const r = authority.rekor.createEntry(
      hashedRekordProposal(toHex(artifactDigest), signature, managed.pem),
      { now: t(3) + 5_000 },
    );
    pending.push({
      file: 'managed-key.sigstore.json',
      content: {
        kind: 'messageSignature',
        messageDigest: { algorithm: 'SHA2_256', digest: artifactDigest },
        signature,
      },
      signer: { publicKeyHint: hint },
      logIndex: r.logIndex,
    });
  }

  // 5. Rekor v2 with an RFC 3161 timestamp, as Sigstore's public-good instance now signs: the
  // log records no time, so the TSA's token over the signature is the bundle's verified time.
  const v2Keys = deriveV2AuthorityKeys(seed);
  const rekorV2 = new LocalRekorV2Log({
    key: v2Keys.rekorV2Log,
    storage: new MemoryLogStorage(),
    baseUrl: SAMPLES_URLS.rekorV2,
    validFrom: SAMPLES_CREATED_AT,
  });
  let serials = 0;
  const tsa = new LocalTsa({
    rootKey: v2Keys.tsaRoot,
    signerKey: v2Keys.tsaSigner,
    createdAt: SAMPLES_CREATED_AT,
    url: SAMPLES_URLS.tsa,
    // Token serials from the seed, so the token is the same bytes on every run.
    serialBytes: () => sha256(concatBytes(seed, utf8.encode(`sample-tsa-serial-${serials++}`))),
  });
  let rekorV2Bundle: Bundle;
  {
    const signer = sampleSigner(seed, 'sample-ephemeral-rekor-v2');
    const cert = certify(authority, signer, { ...gh, now: t(4) });
    const signature = signer.key.sign(artifact);
    const content: BundleContent = {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: artifactDigest },
      signature,
    };
    const timestamp = tsa.stamp(
      { hash: 'sha256', digest: sha256(signature), certReq: true },
      t(4) + 2_000,
    );
    const r = rekorV2.createEntry(
      createEntryRequestV2(content, cert, keyDetailsFor('ECDSA_P256')),
      { now: t(4) + 3_000 },
    );
    rekorV2Bundle = {
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      version: '0.3',
      verificationMaterial: {
        content: { kind: 'certificate', certificate: cert },
        tlogEntries: [parseTransparencyLogEntryJson(r.entry, 'Rekor v2 answer')],
        rfc3161Timestamps: [timestamp],
      },
      content,
    };
  }

  // Proofs against the final tree head (as GET /api/v1/log/entries/{uuid} would answer now),
  // so every bundle carries a non-trivial inclusion proof and one shared checkpoint.
  const files = new Map<string, string>();
  files.set(
    'trusted_root.json',
    authority.trustedRootJson({
      extraTlogs: [rekorV2.logInstance()],
      timestampAuthorities: [tsa.authority()],
    }),
  );
  files.set('artifact.txt', Buffer.from(artifact).toString('utf8'));
  files.set('image-manifest.json', Buffer.from(imageManifest).toString('utf8'));
  files.set('key.pub', managed.pem);
  for (const p of pending) {
    files.set(
      p.file,
      bundleText(
        bundleFromRekorResponse({
          content: p.content,
          signer: p.signer,
          rekorEntry: authority.rekor.entryByIndex(p.logIndex)!,
        }),
      ),
    );
  }
  files.set('rekor-v2.sigstore.json', bundleText(rekorV2Bundle));

  const ghSan = `https://github.com/${GITHUB_REPO}/.github/workflows/release.yml@refs/heads/main`;
  const iss = SAMPLES_URLS.oidcIssuer;
  const base = 'stella attest verify --trusted-root samples/trusted_root.json';
  const descriptions: SampleDescription[] = [
    {
      file: 'blob.sigstore.json',
      what: `hashedrekord signature over \`artifact.txt\`; keyless, GitHub Actions identity (\`sub\` \`repo:${GITHUB_REPO}:ref:refs/heads/main\`)`,
      verify: `${base} --bundle samples/blob.sigstore.json --artifact samples/artifact.txt \\\n  --certificate-identity '${ghSan}' \\\n  --certificate-oidc-issuer ${iss}`,
    },
    {
      file: 'digest-only.sigstore.json',
      what: `hashedrekord signature made from a digest alone (the SHA-256 of \`image-manifest.json\`, as for a container image); same GitHub identity`,
      verify: `${base} --bundle samples/digest-only.sigstore.json --artifact sha256:${toHex(imageDigest)} \\\n  --certificate-identity '${ghSan}' \\\n  --certificate-oidc-issuer ${iss}`,
    },
    {
      file: 'attestation.sigstore.json',
      what: `DSSE envelope with an in-toto v1 statement (SLSA provenance v1 predicate) whose subject is \`artifact.txt\`; keyless, GitLab CI identity (\`sub\` \`${glClaims.sub}\`)`,
      verify: `${base} --bundle samples/attestation.sigstore.json --artifact samples/artifact.txt \\\n  --certificate-identity '${glSan}' \\\n  --certificate-oidc-issuer ${iss}`,
    },
    {
      file: 'managed-key.sigstore.json',
      what: `hashedrekord signature over \`artifact.txt\` with a managed key (bundle carries the public key hint \`${hint}\`; the key is \`key.pub\`)`,
      verify: `${base} --bundle samples/managed-key.sigstore.json --artifact samples/artifact.txt --key samples/key.pub`,
    },
    {
      file: 'rekor-v2.sigstore.json',
      what: `hashedrekord signature over \`artifact.txt\`, logged as a v0.0.2 entry in a Rekor v2 log (\`${SAMPLES_URLS.rekorV2}\`, Ed25519 checkpoint), with an RFC 3161 timestamp as its only signing time; same GitHub identity`,
      verify: `${base} --bundle samples/rekor-v2.sigstore.json --artifact samples/artifact.txt \\\n  --certificate-identity '${ghSan}' \\\n  --certificate-oidc-issuer ${iss}`,
    },
  ];
  files.set('README.md', readme(descriptions, imageDigest));
  // Machine-readable index of the same samples, for the demo, the benchmark and tests.
  const manifest = {
    trustedRoot: 'trusted_root.json',
    bundles: [
      {
        name: 'blob',
        bundle: 'blob.sigstore.json',
        artifact: 'artifact.txt',
        identity: ghSan,
        issuer: iss,
      },
      {
        name: 'digest-only',
        bundle: 'digest-only.sigstore.json',
        artifact: 'image-manifest.json',
        artifactDigest: `sha256:${toHex(imageDigest)}`,
        identity: ghSan,
        issuer: iss,
      },
      {
        name: 'attestation',
        bundle: 'attestation.sigstore.json',
        artifact: 'artifact.txt',
        identity: glSan,
        issuer: iss,
      },
      {
        name: 'managed-key',
        bundle: 'managed-key.sigstore.json',
        artifact: 'artifact.txt',
        key: 'key.pub',
      },
      {
        name: 'rekor-v2',
        bundle: 'rekor-v2.sigstore.json',
        artifact: 'artifact.txt',
        identity: ghSan,
        issuer: iss,
      },
    ],
  };
  files.set('samples.json', `${JSON.stringify(manifest, null, 2)}\n`);
  return { files, descriptions };
}

function readme(descriptions: SampleDescription[], imageDigest: Uint8Array): string {
  const lines = [
    '# Samples',
    '',
    'Bundles signed by the Stella sandbox authority: an OIDC issuer, a Fulcio-compatible CA with',
    'its CT log, Rekor-compatible logs (v1 and v2) and an RFC 3161 timestamp authority, all',
    'derived from a fixed seed at a fixed clock.',
    'They verify offline against `trusted_root.json` in this directory, and only against it: the',
    'authority is a sandbox, its `.invalid` URLs name no real service.',
    '',
    'Generated by `npm run samples` (scripts/make-samples.ts). Do not edit by hand: running the',
    'generator again must reproduce every file byte for byte, and a test checks that it does.',
    '',
    '## Files',
    '',
    '- `trusted_root.json`: the authority as a trusted root (v0.2): CA chain (intermediate, root),',
    `  Rekor v1 log \`${SAMPLES_URLS.rekor}\`, Rekor v2 log \`${SAMPLES_URLS.rekorV2}\`, CT log`,
    `  \`${SAMPLES_URLS.ctLog}\`, timestamp authority \`${SAMPLES_URLS.tsa}\`, all valid from ${new Date(SAMPLES_CREATED_AT).toISOString().replace('.000Z', 'Z')}.`,
    '- `artifact.txt`: the signed blob.',
    `- \`image-manifest.json\`: an OCI manifest standing in for a container image; its digest is \`sha256:${toHex(imageDigest)}\`.`,
    '- `key.pub`: the managed key (PEM) for `managed-key.sigstore.json`.',
    ...descriptions.map((d) => `- \`${d.file}\`: ${d.what}.`),
    '',
    `Keyless certificates: issuer (OID 1.3.6.1.4.1.57264.1.8) \`${SAMPLES_URLS.oidcIssuer}\`; the SAN is`,
    'the workflow URI a real Fulcio would issue for that platform; the token subject is in',
    'extension 1.3.6.1.4.1.57264.1.24. Signed on 2025-06-01 (certificates live 10 minutes;',
    'the Rekor v1 entry time, or for the Rekor v2 sample the RFC 3161 timestamp, proves signing',
    'inside that window).',
    '',
    '## Verify',
    '',
    ...descriptions.flatMap((d) => [`${d.file}:`, '', '```sh', d.verify, '```', '']),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

export function writeSamples(outDir: string): string[] {
  const { files } = generateSamples();
  mkdirSync(outDir, { recursive: true });
  const names = [...files.keys()].sort();
  for (const name of names)
    writeFileAtomic(join(outDir, name), files.get(name)!, { what: 'sample' });
  return names;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  // dist/scripts/make-samples.js -> <project>/samples
  const defaultOut = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'samples');
  const out = resolve(process.argv[2] ?? defaultOut);
  const names = writeSamples(out);
  process.stdout.write(`wrote ${names.length} files to ${out}\n`);
}
