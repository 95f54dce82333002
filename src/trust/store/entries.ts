/**
 * Trust entries: the rows of the `entries` table, the candidates importers produce, and the
 * conversion to and from TrustMaterial. An entry's identity is its role (kind) plus what it
 * trusts — the certificate chain bytes for a CA/TSA, the SubjectPublicKeyInfo for a log — so
 * the same material imported twice, from any format, is recognised as a duplicate.
 */
import type Database from 'better-sqlite3';
import { fail, StellaError } from '../../errors.js';
import { parsePublicKey, sha256 } from '../../crypto.js';
import { concatBytes, decodeBase64, toBase64, toHex } from '../../util/encoding.js';
import { parseCertificate, type Certificate } from '../../x509/certificate.js';
import { describeName, nameText, verifyIssuerLinks } from '../../x509/chain.js';
import type {
  CertificateAuthority,
  DistinguishedNameInfo,
  TransparencyLogInstance,
  TrustMaterial,
  ValidityWindow,
} from '../../model/trust-material.js';
import { canonicalize } from '../../util/canonical-json.js';
import { storedTime, storedTimeOrNull } from './time.js';
import { formatTimeOrNull } from '../../util/time.js';

export type EntryKind = 'ca' | 'tlog' | 'ctlog' | 'tsa';
export const ENTRY_KINDS: readonly EntryKind[] = ['ca', 'tlog', 'ctlog', 'tsa'];

interface AuthorityMaterial {
  subject: { organization?: string; commonName?: string };
  uri: string;
  certChain: string[];
}
interface LogMaterial {
  baseUrl: string;
  hashAlgorithm: string;
  keyDetails: string;
  rawBytes: string;
  logId: string;
  checkpointKeyId?: string;
}

/** What an importer hands to the store (no id yet). */
export interface EntryCandidate {
  kind: EntryKind;
  identity: string;
  subject: string;
  uri: string;
  fingerprint: string;
  keyId: string;
  der: Uint8Array;
  material: string;
  validFrom: number;
  validUntil: number | null;
}

/** A stored entry, as `list`/`show` and --json report it. */
export interface StoreEntry {
  id: number;
  kind: EntryKind;
  subject: string;
  uri: string;
  /** SHA-256 (hex) of the trust anchor: the root certificate, or the log's public key (SPKI). */
  fingerprint: string;
  /** CA/TSA: SHA-256 of the issuing certificate's SPKI; log: the log id (hex). */
  keyId: string;
  validFrom: string;
  validUntil: string | null;
  retiredAt: string | null;
  /** The end the verifier uses: the earlier of validUntil and retiredAt. */
  effectiveUntil: string | null;
  sourceKind: string;
  sourceFile: string;
  sourceSha256: string;
  addedAt: string;
  rotationVersion: number | null;
}

export interface EntryRow {
  id: number;
  kind: EntryKind;
  identity: string;
  subject: string;
  uri: string;
  fingerprint: string;
  key_id: string;
  der: Uint8Array;
  material: string;
  valid_from: number;
  valid_until: number | null;
  retired_at: number | null;
  source_kind: string;
  source_file: string;
  source_sha256: string;
  added_at: number;
  rotation_version: number | null;
}

export function effectiveEnd(row: Pick<EntryRow, 'valid_until' | 'retired_at'>): number | null {
  if (row.retired_at === null) return row.valid_until;
  if (row.valid_until === null) return row.retired_at;
  return Math.min(row.valid_until, row.retired_at);
}

/** The row's time columns, bounded (a row edited to an impossible time is a corrupt store, not a crash). */
function checkedTimes(r: EntryRow): EntryRow {
  const what = (col: string): string => `entry ${r.id} ${col}`;
  return {
    ...r,
    valid_from: storedTime(r.valid_from, what('valid_from')),
    valid_until: storedTimeOrNull(r.valid_until, what('valid_until')),
    retired_at: storedTimeOrNull(r.retired_at, what('retired_at')),
    added_at: storedTime(r.added_at, what('added_at')),
  };
}

/**
 * The window the verifier and `export` use: from the start to the earlier of the end and the
 * local retirement. Undefined when that ends before it starts — an entry retired before the
 * start a later rotation gave it, or withdrawn by a rotation before it began: it trusts
 * nothing, and a trusted root cannot express it (checklist H53, item 11 of the review).
 */
