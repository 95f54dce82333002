/**
 * An RFC 3161 time-stamping authority core (pure, in memory): a root CA and a timestamping
 * certificate (EKU id-kp-timeStamping, critical), both deterministic functions of the keys
 * and the creation time, like the sandbox Fulcio's. It answers a TimeStampReq (DER, as RFC
 * 3161 clients and sigstore-go send it) or the JSON request of Sigstore's timestamp-authority
 * (`{artifactHash, hashAlgorithm, nonce?, certificates?}`, as @sigstore/sign sends it) with a
 * DER TimeStampResp. Tokens are built by src/timestamp/issue.ts, the code the verifier's
 * tests are pinned against, and read back by src/timestamp/rfc3161.ts.
 */
import { randomBytes } from 'node:crypto';
import { fail, isStellaError } from '../../errors.js';
import { concatBytes, decodeBase64, toHex, utf8 } from '../../util/encoding.js';
import { isDigestName, digestSize, type DigestName } from '../../util/digest.js';
import { sha256 } from '../../crypto.js';
import { issueTimestampToken } from '../../timestamp/issue.js';
import { sigstoreJsRewrites } from '../../der/octet-reparse.js';
import {
  encodeTimeStampResp,
  parseTimeStampReq,
  PKI_FAILURE,
  PKI_STATUS,
  type TimeStampRequest,
} from '../../timestamp/request.js';
import type { CertificateAuthority } from '../../model/trust-material.js';
import { derToPem } from '../../util/pem.js';
import {
  authorityKeyIdExtension,
  basicConstraintsExtension,
  extKeyUsageExtension,
  issueCertificate,
  keyIdentifierFromSpki,
  keyUsageExtension,
  subjectKeyIdExtension,
  type DN,
} from '../../x509/issue.js';
import { OID } from '../../x509/oids.js';
import { CA_LIFETIME_MS } from './fulcio.js';
import type { AuthorityKey } from './keys.js';
import { quoted } from '../../util/text.js';

export const TSA_ROOT_NAME: DN = {
  organization: 'stella-sandbox.dev',
  commonName: 'stella-sandbox-tsa-root',
};
export const TSA_SIGNER_NAME: DN = {
  organization: 'stella-sandbox.dev',
  commonName: 'stella-sandbox-tsa',
};
/** The policy Sigstore's timestamp authority stamps under. */
export const TSA_POLICY_OID = '1.3.6.1.4.1.57264.2';

export interface LocalTsaOptions {
  rootKey: AuthorityKey;
  signerKey: AuthorityKey;
  /** When the certificates start being valid (ms); they last CA_LIFETIME_MS. */
  createdAt: number;
  /** The full URL requests are POSTed to (signing config tsaUrls[].url; trusted root uri). */
  url: string;
  /** The 16 random bytes each token's serial is made from (default: node:crypto's randomBytes); tests replay a serial with it. */
  serialBytes?: () => Uint8Array;
}

/** A TSA's answer: an HTTP status and the DER TimeStampResp (a rejection carries the reason too). */
export interface TimestampAnswer {
  httpStatus: number;
  response: Uint8Array;
  /** Why it was refused, for logs and tests. */
  reason?: string;
}

function positiveSerial(bytes: Uint8Array): Uint8Array {
  const s = Uint8Array.from(bytes.slice(0, 16));
  s[0] = (s[0]! & 0x7f) | 0x01;
  return s;
}

export class LocalTsa {
  readonly url: string;
  readonly createdAt: number;
  readonly notAfter: number;
  readonly rootCertificate: Uint8Array;
  readonly signerCertificate: Uint8Array;
  readonly #signerKey: AuthorityKey;
  readonly #serialBytes: () => Uint8Array;

