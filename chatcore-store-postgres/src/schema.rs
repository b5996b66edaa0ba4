//! Versioned migrations, applied at open under an advisory lock.
//!
//! The schema's version lives in the one-row table `chatcore_schema`. [`migrate`] takes a
//! transaction-scoped advisory lock derived from the schema name, so two nodes starting at
//! once apply each migration exactly once: the second waits, then finds nothing to do. All of
//! it runs in one transaction (PostgreSQL DDL is transactional), so a failed migration leaves
//! the previous version intact.

use chatcore::{Error, Result};
use deadpool_postgres::Client;

/// The schema version this build creates and understands: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[i]` upgrades a schema from version `i` to `i + 1`. Append only: a released
/// migration is never edited, so every database reaches the same shape.
const MIGRATIONS: &[&str] = &[
    V1,
    V2,
    V3,
    V4,
    MESSAGE_DATA,
    ACCOUNTS,
    EVENT_FIELDS,
    ROOM_AUTHORITY,
    CURRENT_STATE,
    ROOM_ADMIN,
];

/// Version 1: rooms, users, memberships, messages, read positions.
///
/// User-supplied strings are `BYTEA` (exact bytes, NUL included, byte-wise order like Rust's
/// `String`), except `messages.body`: see the crate docs ("Strings and NUL").
const V1: &str = r#"
CREATE TABLE rooms (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name      BYTEA  NOT NULL UNIQUE,
    kind      TEXT   NOT NULL,
    topic     BYTEA,
    creator   BYTEA  NOT NULL,
    created   BIGINT NOT NULL,
    last_seq  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE users (
    name          BYTEA  PRIMARY KEY,
    display_name  BYTEA,
    password_hash TEXT,
    created       BIGINT NOT NULL
);

CREATE TABLE memberships (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_name  BYTEA  NOT NULL,
    role       TEXT   NOT NULL,
    joined     BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_name)
);
CREATE INDEX memberships_by_user ON memberships (user_name);

-- No foreign key to rooms: the writer holds the room's row lock while it inserts, and a
-- per-row FK trigger would cost more than the rest of the insert.
CREATE TABLE messages (
    room_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    id         BYTEA  NOT NULL,
    sender     BYTEA  NOT NULL,
    kind       TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    body_exact BYTEA,
    ts         BIGINT NOT NULL,
    nonce      BYTEA,
    reply_to   BIGINT,
    -- The body's distinct words, lower-cased, split by the writer (see the crate docs).
    search     TSVECTOR NOT NULL,
    PRIMARY KEY (room_id, seq)
);
-- UNIQUE (sender, nonce) for the rows that have a nonce (NULLs never conflict anyway; the
-- partial index just skips them).
CREATE UNIQUE INDEX messages_sender_nonce ON messages (sender, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX messages_search ON messages USING GIN (search);

CREATE TABLE read_positions (
    room_id    BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_name  BYTEA  NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_name)
);
"#;

/// Version 2: the nonce index leads with the nonce. Clients make time-ordered nonces (ULIDs,
/// as `chatcore-client` does), so new entries land at the right edge of the index instead of
/// in every sender's part of it, which touched (and logged whole, after each checkpoint) a
/// page per sender.
const V2: &str = r#"
DROP INDEX messages_sender_nonce;
CREATE UNIQUE INDEX messages_nonce_sender ON messages (nonce, sender) WHERE nonce IS NOT NULL;
"#;

/// Version 3: search indexing leaves the append path. `messages.search` keeps each message's
/// words but loses its GIN index; the index lives on `message_search`, filled behind the
/// appends, and `search_progress` records how far each room is in it (see indexer.rs).
/// Existing messages are copied over before the index is built (faster than row by row).
const V3: &str = r#"
DROP INDEX messages_search;
CREATE TABLE message_search (
    room_id BIGINT   NOT NULL,
    seq     BIGINT   NOT NULL,
    search  TSVECTOR NOT NULL
);
INSERT INTO message_search (room_id, seq, search) SELECT room_id, seq, search FROM messages;
CREATE INDEX message_search_words ON message_search USING GIN (search);
CREATE TABLE search_progress (
    room_id BIGINT PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL
);
INSERT INTO search_progress (room_id, seq) SELECT id, last_seq FROM rooms;
"#;

