/**
 * DSSE (github.com/secure-systems-lab/dsse, protocol v1). The signature covers the
 * pre-authentication encoding, never the payload alone:
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * LEN is the length in BYTES of the UTF-8 encoding, as ASCII decimal. Using the JavaScript
 * string length (UTF-16 units) lets two different payload types encode to the same bytes
 * (sigstore-js GHSA-jfc7-64v2-mr8c; checklist F39), so lengths are taken after encoding.
 */
import { concatBytes, toBase64, utf8 } from '../util/encoding.js';
import {
  parseJsonStrict,
  readArray,
  readBase64,
  readObject,
  readOptional,
  readString,
  type JsonReadContext,
} from '../util/json.js';
import { BUNDLE_LIMITS, type DsseEnvelopeContent } from './model.js';

const SP = new Uint8Array([0x20]);
const PREFIX = utf8.encode('DSSEv1');

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  return concatBytes(
    PREFIX,
    SP,
    utf8.encode(String(type.length)),
    SP,
    type,
    SP,
    utf8.encode(String(payload.length)),
    SP,
    payload,
  );
}

/** The envelope as JSON-ready values (field names as in the DSSE spec). */
export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: { keyid?: string; sig: string }[];
}

/** Envelope -> its JSON object; `keyid` only when non-empty (as protobuf JSON omits it). */
export function envelopeToJson(
  env: Pick<DsseEnvelopeContent, 'payload' | 'payloadType' | 'signatures'>,
): DsseEnvelopeJson {
  return {
    payload: toBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) =>
      s.keyid ? { keyid: s.keyid, sig: toBase64(s.sig) } : { sig: toBase64(s.sig) },
    ),
  };
}

/** Compact JSON text of an envelope, for the signing side (sandbox, attestation store). */
export function serializeEnvelope(
  env: Pick<DsseEnvelopeContent, 'payload' | 'payloadType' | 'signatures'>,
): string {
  return JSON.stringify(envelopeToJson(env));
}

/** A bare envelope is at most a bundle's size, and flat. */
const ENVELOPE_LIMITS = { maxBytes: BUNDLE_LIMITS.maxBytes, maxDepth: 8 } as const;
const ENVELOPE: JsonReadContext = {
  code: 'DSSE_INVALID',
  check: 'signature',
  prefix: 'DSSE envelope: ',
};

/**
 * Parse a bare DSSE envelope (JSON text). Strict: strict JSON (duplicate keys refused),
 * exactly the three DSSE fields, strict base64, at least one signature, each non-empty.
 * Errors are DSSE_INVALID (check 'signature').
 */
export function parseEnvelope(text: string): DsseEnvelopeContent {
  const v = parseJsonStrict(text, {
    ...ENVELOPE_LIMITS,
    what: 'DSSE envelope',
    code: 'DSSE_INVALID',
    limitCode: 'DSSE_INVALID',
    check: 'signature',
  });
  const env = readObject(v, 'envelope', ENVELOPE, {
    required: ['payload', 'payloadType', 'signatures'],
  });
  const payloadType = readString(env.payloadType, 'payloadType', ENVELOPE, { nonEmpty: true });
  const list = readArray(env.signatures, 'signatures', ENVELOPE, {
    max: BUNDLE_LIMITS.maxDsseSignatures,
    nonEmpty: true,
  });
  const signatures = list.map((x, i) => {
    const s = readObject(x, `signatures[${i}]`, ENVELOPE, {
      required: ['sig'],
      optional: ['keyid'],
    });
    const keyid =
      readOptional(s.keyid, ENVELOPE, (k) => readString(k, `signatures[${i}].keyid`, ENVELOPE)) ??
      '';
    return { sig: readBase64(s.sig, `signatures[${i}].sig`, ENVELOPE, { nonEmpty: true }), keyid };
  });
  return {
    kind: 'dsseEnvelope',
    payload: readBase64(env.payload, 'payload', ENVELOPE),
    payloadType,
    signatures,
  };
}
