/**
 * The local attestation store: every bundle Stella produces, kept in SQLite and found again
 * by the artifact's digest, so `stella attest verify --artifact sha256:...` works without
 * --bundle. The store holds public data only (bundles); it is a convenience index, not a trust
 * anchor: everything read from it is verified like any other bundle.
 *
 * Path: --attestation-store, else STELLA_ATTESTATION_STORE, else attestations.db in the per-user
 * data folder beside the trust store (util/data-dir.ts).
 */
import { makeFolder } from '../util/fs.js';
import { sha256 } from '../crypto.js';
import { formatDigest } from '../util/digest.js';
import { utf8 } from '../util/encoding.js';
import { stellaDataDir } from '../util/data-dir.js';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { fail, StellaError } from '../errors.js';
import {
  orphanWalReason,
  readSqliteHeader,
  schemaShape,
  isSqliteBusy,
  schemaShapeOf,
  storeBusyError,
  storeBusyTimeoutMs,
  switchToWal,
} from '../util/sqlite-file.js';
import { parseSha256Digest } from '../util/digest.js';

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

export function resolveAttestationStorePath(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (flag) return resolve(flag);
  const fromEnv = env[ATTESTATION_STORE_ENV];
  if (fromEnv) return resolve(fromEnv);
  return join(stellaDataDir(env), 'attestations.db');
}

/**
 * A store key: "sha256:<64 lower-case hex>" exactly (util/digest.ts), returned as given.
 * Anything else, upper case and surrounding spaces included, is INPUT_INVALID: one digest has
 * one spelling, so `attest sign` cannot file what `attest verify` would not look up.
 */
export function normalizeArtifactDigest(d: string): string {
  parseSha256Digest(d, 'artifact digest', 'INPUT_INVALID', 'attestation-store');
  return d;
}

/** 'STLA' — marks a SQLite file as a Stella attestation store. */
export const ATTESTATION_STORE_APPLICATION_ID = 0x53544c41;

const SCHEMA_DDL = `
CREATE TABLE attestations (
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
CREATE INDEX attestations_by_artifact ON attestations (artifact_digest, created_at);
`;

/**
 * 'read': find bundles (verify, export-bundle). The file is opened read-only and never
 * written: a missing store is "no attestations found", nothing is created.
 * 'write': keep bundles (sign). A missing or empty file becomes a store.
 */
export type AttestationStoreMode = 'read' | 'write';

function refuseForeign(path: string, why: string): never {
  return fail(
    'STORE_FOREIGN',
    'attestation-store',
    `${path} is not a Stella attestation store (${why}); it was left untouched`,
    { path },
  );
}

/** A SQLite connection to the store; a file SQLite cannot open is STORE_CORRUPT. */
function connect(path: string, options: Database.Options): Database.Database {
  try {
    return new Database(path, { ...options, timeout: storeBusyTimeoutMs() });
  } catch (e) {
    return corrupt(path, `cannot be opened: ${(e as Error).message}`, e);
  }
}

/**
 * `write()`, with SQLite's busy or locked as STORE_BUSY naming the store; anything else as it
 * is. Another process may hold the write lock past the busy timeout (an `attest import` of a
 * large shipment holds it for its whole transaction); before stop 60 a save's error was then an
 * internal one, and the open called the store corrupt.
 */
function busyRefused<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (isSqliteBusy(e)) throw storeBusyError('attestation store', path, e);
    throw e;
  }
}

/** Run a check of `db`; when it fails the connection is closed, and what is not Stella's error is STORE_CORRUPT. */
function judged(db: Database.Database, path: string, check: () => unknown): void {
  try {
    check();
  } catch (e) {
    db.close();
    if (e instanceof StellaError) throw e;
    if (isSqliteBusy(e)) throw storeBusyError('attestation store', path, e);
    corrupt(path, `is corrupt or not a SQLite database: ${(e as Error).message}`, e);
  }
}

function corrupt(path: string, why: string, e?: unknown): never {
  throw new StellaError(
    'STORE_CORRUPT',
    'attestation-store',
    `attestation store ${path} ${why}`,
    { path },
    e === undefined ? undefined : { cause: e },
  );
}

/**
 * The query for stored bundles in the one order they are listed and exported in: by artifact
 * digest, then oldest first (the row id breaks ties). With `oneArtifact`, the rows of the
 * digest bound to its one parameter.
 */
function selectInOrder(columns: string, o: { oneArtifact: boolean }): string {
  return `SELECT ${columns} FROM attestations${o.oneArtifact ? ' WHERE artifact_digest = ?' : ''} ORDER BY artifact_digest, created_at, id`;
}

/** One row in, or nothing when the same bundle is already kept for the same artifact. */
const INSERT_ATTESTATION = `INSERT INTO attestations (artifact_digest, bundle_digest, bundle_json, content_kind, predicate_type, identity, issuer, created_at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (artifact_digest, bundle_digest) DO NOTHING`;

