/**
 * The store's schema, as an ordered list of migrations. `PRAGMA user_version` records how many
 * have run. Creating a store runs them all; an older store is migrated only by
 * `stella trust migrate` (./migrate.ts), after its history has been checked, and every other
 * command refuses it; a store written by a newer Stella (user_version > SCHEMA_VERSION) is
 * refused, never guessed at.
 *
 * v1: entries, history, rotation keys, applied rotations, meta.
 * v2: tamper evidence (checklist G47): a hash chain over history rows, each row committing to
 *     a digest of the whole trust state after its change; entries remember which rotation
 *     manages them.
 * v3: what each log has shown (checkpoints, split-view evidence) and witnesses with per-log
 *     K-of-N policies (./checkpoints.ts); sealed with the rest of the state from v3 on.
 */
import type Database from 'better-sqlite3';
import { schemaShapeOf } from '../../util/sqlite-file.js';

/** 'STEL' — marks a SQLite file as a Stella trust store. */
export const APPLICATION_ID = 0x5354454c;

export interface Migration {
  /** The user_version after this migration. */
  version: number;
  /** Runs inside the open transaction. `backfill` is the post-DDL data step, if any. */
  ddl: string;
  backfill?: (db: Database.Database) => void;
}

export const MIGRATION_V1_DDL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE entries (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  kind          TEXT NOT NULL CHECK (kind IN ('ca','tlog','ctlog','tsa')),
  identity      TEXT NOT NULL,
  subject       TEXT NOT NULL,
  uri           TEXT NOT NULL,
  fingerprint   TEXT NOT NULL,
  key_id        TEXT NOT NULL,
  der           BLOB NOT NULL,
  material      TEXT NOT NULL,
  valid_from    INTEGER NOT NULL,
  valid_until   INTEGER,
  retired_at    INTEGER,
  source_kind   TEXT NOT NULL,
  source_file   TEXT NOT NULL,
  source_sha256 TEXT NOT NULL,
  added_at      INTEGER NOT NULL,
  UNIQUE (kind, identity)
) STRICT;
CREATE TABLE history (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  action        TEXT NOT NULL,
  entry_id      INTEGER,
  detail        TEXT NOT NULL,
  source_file   TEXT,
  source_sha256 TEXT,
  command       TEXT NOT NULL
) STRICT;
CREATE TABLE rotation_keys (
  key_id      TEXT PRIMARY KEY,
  spki        BLOB NOT NULL UNIQUE,
  key_details TEXT NOT NULL,
  added_at    INTEGER NOT NULL,
  removed_at  INTEGER,
  source      TEXT NOT NULL
) STRICT;
CREATE TABLE rotations (
  version        INTEGER PRIMARY KEY,
  applied_at     INTEGER NOT NULL,
  expires        INTEGER NOT NULL,
  payload_sha256 TEXT NOT NULL,
  root_sha256    TEXT NOT NULL,
  signers        TEXT NOT NULL
) STRICT;
`;

export const MIGRATION_V2_DDL = `
ALTER TABLE entries ADD COLUMN rotation_version INTEGER;
ALTER TABLE history ADD COLUMN state_digest TEXT;
ALTER TABLE history ADD COLUMN prev_hash TEXT;
ALTER TABLE history ADD COLUMN hash TEXT;
`;

export const MIGRATION_V3_DDL = `
CREATE TABLE checkpoints (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  log_id        TEXT NOT NULL,
  log_url       TEXT NOT NULL,
  origin        TEXT NOT NULL,
  tree_size     INTEGER NOT NULL,
  root_hash     TEXT NOT NULL,
  note          TEXT NOT NULL,
  proven        INTEGER NOT NULL CHECK (proven IN (0, 1)),
  latest        INTEGER NOT NULL CHECK (latest IN (0, 1)),
  first_seen_at INTEGER NOT NULL,
  proven_at     INTEGER,
  source        TEXT NOT NULL,
  UNIQUE (log_id, tree_size)
) STRICT;
CREATE TABLE split_views (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  log_id         TEXT NOT NULL,
  origin         TEXT NOT NULL,
  detected_at    INTEGER NOT NULL,
  code           TEXT NOT NULL,
  reason         TEXT NOT NULL,
  held_note      TEXT NOT NULL,
  presented_note TEXT NOT NULL,
  proof          TEXT,
  source         TEXT NOT NULL
) STRICT;
CREATE TABLE witnesses (
  name            TEXT PRIMARY KEY,
  public_key      BLOB NOT NULL UNIQUE,
  key_fingerprint TEXT NOT NULL,
  valid_from      INTEGER NOT NULL,
  valid_until     INTEGER,
  added_at        INTEGER NOT NULL,
  source          TEXT NOT NULL
) STRICT;
CREATE TABLE witness_policies (
  log_id    TEXT PRIMARY KEY,
  log_url   TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  witnesses TEXT NOT NULL,
  set_at    INTEGER NOT NULL
) STRICT;
`;

export const SCHEMA_VERSION = 3;

/** The DDL of each version, in order (index = version - 1). */
export const SCHEMA_DDL: readonly string[] = [MIGRATION_V1_DDL, MIGRATION_V2_DDL, MIGRATION_V3_DDL];

/** The shape a store at `version` has when Stella made it (see schemaShape). */
export function expectedSchemaShape(version: number): string {
  return schemaShapeOf(SCHEMA_DDL.slice(0, version));
}
