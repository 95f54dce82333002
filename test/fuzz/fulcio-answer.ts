/**
 * Fuzz target for the signer's side of the CA: what Fulcio answers `attest sign` (the
 * SigningCertificate JSON), read by `parseCertificateResponse` (the leaf must certify OUR key)
 * and taken by `checkIssuedCertificate` (chain and SCT against the trust root, as a verifier
 * will check them) and `checkCertificateWindow` (valid now). A certificate the signer takes
 * goes into a log entry and a bundle, so the property is the one the Rekor answer targets
 * hold: **what the signer accepts, the verifier accepts**. Here the rest of the signing path
 * runs for real after the certificate is taken: the artifact signed with the ephemeral key, the
 * entry logged by the authority's Rekor and checked by `acceptRekorV1Answer`, the bundle made,
 * then `verifyBundleReport` under the identity and issuer the certificate itself names (the
 * identity the signer reports to its user), and `@sigstore/verify` too: Stella's bundles are
 * for every Sigstore verifier.
 *
 * Seeds: the sandbox Fulcio's answers for two ephemeral keys (fixed keys, so every input is
 * reproducible from its seed). Mutations: the answer as JSON (each PEM certificate mutated as
 * DER or as text); the chain's shape (links dropped, reordered, doubled, another key's leaf,
 * a detached-SCT answer); and, most often, the leaf **issued again**: its TBSCertificate
 * mutated as DER, its SCT signed again by the CT log over the mutated precertificate, and the
 * whole signed by the authority's intermediate, so the checks behind the signatures (names,
 * extensions, validity, SCT contents) are reached.
 */
import { createPublicKey } from 'node:crypto';
import type { Bundle, BundleContent } from '../../src/bundle/model.js';
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/bundle/serialize.js';
import { sha256 } from '../../src/crypto.js';
import { octetString, oid as encodeOid } from '../../src/der/writer.js';
import { defaultSignerConfig, type SignerConfig } from '../../src/sign/config.js';
import { buildCertificateRequest, parseCertificateResponse } from '../../src/sign/fulcio-client.js';
import { createEphemeralKey, type EphemeralKey } from '../../src/sign/keys.js';
import { parseEntryResponse } from '../../src/sign/rekor-client.js';
import {
  acceptRekorV1Answer,
  checkCertificateWindow,
  checkIssuedCertificate,
} from '../../src/sign/sign.js';
import type { SandboxAuthority } from '../../src/sandbox/authority/index.js';
import type { TrustMaterial } from '../../src/model/trust-material.js';
import { derToPem, pemToDerList } from '../../src/util/pem.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import {
  basicConstraintsExtension,
  extKeyUsageExtension,
  fulcioIssuerV1Extension,
  fulcioIssuerV2Extension,
  keyUsageExtension,
  signTbsCertificate,
  subjectAltNameExtension,
  type DN,
  type SanInput,
} from '../../src/x509/issue.js';
import {
  certificateIdentities,
  parseCertificate,
  type Extension,
  type KeyUsageName,
} from '../../src/x509/certificate.js';
import {
  INTERMEDIATE_NAME,
  LocalRekorLog,
  MemoryLogStorage,
  ROOT_NAME,
} from '../../src/sandbox/authority/index.js';
import { OID } from '../../src/x509/oids.js';
import { encodeSctList, removeExtensionFromTbs } from '../../src/x509/sct.js';
import { AUTHORITY_CREATED_AT, ISSUER_URL, testAuthority } from '../helpers/authority-bundles.js';
import { authoritySct, issueAuthorityLeaf } from '../helpers/crafted-bundles.js';
import { readServiceJson } from '../../src/sign/http.js';
import { seededTarget, type FuzzTarget, type IterationResult } from './harness.js';
import { mutateBytes, type Trail } from './mutate-bytes.js';
import { mutateDer, parseDerTree, writeDerTree, type DerTree } from './mutate-der.js';
import { cloneJson, mutateJson, stringifyFuzz, type Json, type JsonHooks } from './mutate-json.js';
import { attemptSync, peerTrustOf, type PeerTrust } from './oracle.js';
import type { Prng } from './prng.js';
import { verifierTakes } from './rekor-answer.js';
import { fixedPrivateKey, fromThrow } from './targets.js';

