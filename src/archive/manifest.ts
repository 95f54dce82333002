/**
 * `manifest.cbor`, the first entry of an export archive: what the archive holds and the
 * SHA-256 of every other entry. Encoded deterministically (cbor-x, records and tags off,
 * every map built in one fixed key order, null for "absent", never undefined), so the same
 * contents always give the same bytes. Decoding is strict: the decoded value must have
 * exactly this shape, and must re-encode to the very bytes read (no duplicate keys, no
 * other key order, no tags, no alternative integer widths).
 *
 * The manifest is not signed: its digests catch a corrupted or edited archive, not an
 * attacker who rewrites it. Trust comes from verifying each bundle, never from the manifest.
 */
import { Encoder, type Options } from 'cbor-x';
import { StellaError } from '../errors.js';
import { bytesEqual } from '../util/encoding.js';
import { parseRfc3339 } from '../util/time.js';
import { parseSha256Digest } from '../util/digest.js';
import {
  CBOR_WORDS,
  readObject,
  readString,
  readUint,
  type JsonReadContext,
} from '../util/json.js';
import { quoted } from '../util/text.js';

export const EXPORT_FORMAT = 'stella.dev/export-bundle/v1';
export const EXPORT_FORMAT_VERSION = 1;
export const MANIFEST_NAME = 'manifest.cbor';
export const TRUSTED_ROOT_NAME = 'trusted_root.json';
/** ./consistency.ts: the logs' latest checkpoints and consistency proofs (--include-consistency). */
export const CONSISTENCY_FILE_NAME = 'consistency.json';

export interface ExportManifestEntry {
  /** "sha256:<64 lowercase hex>" of the artifact the bundle signs or attests. */
  artifactDigest: string;
  /** `bundles/<artifact hex>/<n>.sigstore.json` inside the archive. */
  path: string;
  /** Lowercase hex SHA-256 of the bundle bytes, and their length. */
  sha256: string;
  size: number;
  mediaType: string;
  content: 'messageSignature' | 'dsseEnvelope';
  /** Signer identity and OIDC issuer from the leaf certificate (informational, not trusted). */
  identity: string | null;
  issuer: string | null;
  /** Log index and integrated time (RFC 3339) of the bundle's first entry with an inclusion proof. */
  logIndex: number;
  integratedTime: string | null;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_FORMAT_VERSION;
  /** RFC 3339, from --created-at or the newest integrated time; never the wall clock. */
  createdAt: string;
  trustedRoot: { path: typeof TRUSTED_ROOT_NAME; sha256: string; size: number } | null;
  entries: ExportManifestEntry[];
  /**
   * Present only in archives made with --include-consistency (an archive without it encodes
   * exactly as before, so older readers and reproducibility are unaffected).
   */
  consistency?: { path: typeof CONSISTENCY_FILE_NAME; sha256: string; size: number } | undefined;
}

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  structuredClone: false,
  pack: false,
});

/**
 * An integer of 2^32 or more as a BigInt: cbor-x writes a Number that large as a float, which
 * no manifest reader accepts; a BigInt it writes as the 8-byte unsigned integer CBOR prefers.
 */
function wide(v: unknown): unknown {
  return typeof v === 'number' && v >= 2 ** 32 ? BigInt(v) : v;
}

/** The manifest with every map rebuilt in its fixed key order. */
function ordered(m: ExportManifest): ExportManifest {
  return {
    format: m.format,
    version: m.version,
    createdAt: m.createdAt,
    trustedRoot: m.trustedRoot
      ? { path: m.trustedRoot.path, sha256: m.trustedRoot.sha256, size: m.trustedRoot.size }
      : null,
    // Before `entries`, so the header (everything before the entry list) holds it too.
    ...(m.consistency
      ? {
          consistency: {
            path: m.consistency.path,
            sha256: m.consistency.sha256,
            size: m.consistency.size,
          },
        }
      : {}),
    entries: m.entries.map(
      (e) =>
        Object.fromEntries(
          ENTRY_FIELDS.map((f) => [f.key, f.value === 'uint' ? wide(e[f.key]) : e[f.key]]),
        ) as unknown as ExportManifestEntry,
    ),
  };
}

export function encodeManifest(m: ExportManifest): Uint8Array {
  return new Uint8Array(encoder.encode(ordered(m)));
}