/** INSERT_ATTESTATION's values; a bundle is known by the SHA-256 of its JSON's UTF-8 bytes. */
function insertValues(input: SaveAttestationInput) {
  return [
    normalizeArtifactDigest(input.artifactDigest),
    formatDigest('sha256', sha256(utf8.encode(input.bundleJson))),
    input.bundleJson,
    input.contentKind,
    input.predicateType ?? null,
    input.identity ?? null,
    input.issuer ?? null,
    input.createdAt ?? Date.now(),
  ] as const;
}

export class AttestationStore {
  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /**
   * Open the store at `path`. Either way, a file that is not Stella's — a SQLite database of
   * another program, an empty file on a read path, anything else — is refused before it is
   * changed (checklist H51): judged first from its header without SQLite, then from SQLite's
   * read of it, and only then, on a write path, is anything written (the WAL switch, tables).
   */
  static open(path: string, mode: AttestationStoreMode): AttestationStore {
    // Both refuse as STORE_CORRUPT naming the store or its folder, with the errno explained.
    // (Before stop 59 they were wrapped again: `attestation store X cannot be read: attestation
    // store "X": …`.)
    const file = readSqliteHeader(path, {
      what: 'attestation store',
      code: 'STORE_CORRUPT',
      check: 'attestation-store',
    });
    let creating = false;
    switch (file.kind) {
      case 'missing':
        if (mode === 'read')
          fail(
            'NO_ATTESTATIONS_FOUND',
            'attestation-store',
            `no attestations found: attestation store ${path} does not exist`,
            { path },
          );
        if (file.walPending) refuseForeign(path, orphanWalReason('missing'));
        makeFolder(dirname(path), {
          what: 'attestation store folder',
          code: 'STORE_CORRUPT',
          check: 'attestation-store',
          mode: 0o700,
        });
        creating = true;
        break;
      case 'not-a-file':
        return corrupt(path, 'is not a regular file');
      case 'empty':
        if (file.walPending) refuseForeign(path, orphanWalReason('empty'));
        if (mode === 'read') refuseForeign(path, 'an empty file');
        creating = true;
        break;
      case 'not-sqlite':
        if (!file.walPending) corrupt(path, 'is corrupt or not a SQLite database');
        break;
      case 'sqlite':
        // Application id 0 at schema 1: maybe a store from before stores were marked; SQLite's
        // read of its schema below decides.
        if (
          file.walPending ||
          file.applicationId === ATTESTATION_STORE_APPLICATION_ID ||
          (file.applicationId === 0 && file.userVersion === SCHEMA_VERSION)
        )
          break;
        refuseForeign(path, `SQLite application id ${file.applicationId}`);
    }
    // A WAL holding changes the header does not show: SQLite's read decides, through a read-only
    // connection first, since a read-write one checkpoints the WAL into the file when it
    // closes and a refused file must be left as it was (SQLite rebuilds only its -shm index).
    if (file.walPending && mode === 'write') {
      const readOnly = connect(path, { readonly: true, fileMustExist: true });
      judged(readOnly, path, () => AttestationStore.judge(readOnly, path, mode, creating));
      readOnly.close();
    }
    const db = connect(path, { readonly: mode === 'read', fileMustExist: !creating });
    judged(db, path, () => AttestationStore.prepare(db, path, mode, creating));
    return new AttestationStore(db, path);
  }

  /** Check what SQLite sees; on a write path only, then create or mark the store. */
  private static prepare(
    db: Database.Database,
    path: string,
    mode: AttestationStoreMode,
    creating: boolean,
  ): void {
    const { create, unmarked } = AttestationStore.judge(db, path, mode, creating);
    if (create) {
      // Created in SQLite's default rollback journal and only then switched to WAL, so the
      // file stays empty until the commit: another signer judging it meanwhile finds nothing
      // there or this store. Switched first (until stop 60), the file showed an empty
      // WAL-mode database with application id 0 until the commit, refused as another
      // program's by a signer that read its header then.
      db.transaction(() => {
        // Another signer may have created it since the check above.
        if (
          (db.pragma('application_id', { simple: true }) as number) ===
          ATTESTATION_STORE_APPLICATION_ID
        )
          return;
        db.exec(SCHEMA_DDL);
        db.pragma(`application_id = ${ATTESTATION_STORE_APPLICATION_ID}`);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }).immediate();
      switchToWal(db);
      return;
    }
    if (mode === 'write') {
      switchToWal(db);
      // A store written before stores were marked: mark it now that it is being written anyway.
      if (unmarked) db.pragma(`application_id = ${ATTESTATION_STORE_APPLICATION_ID}`);
    }
  }

