//! The migrations, oldest first, one per schema version, and [`SCHEMA_VERSION`].

/// Migrations, oldest first: applying `MIGRATIONS[i]` takes the database from version `i` to
/// version `i + 1`. Never edit a released entry; append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: rooms, memberships, messages (+ full-text index), users, read positions.
    r#"
    -- Rooms get a small integer id: every message row and index entry carries it instead of
    -- the name.
    CREATE TABLE rooms (
        id      INTEGER PRIMARY KEY,
        name    TEXT    NOT NULL UNIQUE,
        kind    TEXT    NOT NULL,
        topic   TEXT,
        creator TEXT    NOT NULL,
        created INTEGER NOT NULL
    );

    CREATE TABLE memberships (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        role    TEXT    NOT NULL,
        joined  INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    -- list_rooms: "rooms this user is a member of".
    CREATE INDEX memberships_by_user ON memberships (user, room_id);

    -- Clustered by (room_id, seq): a history page is one contiguous range of one b-tree.
    CREATE TABLE messages (
        room_id  INTEGER NOT NULL REFERENCES rooms (id),
        seq      INTEGER NOT NULL,
        id       TEXT    NOT NULL,
        sender   TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        ts       INTEGER NOT NULL,
        nonce    TEXT,
        reply_to INTEGER,
        body     TEXT    NOT NULL,
        PRIMARY KEY (room_id, seq)
    ) WITHOUT ROWID;
    -- Idempotent send: one message per (sender, nonce), across rooms.
    CREATE UNIQUE INDEX messages_by_nonce ON messages (sender, nonce) WHERE nonce IS NOT NULL;

    -- Contentless: it stores only the index. rowid = room_id << 32 | seq (see rows.rs), so
    -- a hit finds its message by primary key with no extra index; the indexed text is the
    -- message's words, lowercased and joined by spaces (see search.rs), so the `ascii`
    -- tokenizer splits it exactly where the store's word rules say. No positions
    -- (detail=none) and no per-document sizes (columnsize=0): the store only ever asks
    -- "which documents hold all these words", and each option costs writes on every append.
    -- (Deleting or editing indexed messages will need `contentless_delete`, which FTS5 only
    -- offers with columnsize=1: a later migration rebuilds the index then.)
    CREATE VIRTUAL TABLE message_fts USING fts5 (
        words,
        content = '',
        detail = none,
        columnsize = 0,
        tokenize = 'ascii'
    );
    -- Merge segments 16 at a time instead of 4: each posting is rewritten about half as
    -- often (measured: about 1.5 µs less writer time per 100-byte message), for a few more
    -- segments to read per search.
    INSERT INTO message_fts (message_fts, rank) VALUES ('automerge', 16);

    -- Accounts (used by a later issue): a NULL password_hash is a guest-style name claim.
    CREATE TABLE users (
        name          TEXT    PRIMARY KEY,
        password_hash TEXT,
        created       INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE read_positions (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    "#,
    // 2: messages in commit order, the full-text index in a file of its own.
    //
    // `messages` becomes a rowid table keyed by `pos`, the message's place in commit order
    // across all rooms: every append lands at the right edge of the table, where SQLite
    // splits a full page cheaply and leaves it full. Clustered by (room_id, seq) instead,
    // appends to different rooms each split pages in the middle of the b-tree, which cost
    // a quarter of the writer's time and left pages partly empty. A page of history is a
    // range of the small (room_id, seq) index plus one lookup by `pos` per message.
    //
    // The full-text index moves to its own file, kept up by the indexer thread off the
    // append path (see indexer/): it follows `pos` and rebuilds itself from the messages.
    // `meta` names this database, so an index file can tell whether it was built from it.
    //
    // The nonce index leads with the nonce: clients make time-ordered nonces (ULIDs, as
    // chatcore-client does), so new entries land at the right edge of the index and a batch
    // dirties a few pages instead of one per sender (each dirty page is written whole to the
    // WAL at every commit).
    r#"
    DROP TABLE message_fts;
    CREATE TABLE messages_v2 (
        pos      INTEGER PRIMARY KEY,
        room_id  INTEGER NOT NULL REFERENCES rooms (id),
        seq      INTEGER NOT NULL,
        id       TEXT    NOT NULL,
        sender   TEXT    NOT NULL,
        kind     TEXT    NOT NULL,
        ts       INTEGER NOT NULL,
        nonce    TEXT,
        reply_to INTEGER,
        body     TEXT    NOT NULL
    );
    INSERT INTO messages_v2 (room_id, seq, id, sender, kind, ts, nonce, reply_to, body)
        SELECT room_id, seq, id, sender, kind, ts, nonce, reply_to, body FROM messages
        ORDER BY room_id, seq;
    DROP TABLE messages;
    ALTER TABLE messages_v2 RENAME TO messages;
    CREATE UNIQUE INDEX messages_by_room_seq ON messages (room_id, seq);
    -- Idempotent send: one message per (sender, nonce), across rooms.
    CREATE UNIQUE INDEX messages_by_nonce ON messages (nonce, sender) WHERE nonce IS NOT NULL;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(16))));
    "#,
    // 3: the host's event stream: a lease per consumer group (one active consumer, fenced by
    // its token) and the group's committed cursor per room.
    r#"
    CREATE TABLE stream_leases (
        grp     TEXT    PRIMARY KEY,
        holder  TEXT    NOT NULL,
        token   INTEGER NOT NULL,
        expires INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE stream_cursors (
        grp     TEXT    NOT NULL,
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        seq     INTEGER NOT NULL,
        PRIMARY KEY (grp, room_id)
    ) WITHOUT ROWID;
    "#,
    // A message's application payload (`Message::data`): a JSON object as compact JSON
    // text, NULL when the message has none (every message written before this migration).
    // Stored as text and never queried, so it reads back byte for byte.
    r#"
    ALTER TABLE messages ADD COLUMN data TEXT;
    "#,
    // accounts: registered users (keyed by the normalized name), their sessions (refresh-token
    // families) and refresh tokens (hashes only), and invite codes (hashes only).
    r#"
    CREATE TABLE accounts (
        name_key      TEXT    PRIMARY KEY,
        name          TEXT    NOT NULL,
        password_hash TEXT    NOT NULL,
        admin         INTEGER NOT NULL DEFAULT 0,
        created       INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE account_sessions (
        id          TEXT    PRIMARY KEY,
        account_key TEXT    NOT NULL,
        revoked     INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX account_sessions_by_account ON account_sessions (account_key);
    CREATE TABLE refresh_tokens (
        hash       TEXT    PRIMARY KEY,
        session_id TEXT    NOT NULL,
        expires    INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
    CREATE TABLE invites (
        hash       TEXT    PRIMARY KEY,
        created_by TEXT    NOT NULL,
        expires    INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    "#,
    // The fields of room events other than plain messages (PROTOCOL.md, "Room events"): the
    // seq a change event changes, a moderation event's details (JSON text) and the users a
    // message mentions (a JSON array of names). NULL for every row written before.
    r#"
    ALTER TABLE messages ADD COLUMN target INTEGER;
    ALTER TABLE messages ADD COLUMN moderation TEXT;
    ALTER TABLE messages ADD COLUMN mentions TEXT;
    "#,
    // Room authority (issue #12): bans and mutes (until: NULL while not timed), invitations
    // to private rooms, the audit log (one row per moderation event, keyed by its seq) and
    // users' blocks of each other's direct messages.
    r#"
    CREATE TABLE room_bans (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        by_user TEXT    NOT NULL,
        reason  TEXT,
        until   INTEGER,
        since   INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_mutes (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        by_user TEXT    NOT NULL,
        reason  TEXT,
        until   INTEGER,
        since   INTEGER NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_invites (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user    TEXT    NOT NULL,
        PRIMARY KEY (room_id, user)
    ) WITHOUT ROWID;
    CREATE TABLE room_audit (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        seq     INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        user    TEXT,
        reason  TEXT,
        until   INTEGER,
        role    TEXT,
        ts      INTEGER NOT NULL,
        PRIMARY KEY (room_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE user_blocks (
        user    TEXT NOT NULL,
        blocked TEXT NOT NULL,
        PRIMARY KEY (user, blocked)
    ) WITHOUT ROWID;
    "#,
    // A message's current state (PROTOCOL.md, "Room events"): `body` becomes the current
    // text, updated by each edit, emptied by a delete, with when it was edited and who
    // deleted it when; reactions, one row per target, emoji and user (the react event's seq
    // orders emoji by first use); the replies of a thread root and the change events of a
    // target found by index. NULL, and no reactions, for every row written before.
    r#"
    ALTER TABLE messages ADD COLUMN edited_ts INTEGER;
    ALTER TABLE messages ADD COLUMN deleted_by TEXT;
    ALTER TABLE messages ADD COLUMN deleted_ts INTEGER;
    CREATE TABLE reactions (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        target  INTEGER NOT NULL,
        emoji   TEXT    NOT NULL,
        user    TEXT    NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (room_id, target, emoji, user)
    ) WITHOUT ROWID;
    CREATE INDEX messages_by_reply ON messages (room_id, reply_to, seq) WHERE reply_to IS NOT NULL;
    CREATE INDEX messages_by_target ON messages (room_id, target) WHERE target IS NOT NULL;
    "#,
    // A room's description (set at `create`), and when it was deleted (`delete_room`): a
    // deleted room keeps its row, so its name stays taken and its audit log readable, and
    // nothing else. NULL for every room written before.
    r#"
    ALTER TABLE rooms ADD COLUMN description TEXT;
    ALTER TABLE rooms ADD COLUMN deleted INTEGER;
    "#,
];

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