export function effectiveWindow(
  row: Pick<EntryRow, 'valid_from' | 'valid_until' | 'retired_at'>,
): ValidityWindow | undefined {
  const end = effectiveEnd(row);
  if (end !== null && end < row.valid_from) return undefined;
  return { start: row.valid_from, end: end ?? undefined };
}

export function entryFromRow(row: EntryRow): StoreEntry {
  const r = checkedTimes(row);
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    uri: r.uri,
    fingerprint: r.fingerprint,
    keyId: r.key_id,
    validFrom: formatTimeOrNull(r.valid_from),
    validUntil: formatTimeOrNull(r.valid_until),
    retiredAt: formatTimeOrNull(r.retired_at),
    effectiveUntil: formatTimeOrNull(effectiveEnd(r)),
    sourceKind: r.source_kind,
    sourceFile: r.source_file,
    sourceSha256: r.source_sha256,
    addedAt: formatTimeOrNull(r.added_at),
    // Absent (undefined) in a store at schema 1, which `trust migrate` reads before migrating.
    rotationVersion: r.rotation_version ?? null,
  };
}

function hex256(b: Uint8Array): string {
  return toHex(sha256(b));
}

/**
 * A Fulcio CA's chain must pass the links check every verification under it makes
 * (x509/chain.ts verifyIssuerLinks: CA, keyCertSign, path length, issuer name, signature, key
 * identifiers): one that fails can verify nothing, so it is refused here rather than stored.
 * TSA chains are not held to this: which links a timestamp check walks depends on the token's
 * signer (rfc3161.ts), so a TSA chain may serve some tokens with a link others would fail.
 */
function checkCaLinks(a: CertificateAuthority, issuing: Certificate): void {
  const certs = a.certChain.map((der, i) =>
    i === 0
      ? issuing
      : parseCertificate(der, {
          code: 'IMPORT_INVALID',
          check: 'trust-store',
          what: `ca certificate ${i + 1}`,
        }),
  );
  try {
    verifyIssuerLinks(certs, 'IMPORT_INVALID', 'trust-store');
  } catch (e) {
    if (!(e instanceof StellaError)) throw e;
    throw e.reworded(
      `${e.message} (Fulcio CA ${a.uri || describeName(a.subject)}: nothing issued under it could verify)`,
    );
  }
}

export function authorityCandidate(kind: 'ca' | 'tsa', a: CertificateAuthority): EntryCandidate {
  if (a.certChain.length === 0)
    fail('IMPORT_INVALID', 'trust-store', `${kind} entry has an empty certificate chain`);
  const issuing = parseCertificate(a.certChain[0]!, {
    code: 'IMPORT_INVALID',
    check: 'trust-store',
    what: `${kind} certificate`,
  });
  if (kind === 'ca') checkCaLinks(a, issuing);
  const anchor = a.certChain[a.certChain.length - 1]!;
  const subject: AuthorityMaterial['subject'] = {};
  if (a.subject.organization !== undefined) subject.organization = a.subject.organization;
  if (a.subject.commonName !== undefined) subject.commonName = a.subject.commonName;
  const material: AuthorityMaterial = { subject, uri: a.uri, certChain: a.certChain.map(toBase64) };
  return {
    kind,
    // DER is self-delimiting, so the plain concatenation identifies the chain unambiguously.
    identity: hex256(concatBytes(...a.certChain)),
    subject: nameText(a.subject) || nameText(issuing.subject),
    uri: a.uri,
    fingerprint: hex256(anchor),
    keyId: hex256(issuing.spkiDer),
    der: anchor,
    material: canonicalize(material, { integersOnly: true }),
    validFrom: a.validFor.start,
    validUntil: a.validFor.end ?? null,
  };
}

