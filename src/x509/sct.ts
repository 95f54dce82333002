/**
 * Embedded Signed Certificate Timestamps (RFC 6962 §3.2, §3.3). One encoder for the signed
 * structure and the SCT list, used by the verifier and by the sandbox's CT log, so both
 * sides agree byte for byte.
 *
 * The log signs a precertificate entry: the leaf's TBSCertificate with the SCT-list
 * extension removed (equivalently, the precertificate's TBS with the poison removed),
 * bound to SHA-256 of the issuer's SubjectPublicKeyInfo.
 */
import { sha256, verifySignature, type DigestName } from '../crypto.js';
import { parseDer, readOid, Tag, type DerNode } from '../der/reader.js';
import { explicit, seq } from '../der/writer.js';
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import {
  windowContains,
  type TransparencyLogInstance,
  type ValidityWindow,
} from '../model/trust-material.js';
import { bytesEqual, concatBytes, toHex } from '../util/encoding.js';
import { formatTime, TIME_MAX_MS, TIME_RANGE_TEXT } from '../util/time.js';
import type { Certificate } from './certificate.js';
import { certValidAt } from './chain.js';
import { OID } from './oids.js';

/** TLS HashAlgorithm / SignatureAlgorithm values (RFC 5246 §7.4.1.4.1, RFC 8422). */
export const TlsHash = { sha256: 4, sha384: 5, sha512: 6, intrinsic: 8 } as const;
export const TlsSignature = { rsa: 1, ecdsa: 3, ed25519: 7 } as const;

export interface Sct {
  /** 0 = v1, the only version defined. */
  version: number;
  /** 32-byte log id: SHA-256 of the log's SubjectPublicKeyInfo. */
  logId: Uint8Array;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** CtExtensions, opaque (Static CT logs put the leaf index here). */
  extensions: Uint8Array;
  hashAlgorithm: number;
  signatureAlgorithm: number;
  /** DER ECDSA / RSA / raw Ed25519 signature. */
  signature: Uint8Array;
}

class TlsReader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
    readonly code: ErrorCode,
    readonly check: CheckName,
  ) {}
  fail(problem: string): never {
    return fail(this.code, this.check, `${this.what}: ${problem} (at offset ${this.pos})`);
  }
  need(n: number): void {
    if (this.buf.length - this.pos < n) this.fail(`truncated: need ${n} more byte(s)`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  /** A uint64 millisecond timestamp, bounded to Stella's time range (util/time.ts). */
  timestampMs(): number {
    this.need(8);
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]!);
    if (v > BigInt(TIME_MAX_MS))
      this.fail(`timestamp ${v} ms is out of range (${TIME_RANGE_TEXT})`);
    return Number(v);
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** opaque<0..2^16-1> */
  vec16(): Uint8Array {
    return this.bytes(this.u16());
  }
  done(): boolean {
    return this.pos === this.buf.length;
  }
}

/** Parse one serialized SCT (v1). */
export function parseSct(
  bytes: Uint8Array,
  code: ErrorCode = 'SCT_INVALID',
  check: CheckName = 'sct',
): Sct {
  const r = new TlsReader(bytes, 'SCT', code, check);
  const version = r.u8();
  if (version !== 0) r.fail(`unsupported SCT version ${version}`);
  const logId = r.bytes(32);
  const timestamp = r.timestampMs();
  const extensions = r.vec16();
  const hashAlgorithm = r.u8();
  const signatureAlgorithm = r.u8();
  const signature = r.vec16();
  if (signature.length === 0) r.fail('empty signature');
  if (!r.done()) r.fail('trailing bytes after the signature');
  return { version, logId, timestamp, extensions, hashAlgorithm, signatureAlgorithm, signature };
}

/**
 * Parse a TLS-encoded SignedCertificateTimestampList: SerializedSCT sct_list<1..2^16-1>,
 * each SerializedSCT opaque<1..2^16-1>. Lengths must tile the input exactly.
 */
export function parseSctList(
  bytes: Uint8Array,
  code: ErrorCode = 'SCT_INVALID',
  check: CheckName = 'sct',
): Sct[] {
  const r = new TlsReader(bytes, 'SCT list malformed', code, check);
  const total = r.u16();
  if (total !== bytes.length - 2)
    r.fail(`list length ${total} does not match the ${bytes.length - 2} bytes present`);
  if (total === 0) r.fail('empty list');
  const out: Sct[] = [];
  while (!r.done()) {
    const one = r.vec16();
    if (one.length === 0) r.fail('empty SCT');
    out.push(parseSct(one, code, check));
  }
  return out;
}

