/**
 * The local attestation store: every bundle Stella produces, kept in SQLite and found again
 * by the artifact's digest, so `stella attest verify --artifact sha256:...` works without
 * --bundle. The store holds public data only (bundles); it is a convenience index, not a trust
 * anchor: everything read from it is verified like any other bundle.
 *
 * Path: --attestation-store, else STELLA_ATTESTATION_STORE, else a per-user default
 * ($XDG_DATA_HOME/stella/attestations.db, ~/.local/share/... on Linux, ~/Library/Application
 * Support/stella on macOS, %LOCALAPPDATA%\stella on Windows).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { fail, StellaError } from '../errors.js';

export const ATTESTATION_STORE_ENV = 'STELLA_ATTESTATION_STORE';
const SCHEMA_VERSION = 1;

export interface StoredAttestation {
  id: number;
  /** "sha256:<hex>" (lowercase). */
  artifactDigest: string;
  /** The bundle JSON exactly as written. */
  bundleJson: string;
  /** "sha256:<hex>" of bundleJson's UTF-8 bytes: one row per distinct bundle. */
  bundleDigest: string;
  /** 'messageSignature' or 'dsseEnvelope'. */
  contentKind: string;
  predicateType: string | undefined;
  /** Signer identity (certificate SAN) and OIDC issuer, when known, for listing. */
  identity: string | undefined;
  issuer: string | undefined;
  /** ms since epoch. */
  createdAt: number;
}

export interface SaveAttestationInput {
  artifactDigest: string;
  bundleJson: string;
  contentKind: string;
  predicateType?: string | undefined;
  identity?: string | undefined;
  issuer?: string | undefined;
  createdAt?: number;
}

export function resolveAttestationStorePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  const fromEnv = env[ATTESTATION_STORE_ENV];
  if (fromEnv) return resolve(fromEnv);
  return join(defaultDataDir(env), 'attestations.db');
}

function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'stella');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'stella');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'stella');
}

/** "sha256:HEX" in canonical (lowercase) form; anything else is INPUT_INVALID. */
export function normalizeArtifactDigest(d: string): string {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(d.trim());
  if (!m) fail('INPUT_INVALID', 'attestation-store', `artifact digest must be sha256:<64 hex digits>, got ${JSON.stringify(d.slice(0, 80))}`);
  return `sha256:${m[1]!.toLowerCase()}`;
}

export class AttestationStore {
  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /** Open (creating when `create`) the store at `path`. */
  static open(path: string, opts: { create?: boolean; readonly?: boolean } = {}): AttestationStore {
    const create = opts.create ?? true;
    let db: Database.Database;
    try {
      if (create) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = new Database(path, { fileMustExist: !create, readonly: opts.readonly ?? false, timeout: 5000 });
    } catch (e) {
      const msg = (e as Error).message;
      if (!create && /does not exist|unable to open/i.test(msg)) {
        throw new StellaError('NO_ATTESTATIONS_FOUND', 'attestation-store', `no attestations found: attestation store ${path} does not exist`, undefined, { cause: e });
      }
      throw new StellaError('STORE_CORRUPT', 'attestation-store', `cannot open attestation store ${path}: ${msg}`, undefined, { cause: e });
    }
    const store = new AttestationStore(db, path);
    try {
      store.migrate(opts.readonly ?? false);
    } catch (e) {
      db.close();
      if (e instanceof StellaError) throw e;
      throw new StellaError('STORE_CORRUPT', 'attestation-store', `attestation store ${path} is not a Stella attestation store: ${(e as Error).message}`, undefined, { cause: e });
    }
    return store;
  }

  private migrate(readonly: boolean): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      fail('STORE_SCHEMA_TOO_NEW', 'attestation-store', `attestation store ${this.path} has schema ${version}; this Stella understands up to ${SCHEMA_VERSION}`);
    }
    if (version === SCHEMA_VERSION) return;
    if (readonly) fail('STORE_CORRUPT', 'attestation-store', `attestation store ${this.path} is not initialised`);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS attestations (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        artifact_digest TEXT NOT NULL,
        bundle_digest   TEXT NOT NULL,
        bundle_json     TEXT NOT NULL,
        content_kind    TEXT NOT NULL,
        predicate_type  TEXT,
        identity        TEXT,
        issuer          TEXT,
        created_at      INTEGER NOT NULL,
        UNIQUE (artifact_digest, bundle_digest)
      );
      CREATE INDEX IF NOT EXISTS attestations_by_artifact ON attestations (artifact_digest, created_at);
    `);
    this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** Keep a bundle; saving the same bundle for the same artifact twice keeps one row. */
  save(input: SaveAttestationInput): StoredAttestation {
    const artifactDigest = normalizeArtifactDigest(input.artifactDigest);
    const bundleDigest = `sha256:${createHash('sha256').update(input.bundleJson, 'utf8').digest('hex')}`;
    const createdAt = input.createdAt ?? Date.now();
    this.db
      .prepare(
        `INSERT INTO attestations (artifact_digest, bundle_digest, bundle_json, content_kind, predicate_type, identity, issuer, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_digest, bundle_digest) DO NOTHING`,
      )
      .run(artifactDigest, bundleDigest, input.bundleJson, input.contentKind, input.predicateType ?? null, input.identity ?? null, input.issuer ?? null, createdAt);
    const row = this.db.prepare('SELECT * FROM attestations WHERE artifact_digest = ? AND bundle_digest = ?').get(artifactDigest, bundleDigest) as Row;
    return fromRow(row);
  }

  /** Every bundle stored for this artifact, oldest first (empty array when none). */
  findBundlesByDigest(artifactDigest: string): StoredAttestation[] {
    const d = normalizeArtifactDigest(artifactDigest);
    const rows = this.db.prepare('SELECT * FROM attestations WHERE artifact_digest = ? ORDER BY created_at, id').all(d) as Row[];
    return rows.map(fromRow);
  }

  /** Every bundle in the store, by artifact digest then oldest first (for exporting them all). */
  listAll(): StoredAttestation[] {
    const rows = this.db.prepare('SELECT * FROM attestations ORDER BY artifact_digest, created_at, id').all() as Row[];
    return rows.map(fromRow);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM attestations').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * The bundles for an artifact, or NO_ATTESTATIONS_FOUND ("no attestations found") when the
 * store is missing or holds none. What `attest verify --artifact` without --bundle calls.
 */
export function findBundlesByDigest(storePath: string, artifactDigest: string): StoredAttestation[] {
  const d = normalizeArtifactDigest(artifactDigest);
  const store = AttestationStore.open(storePath, { create: false });
  try {
    const found = store.findBundlesByDigest(d);
    if (found.length === 0) fail('NO_ATTESTATIONS_FOUND', 'attestation-store', `no attestations found for ${d} in ${storePath}`, { artifactDigest: d });
    return found;
  } finally {
    store.close();
  }
}

interface Row {
  id: number;
  artifact_digest: string;
  bundle_digest: string;
  bundle_json: string;
  content_kind: string;
  predicate_type: string | null;
  identity: string | null;
  issuer: string | null;
  created_at: number;
}

function fromRow(r: Row): StoredAttestation {
  return {
    id: r.id,
    artifactDigest: r.artifact_digest,
    bundleJson: r.bundle_json,
    bundleDigest: r.bundle_digest,
    contentKind: r.content_kind,
    predicateType: r.predicate_type ?? undefined,
    identity: r.identity ?? undefined,
    issuer: r.issuer ?? undefined,
    createdAt: r.created_at,
  };
}