export function bad(message: string): never {
  throw new StellaError('ARCHIVE_INVALID', 'archive', `${MANIFEST_NAME}: ${message}`);
}

/** The manifest's maps, read by util/json.ts's readers in CBOR's words. */
const M: JsonReadContext = {
  code: 'ARCHIVE_INVALID',
  check: 'archive',
  prefix: `${MANIFEST_NAME}: `,
  words: CBOR_WORDS,
};

function exactKeys(v: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  return readObject(v, what, M, { required: keys });
}

function str(v: unknown, what: string, max = 4096): string {
  return readString(v, what, M, { maxLength: max });
}

function strOrNull(v: unknown, what: string): string | null {
  return v === null ? null : str(v, what);
}

function uint(v: unknown, what: string): number {
  return readUint(v, what, M);
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Manifest times are written in UTC ("Z"); read by the one strict RFC 3339 parser. */
function time(v: unknown, what: string): string {
  const s = str(v, what, 40);
  parseRfc3339(s, `${MANIFEST_NAME}: ${what}`, { code: 'ARCHIVE_INVALID', check: 'archive' });
  if (!/[Zz]$/.test(s)) bad(`${what}: expected an RFC 3339 UTC time (ending in Z)`);
  return s;
}

/**
 * An entry's keys in the order they are written, and what each value is (entryOf checks the
 * values; ./manifest-stream.ts reads canonical entries by this table).
 */
export const ENTRY_FIELDS = [
  { key: 'artifactDigest', value: 'text' },
  { key: 'path', value: 'text' },
  { key: 'sha256', value: 'text' },
  { key: 'size', value: 'uint' },
  { key: 'mediaType', value: 'text' },
  { key: 'content', value: 'text' },
  { key: 'identity', value: 'text or null' },
  { key: 'issuer', value: 'text or null' },
  { key: 'logIndex', value: 'uint' },
  { key: 'integratedTime', value: 'text or null' },
] as const satisfies readonly {
  key: keyof ExportManifestEntry;
  value: 'text' | 'uint' | 'text or null';
}[];
const ENTRY_KEYS = ENTRY_FIELDS.map((f) => f.key);

function entryOf(v: unknown, i: number): ExportManifestEntry {
  const what = `entries[${i}]`;
  const o = exactKeys(v, ENTRY_KEYS, what);
  const artifactDigest = str(o.artifactDigest, `${what}.artifactDigest`, 80);
  parseSha256Digest(
    artifactDigest,
    `${MANIFEST_NAME}: ${what}.artifactDigest`,
    'ARCHIVE_INVALID',
    'archive',
  );
  const sha256 = str(o.sha256, `${what}.sha256`, 64);
  if (!HEX64.test(sha256)) bad(`${what}.sha256: expected 64 lowercase hex digits`);
  const content = o.content;
  if (content !== 'messageSignature' && content !== 'dsseEnvelope')
    bad(`${what}.content: expected messageSignature or dsseEnvelope`);
  return {
    artifactDigest,
    path: str(o.path, `${what}.path`, 100),
    sha256,
    size: uint(o.size, `${what}.size`),
    mediaType: str(o.mediaType, `${what}.mediaType`, 200),
    content,
    identity: strOrNull(o.identity, `${what}.identity`),
    issuer: strOrNull(o.issuer, `${what}.issuer`),
    logIndex: uint(o.logIndex, `${what}.logIndex`),
    integratedTime:
      o.integratedTime === null ? null : time(o.integratedTime, `${what}.integratedTime`),
  };
}

export type ExportManifestHeader = Omit<ExportManifest, 'entries'>;

/** Check the top-level fields of a decoded manifest (all but the entries). */
export function validateManifestHeader(o: Record<string, unknown>): ExportManifestHeader {
  if (o.format !== EXPORT_FORMAT)
    bad(`unknown format ${quoted(o.format, 80)} (expected ${EXPORT_FORMAT})`);
  if (o.version !== EXPORT_FORMAT_VERSION)
    bad(
      `unsupported version ${quoted(o.version)} (this Stella reads version ${EXPORT_FORMAT_VERSION})`,
    );
  let trustedRoot: ExportManifest['trustedRoot'] = null;
  if (o.trustedRoot !== null) {
    const t = exactKeys(o.trustedRoot, ['path', 'sha256', 'size'], 'trustedRoot');
    if (t.path !== TRUSTED_ROOT_NAME) bad(`trustedRoot.path must be ${TRUSTED_ROOT_NAME}`);
    const sha = str(t.sha256, 'trustedRoot.sha256', 64);
    if (!HEX64.test(sha)) bad('trustedRoot.sha256: expected 64 lowercase hex digits');
    trustedRoot = { path: TRUSTED_ROOT_NAME, sha256: sha, size: uint(t.size, 'trustedRoot.size') };
  }
  let consistency: ExportManifest['consistency'];
  if (o.consistency !== undefined) {
    const c = exactKeys(o.consistency, ['path', 'sha256', 'size'], 'consistency');
    if (c.path !== CONSISTENCY_FILE_NAME) bad(`consistency.path must be ${CONSISTENCY_FILE_NAME}`);
    const sha = str(c.sha256, 'consistency.sha256', 64);
    if (!HEX64.test(sha)) bad('consistency.sha256: expected 64 lowercase hex digits');
    consistency = {
      path: CONSISTENCY_FILE_NAME,
      sha256: sha,
      size: uint(c.size, 'consistency.size'),
    };
  }
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    createdAt: time(o.createdAt, 'createdAt'),
    trustedRoot,
    ...(consistency ? { consistency } : {}),
  };
}