function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff)
    throw new RangeError('value does not fit 16 bits');
  return Uint8Array.of(n >> 8, n & 0xff);
}

function u24(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffff)
    throw new RangeError('value does not fit 24 bits');
  return Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
}

function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError('timestamp must be a non-negative safe integer');
  const out = new Uint8Array(8);
  let v = BigInt(n);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Serialize one SCT (v1). */
export function encodeSct(sct: Omit<Sct, 'version'> & { version?: number }): Uint8Array {
  if (sct.logId.length !== 32) throw new RangeError('encodeSct: logId must be 32 bytes');
  return concatBytes(
    Uint8Array.of(sct.version ?? 0),
    sct.logId,
    u64(sct.timestamp),
    u16(sct.extensions.length),
    sct.extensions,
    Uint8Array.of(sct.hashAlgorithm, sct.signatureAlgorithm),
    u16(sct.signature.length),
    sct.signature,
  );
}

/** SignedCertificateTimestampList from serialized SCTs (the value of the SCT extension, before its OCTET STRING wrapping). */
export function encodeSctList(serializedScts: Uint8Array[]): Uint8Array {
  if (serializedScts.length === 0)
    throw new RangeError('encodeSctList: at least one SCT is required');
  const body = concatBytes(...serializedScts.map((s) => concatBytes(u16(s.length), s)));
  return concatBytes(u16(body.length), body);
}

/**
 * The digitally-signed struct of an SCT over a precertificate entry (RFC 6962 §3.2):
 * sct_version(0) || signature_type(0 = certificate_timestamp) || timestamp ||
 * entry_type(1 = precert_entry) || issuer_key_hash || tbs_certificate<1..2^24-1> ||
 * extensions<0..2^16-1>.
 */
export function buildPrecertSignedData(opts: {
  timestamp: number;
  issuerKeyHash: Uint8Array;
  precertTbs: Uint8Array;
  extensions?: Uint8Array;
}): Uint8Array {
  if (opts.issuerKeyHash.length !== 32)
    throw new RangeError('buildPrecertSignedData: issuerKeyHash must be 32 bytes');
  const ext = opts.extensions ?? new Uint8Array(0);
  return concatBytes(
    Uint8Array.of(0, 0),
    u64(opts.timestamp),
    u16(1),
    opts.issuerKeyHash,
    u24(opts.precertTbs.length),
    opts.precertTbs,
    u16(ext.length),
    ext,
  );
}

/**
 * A TBSCertificate re-encoded without extension `oid` (DER in, DER out). Removing the SCT
 * list from a final certificate's TBS, or the poison from a precertificate's, gives the
 * TBS the CT log signed. Refuses a TBS that does not carry the extension.
 */
export function removeExtensionFromTbs(
  tbsDer: Uint8Array,
  oid: string,
  code: ErrorCode = 'SCT_INVALID',
  check: CheckName = 'sct',
): Uint8Array {
  const tbs = parseDer(tbsDer, { code, check, what: 'TBSCertificate' }, Tag.SEQUENCE);
  if (!tbs.is(Tag.SEQUENCE)) tbs.fail('expected SEQUENCE');
  const fields = tbs.children;
  const extWrap = fields[fields.length - 1];
  if (!extWrap || !extWrap.isContext(3) || extWrap.children.length !== 1)
    return tbs.fail('TBSCertificate has no extensions');
  const list = extWrap.children[0]!;
  const kept: Uint8Array[] = [];
  let removed = 0;
  for (const ext of list.sequence('extensions')) {
    const first: DerNode = ext.child(0, 'extension OID');
    if (readOid(first) === oid) removed++;
    else kept.push(ext.der);
  }
  if (removed !== 1) tbs.fail(`TBSCertificate does not carry exactly one extension ${oid}`);
  const before = fields.slice(0, -1).map((f) => f.der);
  return kept.length ? seq(...before, explicit(3, seq(...kept))) : seq(...before);
}

/**
 * The precertificate TBS a CT log signed for this (final) leaf certificate: its TBS without
 * the SCT list, as removeExtensionFromTbs would give, re-encoded from the parts the
 * certificate's parse kept rather than by parsing the TBS again.
 */