  /**
   * What SQLite sees, judged without writing anything: a store of ours (or an unmarked one of
   * schema 1), or, on a write path that found nothing there, an empty database to create it in.
   */
  private static judge(
    db: Database.Database,
    path: string,
    mode: AttestationStoreMode,
    creating: boolean,
  ): { create: boolean; unmarked: boolean } {
    // One snapshot: read one by one, a store another signer created between the reads could
    // show its application id beside version 0 (see the trust store's headerOf).
    const { applicationId, version, tables } = db.transaction(() => ({
      applicationId: db.pragma('application_id', { simple: true }) as number,
      version: db.pragma('user_version', { simple: true }) as number,
      tables: (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n,
    }))();
    const empty = applicationId === 0 && version === 0 && tables === 0;
    const expected = schemaShapeOf([SCHEMA_DDL]);
    const ours = applicationId === ATTESTATION_STORE_APPLICATION_ID;
    const unmarked =
      applicationId === 0 && version === SCHEMA_VERSION && schemaShape(db) === expected;
    if (empty && creating && mode === 'write') return { create: true, unmarked: false };
    if (empty) refuseForeign(path, 'an empty database');
    if (!ours && !unmarked) refuseForeign(path, `SQLite application id ${applicationId}`);
    if (version > SCHEMA_VERSION) {
      fail(
        'STORE_SCHEMA_TOO_NEW',
        'attestation-store',
        `attestation store ${path} has schema ${version}; this Stella understands up to ${SCHEMA_VERSION}`,
        { path },
      );
    }
    if (schemaShape(db) !== expected)
      corrupt(path, `does not have the tables of schema ${SCHEMA_VERSION}`);
    return { create: false, unmarked };
  }

  /** Keep a bundle; saving the same bundle for the same artifact twice keeps one row. */
  save(input: SaveAttestationInput): StoredAttestation {
    const values = insertValues(input);
    busyRefused(this.path, () => this.db.prepare(INSERT_ATTESTATION).run(...values));
    const row = this.db
      .prepare('SELECT * FROM attestations WHERE artifact_digest = ? AND bundle_digest = ?')
      .get(values[0], values[1]) as Row;
    return fromRow(row);
  }

  /**
   * Many saves as one transaction (attest import): `fn` runs between BEGIN IMMEDIATE and
   * COMMIT and may await (bundles arrive from a stream); anything it throws rolls everything
   * back, and a process killed before COMMIT leaves the store as it was (SQLite's journal).
   * Returns fn's result and how many rows were new.
   */
  async batch<T>(
    fn: (save: (input: SaveAttestationInput) => boolean) => Promise<T>,
  ): Promise<{ result: T; added: number }> {
    const insert = this.db.prepare(INSERT_ATTESTATION);
    let added = 0;
    const save = (input: SaveAttestationInput): boolean => {
      const r = insert.run(...insertValues(input));
      added += r.changes;
      return r.changes > 0;
    };
    busyRefused(this.path, () => this.db.exec('BEGIN IMMEDIATE'));
    try {
      const result = await fn(save);
      this.db.exec('COMMIT');
      return { result, added };
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Every bundle stored for this artifact, oldest first (empty array when none). */
  findBundlesByDigest(artifactDigest: string): StoredAttestation[] {
    const d = normalizeArtifactDigest(artifactDigest);
    const rows = this.db.prepare(selectInOrder('*', { oneArtifact: true })).all(d) as Row[];
    return rows.map(fromRow);
  }

  /** Every bundle in the store, by artifact digest then oldest first. */
  listAll(): StoredAttestation[] {
    const rows = this.db.prepare(selectInOrder('*', { oneArtifact: false })).all() as Row[];
    return rows.map(fromRow);
  }

  /**
   * Which bundles there are, in listAll's order, without their JSON: an export of 100,000
   * bundles reads each one by id (bundleBytesById) when it needs it, and never holds them all
   * (about a gigabyte of text).
   */
  *eachStoredKey(artifactDigest?: string): Generator<{ id: number; artifactDigest: string }> {
    const oneArtifact = artifactDigest !== undefined;
    const query = this.db.prepare(selectInOrder('id, artifact_digest', { oneArtifact }));
    const rows = (
      oneArtifact ? query.iterate(normalizeArtifactDigest(artifactDigest)) : query.iterate()
    ) as IterableIterator<{ id: number; artifact_digest: string }>;
    for (const r of rows) yield { id: r.id, artifactDigest: r.artifact_digest };
  }

  /**
   * One stored bundle's JSON as its UTF-8 bytes (what the store holds: no JS string is made on
   * the way), by row id; undefined when there is no such row.
   */
  bundleBytesById(id: number): Uint8Array | undefined {
    this.byId ??= this.db.prepare(
      'SELECT CAST(bundle_json AS BLOB) AS bytes FROM attestations WHERE id = ?',
    );
    const r = this.byId.get(id) as { bytes: Buffer } | undefined;
    return r?.bytes;
  }
  private byId: Database.Statement | undefined;

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
export function findBundlesByDigest(
  storePath: string,
  artifactDigest: string,
): StoredAttestation[] {
  const d = normalizeArtifactDigest(artifactDigest);
  const store = AttestationStore.open(storePath, 'read');
  try {
    const found = store.findBundlesByDigest(d);
    if (found.length === 0)
      fail(
        'NO_ATTESTATIONS_FOUND',
        'attestation-store',
        `no attestations found for ${d} in ${storePath}`,
        { artifactDigest: d },
      );
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