/** Check one decoded entry (index i) of a manifest. */
export const validateManifestEntry = entryOf;

/** The canonical bytes of one entry, as they sit inside the encoded manifest. */
export function encodeManifestEntry(e: ExportManifestEntry): Uint8Array {
  return new Uint8Array(
    encoder.encode(
      ordered({
        format: EXPORT_FORMAT,
        version: EXPORT_FORMAT_VERSION,
        createdAt: '',
        trustedRoot: null,
        entries: [e],
      }).entries[0],
    ),
  );
}

/** The canonical bytes of everything before the first entry, for a manifest of `count` entries. */
export function encodeManifestPrefix(h: ExportManifestHeader, count: number): Uint8Array {
  const empty = encodeManifest({ ...h, entries: [] });
  // cbor-x writes the shortest array head (RFC 8949 preferred serialization).
  const head =
    count < 24
      ? [0x80 | count]
      : count < 0x100
        ? [0x98, count]
        : count < 0x10000
          ? [0x99, count >> 8, count & 0xff]
          : [0x9a, (count >>> 24) & 0xff, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff];
  const out = new Uint8Array(empty.byteLength - 1 + head.length);
  out.set(empty.subarray(0, empty.byteLength - 1));
  out.set(head, empty.byteLength - 1);
  return out;
}

/**
 * int64AsNumber (cbor-x 1.6, not in its typings): 8-byte integers as Numbers, not BigInts, so
 * readUint judges them (it refuses those past 2^53).
 */
const DECODE_OPTIONS: Options & { int64AsNumber: boolean } = {
  useRecords: false,
  mapsAsObjects: true,
  int64AsNumber: true,
};

/** Decode and validate a manifest held in memory; `maxEntries` bounds the entry list before it is walked. */
export function decodeManifest(bytes: Uint8Array, maxEntries: number): ExportManifest {
  let raw: unknown;
  try {
    raw = new Encoder(DECODE_OPTIONS).decode(bytes);
  } catch (e) {
    bad(`not valid CBOR (${(e as Error).message})`);
  }
  const o = readObject(raw, 'manifest', M, {
    required: ['format', 'version', 'createdAt', 'trustedRoot', 'entries'],
    optional: ['consistency'],
  });
  const header = validateManifestHeader(o);
  if (!Array.isArray(o.entries)) bad('entries: expected an array');
  if (o.entries.length > maxEntries) {
    throw new StellaError(
      'ARCHIVE_LIMIT_EXCEEDED',
      'archive',
      `${MANIFEST_NAME} lists ${o.entries.length} bundles, more than the ${maxEntries} accepted`,
    );
  }
  const manifest: ExportManifest = { ...header, entries: (o.entries as unknown[]).map(entryOf) };
  if (!bytesEqual(encodeManifest(manifest), bytes))
    bad(
      'not in the canonical encoding Stella writes (key order, duplicate keys, tags or integer widths differ)',
    );
  return manifest;
}