export function precertTbsOf(leaf: Certificate): Uint8Array {
  const { head, extensions } = leaf.tbsParts;
  const kept = extensions.filter((_, i) => leaf.extensions[i]!.oid !== OID.ctSctList);
  if (kept.length !== extensions.length - 1)
    fail(
      'SCT_INVALID',
      'sct',
      `TBSCertificate: TBSCertificate does not carry exactly one extension ${OID.ctSctList}`,
    );
  return kept.length ? seq(head, explicit(3, seq(...kept))) : seq(head);
}

function hashName(h: number): DigestName | null | undefined {
  if (h === TlsHash.sha256) return 'sha256';
  if (h === TlsHash.sha384) return 'sha384';
  if (h === TlsHash.sha512) return 'sha512';
  if (h === TlsHash.intrinsic) return null;
  return undefined;
}

const KEY_TYPE_FOR_SIG: Readonly<Record<number, string>> = {
  [TlsSignature.rsa]: 'rsa',
  [TlsSignature.ecdsa]: 'ec',
  [TlsSignature.ed25519]: 'ed25519',
};

/** Verify one SCT's signature over `signedData` with a CT log key. */
export function verifySctSignature(
  sct: Sct,
  log: TransparencyLogInstance,
  signedData: Uint8Array,
): boolean {
  const key = log.publicKey.key;
  if (KEY_TYPE_FOR_SIG[sct.signatureAlgorithm] !== key.asymmetricKeyType) return false;
  const hash = hashName(sct.hashAlgorithm);
  if (hash === undefined) return false;
  // Ed25519 signs the message itself (TLS "intrinsic" hash); the others need a real hash.
  if ((hash === null) !== (sct.signatureAlgorithm === TlsSignature.ed25519)) return false;
  return verifySignature(key, signedData, sct.signature, hash);
}

export interface VerifiedSct {
  /** Hex log id. */
  logId: string;
  baseUrl: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** The validity window of the log key it verified with (a report's timeline draws it). */
  validFor: ValidityWindow;
}

/**
 * Verify the SCTs embedded in `leaf` (issued by `issuer`) against the trusted CT logs.
 * At least one must verify with a log whose key was valid at the SCT's timestamp, and that
 * timestamp must lie inside the leaf's own validity (checklist H58): a log cannot have seen
 * the precertificate before it was valid, and an SCT dated after expiry vouches for nothing.
 * SCT_MISSING when the leaf has none; SCT_INVALID when none verifies.
 */
export function verifyEmbeddedScts(
  leaf: Certificate,
  issuer: Certificate,
  ctlogs: TransparencyLogInstance[],
): VerifiedSct[] {
  if (!leaf.embeddedSctList) fail('SCT_MISSING', 'sct', 'leaf certificate has no embedded SCT');
  const scts = parseSctList(leaf.embeddedSctList);
  const precertTbs = precertTbsOf(leaf);
  const issuerKeyHash = sha256(issuer.spkiDer);
  const verified: VerifiedSct[] = [];
  const problems: string[] = [];
  for (const sct of scts) {
    const logIdHex = toHex(sct.logId);
    if (!certValidAt(leaf, sct.timestamp)) {
      problems.push(
        `SCT timestamp ${formatTime(sct.timestamp)} from CT log ${logIdHex} is outside the certificate's validity ${formatTime(leaf.notBefore)}..${formatTime(leaf.notAfter)}`,
      );
      continue;
    }
    const logs = ctlogs.filter((l) => bytesEqual(l.logId, sct.logId));
    if (logs.length === 0) {
      problems.push(`SCT from unknown CT log ${logIdHex}`);
      continue;
    }
    const inWindow = logs.filter((l) => windowContains(l.publicKey.validFor, sct.timestamp));
    if (inWindow.length === 0) {
      problems.push(
        `SCT timestamp ${formatTime(sct.timestamp)} is outside the validity of CT log ${logIdHex}`,
      );
      continue;
    }
    const signed = buildPrecertSignedData({
      timestamp: sct.timestamp,
      issuerKeyHash,
      precertTbs,
      extensions: sct.extensions,
    });
    const log = inWindow.find((l) => verifySctSignature(sct, l, signed));
    if (!log) {
      problems.push(`SCT signature from CT log ${logIdHex} does not verify`);
      continue;
    }
    verified.push({
      logId: logIdHex,
      baseUrl: log.baseUrl,
      timestamp: sct.timestamp,
      validFor: log.publicKey.validFor,
    });
  }
  if (verified.length === 0)
    fail('SCT_INVALID', 'sct', `no valid SCT: ${problems.join('; ')}`, { problems });
  return verified;
}