  constructor(opts: LocalTsaOptions) {
    this.url = opts.url;
    this.createdAt = opts.createdAt;
    this.notAfter = opts.createdAt + CA_LIFETIME_MS;
    this.#signerKey = opts.signerKey;
    this.#serialBytes = opts.serialBytes ?? (() => new Uint8Array(randomBytes(16)));
    const rootKeyId = keyIdentifierFromSpki(opts.rootKey.spki);
    const time = utf8.encode(String(this.createdAt));
    this.rootCertificate = issueCertificate({
      serial: positiveSerial(sha256(concatBytes(utf8.encode('tsa-root'), opts.rootKey.spki, time))),
      issuerName: TSA_ROOT_NAME,
      subjectName: TSA_ROOT_NAME,
      notBefore: this.createdAt,
      notAfter: this.notAfter,
      subjectPublicKeySpki: opts.rootKey.spki,
      extensions: [
        keyUsageExtension(['keyCertSign', 'cRLSign']),
        basicConstraintsExtension(true, 0),
        subjectKeyIdExtension(rootKeyId),
      ],
      signer: opts.rootKey.certSigner,
    });
    const signerCertificate = (attempt: number): Uint8Array =>
      issueCertificate({
        serial: positiveSerial(
          sha256(
            concatBytes(
              utf8.encode('tsa-signer'),
              opts.signerKey.spki,
              time,
              // Another serial only when the first one's certificate hash would be misread.
              attempt === 0 ? new Uint8Array(0) : utf8.encode(String(attempt)),
            ),
          ),
        ),
        issuerName: TSA_ROOT_NAME,
        subjectName: TSA_SIGNER_NAME,
        notBefore: this.createdAt,
        notAfter: this.notAfter,
        subjectPublicKeySpki: opts.signerKey.spki,
        extensions: [
          keyUsageExtension(['digitalSignature']),
          extKeyUsageExtension([OID.ekuTimeStamping], true),
          subjectKeyIdExtension(keyIdentifierFromSpki(opts.signerKey.spki)),
          authorityKeyIdExtension(rootKeyId),
        ],
        signer: opts.rootKey.certSigner,
      });
    // Every token's signed attributes carry this certificate's SHA-256 (ESSCertIDv2), which
    // sigstore-js re-encodes: a hash it would misread would fail every token of this TSA.
    let attempt = 0;
    let cert = signerCertificate(attempt);
    while (sigstoreJsRewrites(sha256(cert))) cert = signerCertificate(++attempt);
    this.signerCertificate = cert;
  }

  /** The TSA as a trusted root lists it: signing certificate first, then its root. */
  authority(): CertificateAuthority {
    return {
      subject: { organization: TSA_ROOT_NAME.organization, commonName: TSA_ROOT_NAME.commonName },
      uri: this.url,
      certChain: [this.signerCertificate, this.rootCertificate],
      validFor: { start: this.createdAt, end: undefined },
    };
  }

  /** GET <url>/certchain: the chain as PEM, signing certificate first (as timestamp-authority serves it). */
  certChainPem(): string {
    return derToPem(this.signerCertificate) + derToPem(this.rootCertificate);
  }

  /** Stamp a parsed request at `now` (ms). */
  stamp(req: TimeStampRequest, now: number): Uint8Array {
    if (req.policy !== undefined && req.policy !== TSA_POLICY_OID) {
      fail(
        'INPUT_INVALID',
        'input',
        `TSA: policy ${req.policy} is not this TSA's (${TSA_POLICY_OID})`,
      );
    }
    if (!Number.isSafeInteger(now) || now < this.createdAt || now > this.notAfter)
      fail('INPUT_INVALID', 'input', 'TSA: the clock is outside the TSA certificate validity');
    const issue = (): Uint8Array =>
      issueTimestampToken({
        imprint: { hash: req.hash, digest: req.digest },
        // Whole seconds: DER drops trailing fraction zeros, and @sigstore/core reads a genTime
        // only without a fraction or with exactly three digits (as Go's encoding writes it).
        genTime: now,
        serial: BigInt(`0x${toHex(positiveSerial(this.#serialBytes()))}`),
        policy: TSA_POLICY_OID,
        ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
        signerCertificate: this.signerCertificate,
        embedCertificates: req.certReq ? [this.signerCertificate] : [],
        signer: this.#signerKey.certSigner,
      });
    // sigstore-js re-encodes the TSTInfo and the signed attributes before checking them, and
    // misreads an OCTET STRING whose contents parse with a non-minimal length (about one
    // 32-byte digest in 120,000: ../../der/octet-reparse.ts). The signed attributes' digest of
    // the TSTInfo changes with the serial, so another serial avoids it; the request's own
    // digest in the TSTInfo cannot be changed here (that token is refused by sigstore-js only).
    let token = issue();
    for (let tries = 1; tries < 4 && sigstoreJsRewrites(token); tries++) token = issue();
    return encodeTimeStampResp(PKI_STATUS.granted, token);
  }