/** The token's time and Fulcio's (the leaf's notBefore). */
const T0 = Date.UTC(2025, 5, 1);
/** The signer's clock when the answer arrives, and the log's when it integrates the entry. */
const SIGNER_NOW = T0 + 1_000;
const LOGGED_AT = T0 + 5_000;

export interface FulcioAnswerSeed {
  name: string;
  /** Fulcio's answer as it came: `{ signedCertificateEmbeddedSct: { chain: { certificates } } }`. */
  answer: Json;
  key: EphemeralKey;
  /** The leaf, the intermediate and the root, DER, as issued. */
  chain: Uint8Array[];
}

export interface FulcioAnswerSetup {
  authority: SandboxAuthority;
  trust: TrustMaterial;
  config: SignerConfig;
  seeds: FulcioAnswerSeed[];
  /** Every seed certificate: donors for DER splices. */
  donors: Uint8Array[];
  /** The authority's trusted root as @sigstore/verify reads it. */
  peerTrust: PeerTrust;
}

/** An ephemeral key the same every run (the private scalar is `fill` repeated). */
function fixedEphemeralKey(fill: number): EphemeralKey {
  return createEphemeralKey('ECDSA_P256', () => {
    const privateKey = fixedPrivateKey('p256', fill);
    return { privateKey, publicKey: createPublicKey(privateKey) };
  });
}

/** Two keys certified by the sandbox Fulcio, for two repositories' workflows. */
export function fulcioAnswerSetup(): FulcioAnswerSetup {
  const authority = testAuthority('fuzz-fulcio-answer');
  const seeds = (['org/repo', 'other-org/tool'] as const).map((repo, i) => {
    const key = fixedEphemeralKey(0x31 + i);
    const token = authority.oidc.mintToken({
      platform: 'github',
      repo,
      ref: 'refs/heads/main',
      now: T0,
    });
    const sub = authority.oidc.verifyToken(token, { audience: 'sigstore', now: T0 }).sub;
    const answer = authority.fulcio.createSigningCertificate(
      buildCertificateRequest(token, sub, key),
      { now: T0, oidcIssuers: [authority.oidc.trusted()] },
    );
    const chain = answer.signedCertificateEmbeddedSct.chain.certificates.map(
      (pem) => pemToDerList(pem)[0]!,
    );
    return { name: `fulcio-answer/${repo}`, answer: answer as unknown as Json, key, chain };
  });
  return {
    authority,
    trust: authority.trustMaterial(),
    config: defaultSignerConfig(),
    seeds,
    donors: seeds.flatMap((s) => s.chain),
    peerTrust: peerTrustOf(authority.trustedRootJson()),
  };
}

// ---------------------------------------------------------------------------------------
// Mutations

/** The SCT list extension's OID, as the content octets of its DER OBJECT IDENTIFIER. */
const SCT_LIST_OID_CONTENT = Buffer.from(encodeOid(OID.ctSctList).subarray(2));

/** The extnValue OCTET STRING of the SCT list extension in a TBSCertificate tree, if any. */
function sctExtensionValue(tbs: DerTree): DerTree | undefined {
  const extensions = tbs.kids?.find((k) => k.id.length === 1 && k.id[0] === 0xa3)?.kids?.[0];
  for (const ext of extensions?.kids ?? []) {
    const [oid] = ext.kids ?? [];
    const value = ext.kids?.[ext.kids.length - 1];
    if (
      oid?.content !== undefined &&
      Buffer.from(oid.content).equals(SCT_LIST_OID_CONTENT) &&
      value?.content !== undefined
    )
      return value;
  }
  return undefined;
}

/**
 * The seed's leaf issued again: its TBSCertificate mutated as DER; when it still carries an
 * SCT list, a new SCT signed by the CT log over the precertificate the verifier will rebuild
 * (the TBS without the list); then signed by the intermediate. The CA and the CT log are the
 * trusted ones, so what the signer and the verifier must judge is everything but the signatures.
 */
