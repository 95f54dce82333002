/**
 * Step 5: the signature over the artifact (or its digest), or over the DSSE PAE; for an
 * in-toto statement the artifact must be one of its subjects (sigstore-ruby CVE-2026-31830).
 */
import { fail } from '../errors.js';
import { verifySignature } from '../crypto.js';
import { bytesEqual, toHex } from '../util/encoding.js';
import { preAuthEncoding } from '../bundle/dsse.js';
import { parseInTotoStatement, statementHasSubjectDigest } from '../bundle/intoto.js';
import { artifactDigest, HASH_NAMES } from './artifact.js';
import type { VerifyInput, VerifyState } from './context.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface SignatureResult {
  content: 'messageSignature' | 'dsseEnvelope';
  digest: string;
  subject?: string;
}

export function verifySignatureStep(input: VerifyInput, state: VerifyState): SignatureResult {
  const { bundle, artifact } = input;
  const key = state.signingKey!.key;
  const c = bundle.content;
  if (c.kind === 'messageSignature') {
    const algorithm = c.messageDigest?.algorithm ?? (artifact.kind === 'digest' ? artifact.algorithm : 'SHA2_256');
    const actual = artifactDigest(artifact, algorithm);
    if (!actual) fail('ARTIFACT_MISMATCH', 'signature', `artifact digest algorithm ${artifact.kind === 'digest' ? artifact.algorithm : '?'} does not match the bundle's ${algorithm}`);
    if (c.messageDigest && !bytesEqual(c.messageDigest.digest, actual)) {
      fail('ARTIFACT_MISMATCH', 'signature', `artifact digest ${HASH_NAMES[algorithm]}:${toHex(actual)} does not match the bundle's messageDigest ${toHex(c.messageDigest.digest)}`);
    }
    const ok = artifact.kind === 'bytes' ? verifySignature(key, artifact.data, c.signature) : state.verifyPrehashed!(key, actual, c.signature);
    if (!ok) fail('SIGNATURE_INVALID', 'signature', `signature does not verify over the artifact ${HASH_NAMES[algorithm]}:${toHex(actual)}`);
    return { content: 'messageSignature', digest: `${HASH_NAMES[algorithm]}:${toHex(actual)}` };
  }
  if (c.signatures.length !== 1) fail('DSSE_INVALID', 'signature', `DSSE envelope must carry exactly one signature, found ${c.signatures.length}`);
  if (c.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail('DSSE_INVALID', 'signature', `DSSE payload type ${JSON.stringify(c.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  if (!verifySignature(key, preAuthEncoding(c.payloadType, c.payload), c.signatures[0]!.sig)) {
    fail('SIGNATURE_INVALID', 'signature', 'DSSE signature does not verify over the envelope payload');
  }
  const statement = parseInTotoStatement(c.payload);
  const algorithm = artifact.kind === 'digest' ? artifact.algorithm : 'SHA2_256';
  const digest = artifactDigest(artifact, algorithm)!;
  const hex = toHex(digest);
  if (!statementHasSubjectDigest(statement, HASH_NAMES[algorithm], hex)) {
    fail('ARTIFACT_MISMATCH', 'signature', `artifact ${HASH_NAMES[algorithm]}:${toHex(digest)} is not a subject of the in-toto statement`);
  }
  const subject = statement.subject.find((s) => s.digest[HASH_NAMES[algorithm]]?.toLowerCase() === hex)?.name;
  return { content: 'dsseEnvelope', digest: `${HASH_NAMES[algorithm]}:${hex}`, subject };
}
