/**
 * The trust material describing a sandbox authority: its CA chain, its Rekor log and its CT
 * log, each valid from the authority's creation time. Serialized with the one trusted-root
 * writer (src/trust/trusted-root.ts) so `stella attest verify --trusted-root` and sigstore-js
 * read the same document.
 */
import { createPublicKey } from 'node:crypto';
import { sha256 } from '../../crypto.js';
import type {
  CertificateAuthority,
  TransparencyLogInstance,
  TrustMaterial,
} from '../../model/trust-material.js';
import { serializeTrustedRoot, TRUSTED_ROOT_MEDIA_TYPE_V02 } from '../../trust/trusted-root.js';
import { ROOT_NAME, type FulcioCA } from './fulcio.js';
import { withoutTrailing } from '../../util/text.js';

export interface AuthorityTrustInput {
  fulcio: FulcioCA;
  fulcioUrl: string;
  rekorUrl: string;
  rekorKeySpki: Uint8Array;
  ctLogUrl: string;
  /** More logs after the Rekor v1 log (the sandbox's Rekor v2 log: ./rekor-v2.ts logInstance()). */
  extraTlogs?: TransparencyLogInstance[];
  /** RFC 3161 TSAs (./tsa.ts authority()). */
  timestampAuthorities?: CertificateAuthority[];
}

function logInstance(baseUrl: string, spki: Uint8Array, start: number): TransparencyLogInstance {
  return {
    baseUrl: withoutTrailing(baseUrl, '/'),
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: spki,
      keyDetails: 'PKIX_ECDSA_P256_SHA_256',
      key: createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
      validFor: { start, end: undefined },
    },
    logId: sha256(spki),
    checkpointKeyId: undefined,
  };
}

export function authorityTrustMaterial(input: AuthorityTrustInput): TrustMaterial {
  const start = input.fulcio.createdAt;
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02,
    certificateAuthorities: [
      {
        subject: { organization: ROOT_NAME.organization, commonName: ROOT_NAME.commonName },
        uri: withoutTrailing(input.fulcioUrl, '/'),
        certChain: [input.fulcio.intermediateCertificate, input.fulcio.rootCertificate],
        validFor: { start, end: undefined },
      },
    ],
    tlogs: [logInstance(input.rekorUrl, input.rekorKeySpki, start), ...(input.extraTlogs ?? [])],
    ctlogs: [logInstance(input.ctLogUrl, input.fulcio.ctLogKeySpki, start)],
    timestampAuthorities: input.timestampAuthorities ?? [],
  };
}

/** trusted_root.json text (v0.2) for the authority. */
export function authorityTrustedRootJson(input: AuthorityTrustInput): string {
  return serializeTrustedRoot(authorityTrustMaterial(input));
}