function reissueLeaf(rng: Prng, a: SandboxAuthority, leaf: Uint8Array, trail: Trail): Uint8Array {
  const tbsNode = parseDerTree(leaf)?.kids?.[0];
  if (!tbsNode) return leaf;
  const tbs = mutateDer(rng, writeDerTree(tbsNode).bytes, trail);
  const tree = rng.chance(0.85) ? parseDerTree(tbs) : undefined;
  const value = tree && sctExtensionValue(tree);
  let signed = tbs;
  if (tree && value) {
    const precert = attemptSync(() => removeExtensionFromTbs(tbs, OID.ctSctList));
    if (precert.kind === 'ok') {
      const timestamp = rng.pick([
        T0,
        T0 + 1,
        T0 - 1,
        T0 + 600_000,
        T0 + 600_001,
        T0 - 86_400_000,
        T0 + 86_400_000 * 365,
        0,
      ]);
      const sct = authoritySct(
        a,
        precert.value,
        timestamp,
        rng.chance(0.1) ? rng.bytes(rng.int(8)) : new Uint8Array(0),
      );
      value.content = octetString(encodeSctList([sct]));
      delete value.wrapped;
      signed = writeDerTree(tree).bytes;
      trail.push(`reissue: SCT signed again at ${timestamp}`);
    }
  }
  trail.push('reissue: leaf signed by the intermediate');
  return signTbsCertificate(signed, a.keys.intermediateCa.certSigner);
}

/** Times near the token's, and the boundaries a certificate's validity runs into. */
function timeCandidates(rng: Prng): number[] {
  return [
    T0,
    T0 - 1_000,
    T0 + 1_000,
    T0 + 2_000,
    T0 - 60_000,
    T0 + 60_000,
    T0 + 61_000,
    T0 + 5_000,
    T0 + 6_000,
    T0 - 600_000,
    AUTHORITY_CREATED_AT,
    AUTHORITY_CREATED_AT - 1_000,
    Date.UTC(2049, 11, 31, 23, 59, 59),
    Date.UTC(2050, 0, 1),
    Date.UTC(1950, 0, 1),
    T0 + rng.int(86_400) * 1_000 - 43_200_000,
  ];
}

const LIFETIMES = [
  600_000,
  0,
  1_000,
  4_000,
  5_000,
  6_000,
  -1_000,
  86_400_000,
  20 * 365 * 86_400_000,
];

