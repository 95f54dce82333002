/**
 * Which artifacts a bundle is for, by sha256 (the key of the attestation store, export
 * archives and image digests): the message digest of a message signature, or the sha256
 * subjects of an in-toto statement. Used wherever a bundle is filed or attached under an
 * artifact (export archives, OCI registries).
 */
import { toHex } from '../util/encoding.js';
import { IN_TOTO_PAYLOAD_TYPE, parseInTotoStatement } from './intoto.js';
import type { Bundle } from './model.js';

export function artifactDigestsOf(bundle: Bundle): string[] {
  const c = bundle.content;
  if (c.kind === 'messageSignature') {
    return c.messageDigest?.algorithm === 'SHA2_256'
      ? [`sha256:${toHex(c.messageDigest.digest)}`]
      : [];
  }
  if (c.payloadType !== IN_TOTO_PAYLOAD_TYPE) return [];
  const stmt = parseInTotoStatement(c.payload);
  const out = new Set<string>();
  // The statement parser holds every sha256 value to 64 hex digits (of either case).
  for (const s of stmt.subject) {
    const hex = s.digest.sha256;
    if (hex !== undefined) out.add(`sha256:${hex.toLowerCase()}`);
  }
  return [...out].sort();
}