export function logCandidate(kind: 'tlog' | 'ctlog', t: TransparencyLogInstance): EntryCandidate {
  const m: LogMaterial = {
    baseUrl: t.baseUrl,
    hashAlgorithm: t.hashAlgorithm,
    keyDetails: t.publicKey.keyDetails,
    rawBytes: toBase64(t.publicKey.rawBytes),
    logId: toBase64(t.logId),
  };
  if (t.checkpointKeyId !== undefined) m.checkpointKeyId = toBase64(t.checkpointKeyId);
  return {
    kind,
    identity: hex256(t.publicKey.rawBytes),
    subject: t.baseUrl,
    uri: t.baseUrl,
    fingerprint: hex256(t.publicKey.rawBytes),
    keyId: toHex(t.logId),
    der: t.publicKey.rawBytes,
    material: canonicalize(m, { integersOnly: true }),
    validFrom: t.publicKey.validFor.start,
    validUntil: t.publicKey.validFor.end ?? null,
  };
}

/** Every entry of a trusted root, in the file's order. */
export function candidatesFromTrustMaterial(tm: TrustMaterial): EntryCandidate[] {
  return [
    ...tm.certificateAuthorities.map((a) => authorityCandidate('ca', a)),
    ...tm.tlogs.map((t) => logCandidate('tlog', t)),
    ...tm.ctlogs.map((t) => logCandidate('ctlog', t)),
    ...tm.timestampAuthorities.map((a) => authorityCandidate('tsa', a)),
  ];
}

function windowOf(row: EntryRow): ValidityWindow {
  const r = checkedTimes(row);
  return { start: r.valid_from, end: effectiveEnd(r) ?? undefined };
}

function storedBytes(s: string, what: string): Uint8Array {
  return decodeBase64(s, what, 'trust-store');
}

export function authorityFromRow(r: EntryRow): CertificateAuthority {
  const m = JSON.parse(r.material) as AuthorityMaterial;
  const subject: DistinguishedNameInfo = {};
  if (m.subject.organization !== undefined) subject.organization = m.subject.organization;
  if (m.subject.commonName !== undefined) subject.commonName = m.subject.commonName;
  return {
    subject,
    uri: m.uri,
    certChain: m.certChain.map((c) => storedBytes(c, `entry ${r.id} certificate`)),
    validFor: windowOf(r),
  };
}

export function logFromRow(r: EntryRow): TransparencyLogInstance {
  const m = JSON.parse(r.material) as LogMaterial;
  const rawBytes = storedBytes(m.rawBytes, `entry ${r.id} public key`);
  return {
    baseUrl: m.baseUrl,
    hashAlgorithm: m.hashAlgorithm,
    publicKey: {
      rawBytes,
      keyDetails: m.keyDetails,
      key: parsePublicKey(
        rawBytes,
        `trust store entry ${r.id} public key`,
        'STORE_CORRUPT',
        'trust-store',
      ),
      validFor: windowOf(r),
    },
    logId: storedBytes(m.logId, `entry ${r.id} log id`),
    checkpointKeyId:
      m.checkpointKeyId === undefined
        ? undefined
        : storedBytes(m.checkpointKeyId, `entry ${r.id} checkpoint key id`),
  };
}

export function allEntryRows(db: Database.Database): EntryRow[] {
  return db.prepare('SELECT * FROM entries ORDER BY id').all() as EntryRow[];
}

export function entryRowById(db: Database.Database, id: number): EntryRow | undefined {
  return db.prepare('SELECT * FROM entries WHERE id = ?').get(id) as EntryRow | undefined;
}

export function entryRowByIdentity(
  db: Database.Database,
  kind: EntryKind,
  identity: string,
): EntryRow | undefined {
  return db.prepare('SELECT * FROM entries WHERE kind = ? AND identity = ?').get(kind, identity) as
    EntryRow | undefined;
}

export interface Provenance {
  sourceKind: string;
  sourceFile: string;
  sourceSha256: string;
  rotationVersion?: number | null;
}

export function insertEntry(
  db: Database.Database,
  c: EntryCandidate,
  p: Provenance,
  now: number,
): number {
  const info = db
    .prepare(
      `INSERT INTO entries (kind, identity, subject, uri, fingerprint, key_id, der, material, valid_from, valid_until, retired_at,
        source_kind, source_file, source_sha256, added_at, rotation_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
    )
    .run(
      c.kind,
      c.identity,
      c.subject,
      c.uri,
      c.fingerprint,
      c.keyId,
      Buffer.from(c.der),
      c.material,
      c.validFrom,
      c.validUntil,
      p.sourceKind,
      p.sourceFile,
      p.sourceSha256,
      now,
      p.rotationVersion ?? null,
    );
  return Number(info.lastInsertRowid);
}