/** What a re-issued leaf may name: as Fulcio does, and the forms a verifier must refuse. */
function sanCandidates(rng: Prng, identity: string): [string, SanInput | undefined][] {
  return [
    ['email', { emails: ['dev@example.com'] }],
    [
      'two URIs',
      { uris: [identity, 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main'] },
    ],
    ['URI and email', { uris: [identity], emails: ['dev@example.com'] }],
    ['otherName', { otherNames: [{ oid: OID.fulcioOtherNameSan, value: 'user!example.com' }] }],
    ['DNS name', { dnsNames: ['example.com'] }],
    ['empty URI', { uris: [''] }],
    ['URI with a newline', { uris: [`${identity}\nhttps://x`] }],
    ['URI with markup', { uris: ['https://example.com/<script>alert(1)</script>'] }],
    ['URI with a NUL', { uris: [`${identity}\u0000`] }],
    ['no names', {}],
    ['absent', undefined],
    ['random URI', { uris: [`https://${Buffer.from(rng.bytes(6)).toString('hex')}.example/`] }],
  ];
}

/**
 * The seed's leaf issued again **by the issuing code**, with its fields chosen rather than
 * mangled: another serial, validity, subject, SAN, issuer extension(s), usages or constraints,
 * an extension dropped or made critical, a precertificate, an SCT at another time or none.
 * Every edit is one a CA could make; the signer must refuse what the verifier will refuse.
 */
function craftLeafAgain(
  rng: Prng,
  a: SandboxAuthority,
  leafDer: Uint8Array,
  trail: Trail,
): Uint8Array {
  const leaf = parseCertificate(leafDer);
  const identity = certificateIdentities(leaf)[0]!.value;
  let extensions: Extension[] = leaf.extensions
    .filter((e) => e.oid !== OID.ctSctList)
    .map((e) => ({ oid: e.oid, critical: e.critical, value: e.value.slice() }));
  const set = (e: Extension): void => {
    extensions = [...extensions.filter((x) => x.oid !== e.oid), e];
  };
  let notBefore = leaf.notBefore;
  let notAfter = leaf.notAfter;
  let serial: bigint = BigInt(`0x${toHex(leaf.serialBytes)}`);
  let subjectName: DN | Uint8Array = new Uint8Array([0x30, 0x00]);
  let issuerName: DN = INTERMEDIATE_NAME;
  let spki = leaf.spkiDer;
  let precert = false;
  let sctTime: number | null = leaf.notBefore;
  const edits = 1 + rng.smallSize(2);
  for (let i = 0; i < edits; i++) {
    const edit = rng.int(13);
    switch (edit) {
      case 0:
        notBefore = rng.pick(timeCandidates(rng));
        notAfter = notBefore + rng.pick(LIFETIMES);
        trail.push(`craft: validity ${notBefore}..${notAfter}`);
        break;
      case 1:
        notAfter = rng.pick(timeCandidates(rng)) + rng.pick(LIFETIMES);
        trail.push(`craft: notAfter ${notAfter}`);
        break;
      case 2: {
        const [label, san] = rng.pick(sanCandidates(rng, identity));
        extensions = extensions.filter((x) => x.oid !== OID.subjectAltName);
        if (san) extensions.push(subjectAltNameExtension(san, rng.chance(0.8)));
        trail.push(`craft: SAN ${label}`);
        break;
      }
      case 3: {
        const url = rng.pick([
          ISSUER_URL,
          'https://other.test.invalid',
          '',
          `${ISSUER_URL}/`,
          'not a url',
        ]);
        const form = rng.pick(['v2', 'v1', 'both', 'both, v1 differs', 'neither'] as const);
        extensions = extensions.filter(
          (x) => x.oid !== OID.fulcioIssuerV1 && x.oid !== OID.fulcioIssuerV2,
        );
        if (form !== 'v1' && form !== 'neither') extensions.push(fulcioIssuerV2Extension(url));
        if (form === 'v1' || form === 'both') extensions.push(fulcioIssuerV1Extension(url));
        if (form === 'both, v1 differs') extensions.push(fulcioIssuerV1Extension(`${url}x`));
        trail.push(`craft: issuer ${form} "${url}"`);
        break;
      }
      case 4: {
        const usages = rng.pick<KeyUsageName[]>([
          [],
          ['keyCertSign'],
          ['digitalSignature', 'keyCertSign'],
          ['keyEncipherment'],
          ['cRLSign'],
        ]);
        set(keyUsageExtension(usages));
        trail.push(`craft: key usage ${usages.join(',') || '(none)'}`);
        break;
      }
      case 5: {
        const ekus = rng.pick([
          [],
          ['1.3.6.1.5.5.7.3.1'],
          [OID.ekuCodeSigning, '1.3.6.1.5.5.7.3.1'],
          ['2.5.29.37.0'],
        ]);
        set(extKeyUsageExtension(ekus, rng.chance(0.3)));
        trail.push(`craft: EKU ${ekus.join(',') || '(none)'}`);
        break;
      }
      case 6: {
        const ca = rng.chance(0.5);
        set(basicConstraintsExtension(ca));
        trail.push(`craft: basicConstraints cA ${ca}`);
        break;
      }
      case 7: {
        if (extensions.length === 0) break;
        const k = rng.int(extensions.length);
        trail.push(`craft: extension ${extensions[k]!.oid} dropped`);
        extensions = extensions.filter((_, j) => j !== k);
        break;
      }
      case 8: {
        if (extensions.length === 0) break;
        const k = rng.int(extensions.length);
        const e = extensions[k]!;
        trail.push(`craft: extension ${e.oid} critical ${!e.critical}`);
        extensions = extensions.map((x, j) => (j === k ? { ...x, critical: !x.critical } : x));
        break;
      }
      case 9:
        set({
          oid: '1.3.6.1.4.1.99999.1',
          critical: rng.chance(0.7),
          value: octetString(rng.bytes(4)),
        });
        trail.push('craft: unknown extension');
        break;
      case 10:
        serial = rng.pick([0n, -1n, 1n, 2n ** 159n - 1n, 2n ** 159n, 2n ** 160n, 2n ** 168n]);
        trail.push(`craft: serial ${serial}`);
        break;
      case 11:
        if (rng.chance(0.5)) {
          subjectName = { commonName: rng.pick(['dev', '', 'stella-sandbox-intermediate']) };
          trail.push('craft: subject named');
        } else {
          issuerName = rng.pick([ROOT_NAME, { organization: 'stella-sandbox.dev' }]);
          trail.push('craft: issuer name changed');
        }
        break;
      default: {
        const which = rng.weighted([
          [3, 'precertificate'],
          [1.4, 'no SCT'],
          [1.1, 'another key'],
          [4.5, 'SCT time'],
        ] as const);
        if (which === 'precertificate') {
          precert = true;
          trail.push('craft: precertificate (CT poison, no SCT)');
        } else if (which === 'no SCT') {
          sctTime = null;
          trail.push('craft: no SCT');
        } else if (which === 'another key') {
          spki = rng.pick([a.keys.ctLog.spki, a.keys.intermediateCa.spki]);
          trail.push('craft: another key');
        } else {
          sctTime = rng.pick(timeCandidates(rng));
          trail.push(`craft: SCT at ${sctTime}`);
        }
      }
    }
  }
  const issuer = a.keys.intermediateCa;
  const base = {
    serial,
    issuerName,
    subjectName,
    notBefore,
    notAfter,
    subjectPublicKeySpki: spki,
    signatureAlgorithmOid: issuer.certSigner.algorithmOid,
  };
  return issueAuthorityLeaf(a, base, extensions, { precert, sctTime });
}

/** craftLeafAgain, or nothing when the issuing code refuses the fields (an empty SAN, a year its DER writer cannot write). */
function craftedAgain(
  rng: Prng,
  a: SandboxAuthority,
  leafDer: Uint8Array,
  trail: Trail,
): Uint8Array | undefined {
  const made = attemptSync(() => craftLeafAgain(rng, a, leafDer, trail));
  if (made.kind === 'ok') return made.value;
  trail.push(`craft: construction refused (${made.kind === 'refused' ? made.code : made.kind})`);
  return undefined;
}

function pemMutator(donors: readonly Uint8Array[]) {
  return (rng: Prng, pem: string, trail: Trail): string => {
    const der = attemptSync(() => pemToDerList(pem));
    if (der.kind !== 'ok' || der.value.length !== 1 || rng.chance(0.2))
      return Buffer.from(mutateBytes(rng, utf8.encode(pem), trail)).toString('utf8');
    return derToPem(mutateDer(rng, der.value[0]!, trail, donors));
  };
}

type Chain = string[];

/** Another shape of chain: links dropped, doubled, reordered, or another key's leaf first. */
function reshapeChain(rng: Prng, setup: FulcioAnswerSetup, chain: Chain, trail: Trail): Chain {
  const [leaf, ...rest] = chain;
  const other = derToPem(rng.pick(setup.donors));
  const shapes: [string, () => Chain][] = [
    ['leaf alone', () => [leaf!]],
    ['no intermediate', () => [leaf!, ...rest.slice(1)]],
    ['reversed', () => [...chain].reverse()],
    ['leaf twice', () => [leaf!, ...chain]],
    ['root first', () => [...rest.slice(-1), leaf!, ...rest.slice(0, -1)]],
    ['another seed certificate first', () => [other, ...rest]],
    ['another seed certificate added', () => [...chain, other]],
    ['empty', () => []],
  ];
  const [label, make] = rng.pick(shapes);
  trail.push(`chain: ${label}`);
  return make();
}

export function mutateFulcioAnswer(
  rng: Prng,
  setup: FulcioAnswerSetup,
  s: FulcioAnswerSeed,
  trail: Trail,
): string {
  let chain: Chain = s.chain.map((d) => derToPem(d));
  let mutated = false;
  const r = rng.float();
  const leaf =
    r < 0.35
      ? craftedAgain(rng, setup.authority, s.chain[0]!, trail)
      : r < 0.6
        ? reissueLeaf(rng, setup.authority, s.chain[0]!, trail)
        : undefined;
  if (leaf) {
    chain = [derToPem(leaf), ...chain.slice(1)];
    mutated = true;
  }
  if (rng.chance(0.2)) {
    chain = reshapeChain(rng, setup, chain, trail);
    mutated = true;
  }
  const detached = rng.chance(0.05);
  if (detached) trail.push('answer: detached SCT');
  let answer: Json = detached
    ? {
        signedCertificateDetachedSct: {
          chain: { certificates: chain },
          signedCertificateTimestamp: toBase64(utf8.encode('{}')),
        },
      }
    : { signedCertificateEmbeddedSct: { chain: { certificates: chain } } };
  if (!(mutated || detached) || rng.chance(0.3)) {
    const hooks: JsonHooks = {
      stringField: (p) => (p.includes('certificates') ? pemMutator(setup.donors) : undefined),
    };
    const steps = 1 + rng.smallSize(2);
    for (let i = 0; i < steps; i++) answer = mutateJson(rng, cloneJson(answer), trail, hooks);
  }
  return stringifyFuzz(answer);
}

// ---------------------------------------------------------------------------------------
// Judge

/**
 * What the signer does with Fulcio's answer, then with the certificate it took: sign, log in
 * the authority's Rekor, check the entry (`acceptRekorV1Answer`), make the bundle; that bundle
 * must pass `verifyBundleReport` under the identity and issuer the certificate names.
 */
export async function judgeFulcioAnswer(
  setup: FulcioAnswerSetup,
  s: FulcioAnswerSeed,
  text: string,
): Promise<IterationResult> {
  // As the client reads it: what is not strict JSON reaches the checks as `undefined`.
  const json = readServiceJson(utf8.encode(text));
  const { trust, config } = setup;
  const taken = attemptSync(() => {
    const issued = parseCertificateResponse(json, s.key);
    const leaf = checkIssuedCertificate(issued.chain, issued.detachedSct, config, {
      trust,
      trustSource: 'trusted root',
    });
    checkCertificateWindow(leaf, SIGNER_NOW, "this machine's clock");
    return leaf;
  });
  if (taken.kind !== 'ok')
    return fromThrow(taken, text, 'parseCertificateResponse/checkIssuedCertificate');
  const leaf = taken.value;
  // The signature and the log entry, as sign.ts makes them.
  const artifact = utf8.encode(`fulcio answer ${toHex(sha256(leaf.der)).slice(0, 16)}\n`);
  const artifactDigest = sha256(artifact);
  const signature = s.key.sign(artifact);
  const content: BundleContent = {
    kind: 'messageSignature',
    messageDigest: { algorithm: 'SHA2_256', digest: artifactDigest },
    signature,
  };
  const made = attemptSync((): Bundle => {
    // A log of its own for each input (the authority's key and URL), so an input judges the
    // same when replayed alone, and the tree does not grow over a long campaign.
    const log = new LocalRekorLog({
      key: setup.authority.keys.rekorLog,
      storage: new MemoryLogStorage(),
      baseUrl: setup.authority.urls.rekor,
    });
    const created = log.createEntry(
      {
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: toHex(artifactDigest) } },
          signature: {
            content: toBase64(signature),
            publicKey: { content: toBase64(utf8.encode(derToPem(leaf.der))) },
          },
        },
      },
      { now: LOGGED_AT },
    );
    const logged = parseEntryResponse(log.entryByIndex(created.logIndex));
    const entry = acceptRekorV1Answer(logged, content, leaf, {
      trust,
      times: [],
      url: setup.authority.urls.rekor,
      trustNote: '',
    });
    // The bundle as sign.ts writes it (v0.3: the leaf alone).
    return {
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      version: '0.3',
      verificationMaterial: {
        content: { kind: 'certificate', certificate: leaf.der },
        tlogEntries: [entry],
        rfc3161Timestamps: [],
      },
      content,
    };
  });
  if (made.kind !== 'ok') return fromThrow(made, text, 'logging with the taken certificate');
  return verifierTakes(made.value, { artifactDigest, leaf }, trust, text, 'a Fulcio answer', {
    trust: setup.peerTrust,
    artifact,
  });
}

export function fulcioAnswerTarget(
  setup: FulcioAnswerSetup,
  defaultIterations: number,
): FuzzTarget {
  return seededTarget(
    'fulcio-answer',
    defaultIterations,
    setup.seeds,
    (rng, s, trail) => mutateFulcioAnswer(rng, setup, s, trail),
    (s, input) => judgeFulcioAnswer(setup, s, input),
  );
}

/** For the oracle's own test: the seed's answer as text. */
export const fulcioAnswerText = (s: FulcioAnswerSeed): string => stringifyFuzz(s.answer);
