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
import { fail } from '../errors.js';
import { concatBytes, decodeBase64, toBase64, utf8 } from '../util/encoding.js';
import type { DsseEnvelopeContent } from './model.js';

const SP = new Uint8Array([0x20]);
const PREFIX = utf8.encode('DSSEv1');

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  return concatBytes(PREFIX, SP, utf8.encode(String(type.length)), SP, type, SP, utf8.encode(String(payload.length)), SP, payload);
}

/** The envelope as JSON-ready values (field names as in the DSSE spec). */
export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: { keyid?: string; sig: string }[];
}

/** Envelope -> its JSON object; `keyid` only when non-empty (as protobuf JSON omits it). */
export function envelopeToJson(env: Pick<DsseEnvelopeContent, 'payload' | 'payloadType' | 'signatures'>): DsseEnvelopeJson {
  return {
    payload: toBase64(env.payload),
    payloadType: env.payloadType,
    signatures: env.signatures.map((s) => (s.keyid ? { keyid: s.keyid, sig: toBase64(s.sig) } : { sig: toBase64(s.sig) })),
  };
}

/** Compact JSON text of an envelope, for the signing side (sandbox, attestation store). */
export function serializeEnvelope(env: Pick<DsseEnvelopeContent, 'payload' | 'payloadType' | 'signatures'>): string {
  return JSON.stringify(envelopeToJson(env));
}

/**
 * Parse a bare DSSE envelope (JSON text). Strict: exactly the three DSSE fields, strict base64,
 * at least one signature. Errors are DSSE_INVALID (check 'signature').
 */
export function parseEnvelope(text: string): DsseEnvelopeContent {
  const bad = (why: string, options?: { cause?: unknown }): never => fail('DSSE_INVALID', 'signature', `DSSE envelope: ${why}`, undefined, options);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return bad('not valid JSON', { cause: e });
  }
  if (!isPlainObject(v)) return bad('not a JSON object');
  for (const k of Object.keys(v)) if (k !== 'payload' && k !== 'payloadType' && k !== 'signatures') bad(`unknown field ${JSON.stringify(k)}`);
  if (typeof v.payloadType !== 'string' || v.payloadType === '') bad('payloadType must be a non-empty string');
  if (!Array.isArray(v.signatures) || v.signatures.length === 0) bad('signatures must be a non-empty array');
  const signatures = (v.signatures as unknown[]).map((s, i) => {
    if (!isPlainObject(s)) return bad(`signature ${i} is not an object`);
    for (const k of Object.keys(s)) if (k !== 'sig' && k !== 'keyid') bad(`signature ${i}: unknown field ${JSON.stringify(k)}`);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') bad(`signature ${i}: keyid must be a string`);
    const sig = decodeBase64(s.sig, `DSSE signature ${i}`, 'signature');
    if (sig.length === 0) bad(`signature ${i} is empty`);
    return { sig, keyid: (s.keyid as string | undefined) ?? '' };
  });
  return {
    kind: 'dsseEnvelope',
    payload: decodeBase64(v.payload, 'DSSE payload', 'signature'),
    payloadType: v.payloadType as string,
    signatures,
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
