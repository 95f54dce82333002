/**
 * RFC 3161 requests and responses around the token (./rfc3161.ts reads the token itself):
 *
 *   TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
 *     reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL,
 *     certReq BOOLEAN DEFAULT FALSE, extensions [0] IMPLICIT Extensions OPTIONAL }
 *   TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
 *   PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
 *     failInfo PKIFailureInfo OPTIONAL }
 *
 * The signer's TSA client writes requests and reads responses; the sandbox TSA reads requests
 * and writes responses: one encoding, both sides.
 */
import {
  parseDer,
  readAlgorithmIdentifier,
  readBoolean,
  readInteger,
  readOctetString,
  readOid,
  readSmallInteger,
  readString,
  Tag,
  type DerContext,
} from '../der/reader.js';
import {
  bool,
  int,
  namedBitString,
  nul,
  octetString,
  oid,
  seq,
  utf8String,
} from '../der/writer.js';
import { digestSize, type DigestName } from '../util/digest.js';
import { OID } from '../x509/oids.js';

/** Content types of RFC 3161 over HTTP (RFC 3161 §3.4). */
export const TIMESTAMP_QUERY_CONTENT_TYPE = 'application/timestamp-query';
export const TIMESTAMP_REPLY_CONTENT_TYPE = 'application/timestamp-reply';

const DIGEST_BY_NAME: Readonly<Record<DigestName, string>> = {
  sha256: OID.sha256,
  sha384: OID.sha384,
  sha512: OID.sha512,
};
const NAME_BY_DIGEST: Readonly<Record<string, DigestName>> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

export interface TimeStampRequest {
  hash: DigestName;
  /** The digest of the data to be stamped (for Sigstore: of the signature bytes). */
  digest: Uint8Array;
  policy?: string;
  nonce?: bigint;
  /** Ask the TSA to put its signing certificate in the token. */
  certReq: boolean;
}

/** PKIStatus values (RFC 3161 §2.4.2). */
export const PKI_STATUS = {
  granted: 0,
  grantedWithMods: 1,
  rejection: 2,
  waiting: 3,
  revocationWarning: 4,
  revocationNotification: 5,
} as const;

/** PKIFailureInfo bits. */
export const PKI_FAILURE = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  systemFailure: 25,
} as const;

export function encodeTimeStampReq(r: TimeStampRequest): Uint8Array {
  if (r.digest.length !== digestSize(r.hash))
    throw new RangeError(
      `TimeStampReq: a ${r.hash} digest is ${digestSize(r.hash)} bytes, not ${r.digest.length}`,
    );
  const fields = [int(1), seq(seq(oid(DIGEST_BY_NAME[r.hash]), nul()), octetString(r.digest))];
  if (r.policy !== undefined) fields.push(oid(r.policy));
  if (r.nonce !== undefined) fields.push(int(r.nonce));
  // DER: a DEFAULT FALSE boolean is left out when false.
  if (r.certReq) fields.push(bool(true));
  return seq(...fields);
}

/**
 * Parse a DER TimeStampReq strictly. Throws a StellaError with `ctx`'s code (the sandbox TSA
 * answers it with a rejection).
 */
export function parseTimeStampReq(
  der: Uint8Array,
  ctx: Partial<DerContext> = {},
): TimeStampRequest {
  const top = parseDer(
    der,
    { code: 'INPUT_INVALID', check: 'input', what: 'TimeStampReq', ...ctx },
    Tag.SEQUENCE,
  );
  const f = top.sequence('TimeStampReq', 2, 6);
  const version = readSmallInteger(f[0]!, 'TimeStampReq version');
  if (version !== 1) f[0]!.fail(`unsupported TimeStampReq version ${version}`);
  const [algNode, hashedNode] = f[1]!.sequence('messageImprint', 2, 2) as [typeof top, typeof top];
  const alg = readAlgorithmIdentifier(algNode, 'messageImprint hashAlgorithm');
  if (alg.params && !(alg.params.is(Tag.NULL) && alg.params.length === 0))
    algNode.fail('messageImprint hashAlgorithm: unexpected parameters');
  const hash = NAME_BY_DIGEST[alg.oid];
  if (!hash) return algNode.fail(`unsupported messageImprint hash algorithm ${alg.oid}`);
  const digest = readOctetString(hashedNode);
  if (digest.length !== digestSize(hash))
    hashedNode.fail(`a ${hash} imprint is ${digestSize(hash)} bytes, not ${digest.length}`);
  const out: TimeStampRequest = { hash, digest: Uint8Array.from(digest), certReq: false };
  let i = 2;
  if (f[i]?.is(Tag.OID)) out.policy = readOid(f[i++]!);
  if (f[i]?.is(Tag.INTEGER)) out.nonce = readInteger(f[i++]!);
  if (f[i]?.is(Tag.BOOLEAN)) {
    const b = f[i++]!;
    out.certReq = readBoolean(b);
    if (!out.certReq) b.fail('certReq FALSE must be omitted (DER DEFAULT)');
  }
  if (f[i]?.isContext(0)) f[i]!.fail('TimeStampReq extensions are not supported');
  if (i !== f.length) f[i]!.fail('unexpected TimeStampReq field');
  return out;
}

/** A TimeStampResp: granted with a token, or a refusal with a reason and failure bits. */
export function encodeTimeStampResp(
  status: number,
  token?: Uint8Array,
  refusal?: { text?: string; failure?: number },
): Uint8Array {
  const info = [int(status)];
  if (refusal?.text !== undefined) info.push(seq(utf8String(refusal.text)));
  if (refusal?.failure !== undefined) info.push(namedBitString([refusal.failure]));
  return token ? seq(seq(...info), token) : seq(seq(...info));
}

export interface ParsedTimeStampResp {
  status: number;
  statusText: string | undefined;
  /** The token (ContentInfo) DER, when the TSA granted one. */
  token: Uint8Array | undefined;
}

/** Read a TimeStampResp's status and token (the token itself is read by ./rfc3161.ts). */
export function parseTimeStampResp(
  der: Uint8Array,
  ctx: Partial<DerContext> = {},
): ParsedTimeStampResp {
  const top = parseDer(
    der,
    { code: 'TIMESTAMP_INVALID', check: 'verified-times', what: 'TimeStampResp', ...ctx },
    Tag.SEQUENCE,
  );
  const f = top.sequence('TimeStampResp', 1, 2);
  const info = f[0]!.sequence('PKIStatusInfo', 1, 3);
  const status = readSmallInteger(info[0]!, 'PKIStatus');
  let statusText: string | undefined;
  if (info[1]?.is(Tag.SEQUENCE)) statusText = info[1].children.map((c) => readString(c)).join(' ');
  return { status, statusText, token: f[1] ? Uint8Array.from(f[1].der) : undefined };
}