/// Version 4: the host's event stream: a lease per consumer group (one active consumer,
/// fenced by its token) and the group's committed cursor per room (see stream.rs).
const V4: &str = r#"
CREATE TABLE stream_leases (
    grp     BYTEA  PRIMARY KEY,
    holder  BYTEA  NOT NULL,
    token   BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE TABLE stream_cursors (
    grp     BYTEA  NOT NULL,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (grp, room_id)
);
"#;

/// A message's application payload (`Message::data`): a JSON object as compact JSON text
/// (TEXT, not JSONB, so it reads back byte for byte, numbers and key order included), NULL
/// when the message has none (every message written before this migration).
const MESSAGE_DATA: &str = r#"
ALTER TABLE messages ADD COLUMN data TEXT;
"#;

/// Accounts (keyed by the normalized name), their sessions (refresh-token
/// families), refresh tokens and invite codes (hashes only). Names are validated user names
/// (no NUL), so `TEXT`.
const ACCOUNTS: &str = r#"
CREATE TABLE accounts (
    name_key      TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    admin         BOOLEAN NOT NULL DEFAULT FALSE,
    created       BIGINT  NOT NULL
);
CREATE TABLE account_sessions (
    id          TEXT    PRIMARY KEY,
    account_key TEXT    NOT NULL REFERENCES accounts (name_key) ON DELETE CASCADE,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX account_sessions_by_account ON account_sessions (account_key);
CREATE TABLE refresh_tokens (
    hash       TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES account_sessions (id) ON DELETE CASCADE,
    expires    BIGINT  NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
CREATE TABLE invites (
    hash       TEXT    PRIMARY KEY,
    created_by TEXT    NOT NULL,
    expires    BIGINT  NOT NULL,
    used       BOOLEAN NOT NULL DEFAULT FALSE
);
"#;

/// The fields of room events other than plain messages (PROTOCOL.md, "Room events"): the
/// seq a change event changes, a moderation event's details (JSON text) and the users a
/// message mentions (a JSON array of names). NULL for every row written before.
const EVENT_FIELDS: &str = r#"
ALTER TABLE messages ADD COLUMN target BIGINT,
                     ADD COLUMN moderation TEXT,
                     ADD COLUMN mentions TEXT;
"#;

/// Room authority (issue #12): bans and mutes (`until` NULL while not timed), invitations
/// to private rooms, the audit log (one row per moderation event, keyed by its seq) and
/// users' blocks of each other's direct messages. User names are `BYTEA` like
/// `memberships.user_name`.
const ROOM_AUTHORITY: &str = r#"
CREATE TABLE room_bans (
    room_id   BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_name BYTEA  NOT NULL,
    by_user   BYTEA  NOT NULL,
    reason    BYTEA,
    until     BIGINT,
    since     BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_name)
);
CREATE TABLE room_mutes (
    room_id   BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_name BYTEA  NOT NULL,
    by_user   BYTEA  NOT NULL,
    reason    BYTEA,
    until     BIGINT,
    since     BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_name)
);
CREATE TABLE room_invites (
    room_id   BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_name BYTEA  NOT NULL,
    PRIMARY KEY (room_id, user_name)
);
CREATE TABLE room_audit (
    room_id   BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    actor     BYTEA  NOT NULL,
    action    TEXT   NOT NULL,
    user_name BYTEA,
    reason    BYTEA,
    until     BIGINT,
    role      TEXT,
    ts        BIGINT NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE TABLE user_blocks (
    user_name BYTEA NOT NULL,
    blocked   BYTEA NOT NULL,
    PRIMARY KEY (user_name, blocked)
);
"#;

/// A message's current state (PROTOCOL.md, "Room events"): `body` and `search` become the
/// current text and its words, updated by each edit, emptied by a delete, with when it was
/// edited and who deleted it when; reactions, one row per target, emoji and user (the react
/// event's seq orders emoji by first use); the replies of a thread root, the change events
/// of a target, and a message's entry in the search index (rewritten by an edit or delete)
/// found by index. NULL, and no reactions, for every row written before.
const CURRENT_STATE: &str = r#"
ALTER TABLE messages ADD COLUMN edited_ts BIGINT,
                     ADD COLUMN deleted_by BYTEA,
                     ADD COLUMN deleted_ts BIGINT;
CREATE TABLE reactions (
    room_id   BIGINT NOT NULL,
    target    BIGINT NOT NULL,
    emoji     TEXT   NOT NULL,
    user_name BYTEA  NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (room_id, target, emoji, user_name)
);
CREATE INDEX messages_by_reply ON messages (room_id, reply_to, seq) WHERE reply_to IS NOT NULL;
CREATE INDEX messages_by_target ON messages (room_id, target) WHERE target IS NOT NULL;
CREATE INDEX message_search_by_seq ON message_search (room_id, seq);
"#;

/// A room's description (set at `create`), and when it was deleted (`delete_room`): a
/// deleted room keeps its row, so its name stays taken and its audit log readable, and
/// nothing else. NULL for every room written before.
const ROOM_ADMIN: &str = r#"
ALTER TABLE rooms ADD COLUMN description BYTEA,
                  ADD COLUMN deleted BIGINT;
"#;

/// Creates `schema` when missing and brings it to [`SCHEMA_VERSION`]; fails with
/// [`Error::SchemaTooNew`] on a database written by a newer build. `client`'s `search_path`
/// must already be `schema`.
pub(crate) async fn migrate(client: &mut Client, schema: &str) -> Result<()> {
    let tx = client.transaction().await.map_err(Error::store)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(schema)])
        .await
        .map_err(Error::store)?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .await
        .map_err(Error::store)?
        .is_some();
    if !exists {
        // `schema` passed `check_schema`: lower-case letters, digits and `_` only.
        tx.batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .map_err(Error::store)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS chatcore_schema (
             one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
             version BIGINT  NOT NULL
         )",
    )
    .await
    .map_err(Error::store)?;
    let found: i64 = match tx
        .query_opt("SELECT version FROM chatcore_schema", &[])
        .await
        .map_err(Error::store)?
    {
        Some(row) => row.try_get(0).map_err(Error::store)?,
        None => 0,
    };
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return tx.commit().await.map_err(Error::store);
    }
    let from = usize::try_from(found)
        .map_err(|_| crate::error::corrupt(format!("negative schema version {found}")))?;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(from) {
        tracing::info!(
            schema,
            version = i + 1,
            "applying chatcore schema migration"
        );
        tx.batch_execute(migration).await.map_err(Error::store)?;
    }
    tx.execute(
        "INSERT INTO chatcore_schema (one, version) VALUES (TRUE, $1)
         ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
        &[&SCHEMA_VERSION],
    )
    .await
    .map_err(Error::store)?;
    tx.commit().await.map_err(Error::store)
}

/// The advisory lock guarding migrations of `schema` (FNV-1a of a fixed prefix and the name,
/// so different schemas migrate independently).
fn lock_key(schema: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "chatcore-schema:".bytes().chain(schema.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_schema() {
        assert_ne!(lock_key("a"), lock_key("b"));
        assert_eq!(lock_key("a"), lock_key("a"));
    }
}