  /** POST application/timestamp-query: a DER TimeStampReq. */
  answerDer(body: Uint8Array, now: number): TimestampAnswer {
    let req: TimeStampRequest;
    try {
      req = parseTimeStampReq(body);
    } catch (e) {
      if (!isStellaError(e)) throw e;
      return this.#refuse(
        e.message,
        /hash algorithm/.test(e.message) ? PKI_FAILURE.badAlg : PKI_FAILURE.badDataFormat,
      );
    }
    return this.#answer(req, now);
  }

  /** POST application/json: Sigstore timestamp-authority's JSONRequest. */
  answerJson(body: unknown, now: number): TimestampAnswer {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return this.#refuse('the request must be a JSON object', PKI_FAILURE.badDataFormat);
    const o = body as Record<string, unknown>;
    const allowed = new Set([
      'artifactHash',
      'hashAlgorithm',
      'nonce',
      'certificates',
      'tsaPolicyOID',
    ]);
    const unknown = Object.keys(o).find((k) => !allowed.has(k));
    if (unknown !== undefined)
      return this.#refuse(`unknown field ${quoted(unknown)}`, PKI_FAILURE.badDataFormat);
    const alg = o['hashAlgorithm'] ?? 'sha256';
    if (typeof alg !== 'string' || !isDigestName(alg.toLowerCase()))
      return this.#refuse(`unsupported hashAlgorithm ${quoted(alg)}`, PKI_FAILURE.badAlg);
    const hash = alg.toLowerCase() as DigestName;
    let digest: Uint8Array;
    try {
      digest = decodeBase64(o['artifactHash'], 'artifactHash', 'input');
    } catch {
      return this.#refuse('artifactHash must be base64', PKI_FAILURE.badDataFormat);
    }
    if (digest.length !== digestSize(hash))
      return this.#refuse(
        `artifactHash is ${digest.length} bytes, a ${hash} digest is ${digestSize(hash)}`,
        PKI_FAILURE.badDataFormat,
      );
    const nonce = o['nonce'];
    if (
      nonce !== undefined &&
      nonce !== null &&
      !(typeof nonce === 'number' && Number.isSafeInteger(nonce) && nonce >= 0)
    )
      return this.#refuse('nonce must be a non-negative integer', PKI_FAILURE.badDataFormat);
    const certs = o['certificates'];
    if (certs !== undefined && typeof certs !== 'boolean')
      return this.#refuse('certificates must be true or false', PKI_FAILURE.badDataFormat);
    const policy = o['tsaPolicyOID'];
    if (policy !== undefined && policy !== '' && typeof policy !== 'string')
      return this.#refuse('tsaPolicyOID must be a string', PKI_FAILURE.badDataFormat);
    return this.#answer(
      {
        hash,
        digest,
        certReq: certs === true,
        ...(typeof nonce === 'number' ? { nonce: BigInt(nonce) } : {}),
        ...(typeof policy === 'string' && policy !== '' ? { policy } : {}),
      },
      now,
    );
  }

  #answer(req: TimeStampRequest, now: number): TimestampAnswer {
    try {
      return { httpStatus: 200, response: this.stamp(req, now) };
    } catch (e) {
      if (!isStellaError(e)) throw e;
      return this.#refuse(
        e.message,
        /policy/.test(e.message) ? PKI_FAILURE.unacceptedPolicy : PKI_FAILURE.timeNotAvailable,
      );
    }
  }

  #refuse(reason: string, failure: number): TimestampAnswer {
    return {
      httpStatus: 400,
      response: encodeTimeStampResp(PKI_STATUS.rejection, undefined, { text: reason, failure }),
      reason,
    };
  }
}
