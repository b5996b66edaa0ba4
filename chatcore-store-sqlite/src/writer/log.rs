//! The message log: new messages acknowledged before they reach SQLite.
//!
//! A SQLite commit of one message writes three or four WAL frames (the table's right edge and
//! each index's) and takes and releases the WAL's locks: with few messages in flight nearly
//! every message commits alone, and that commit was most of a small room's cost. So the
//! writer appends a batch of new messages to this file instead, one `write` for the batch
//! (plus `fdatasync` under [`Synchronous::Full`](crate::Synchronous)), replies, and writes
//! the messages into SQLite later, hundreds per transaction ("applying" the log, see
//! `logged.rs`). After each apply the file is cut back to its header.
//!
//! What makes that safe: a `write` that returned is in the kernel's page cache, so the
//! message survives a crash of the process exactly as a `synchronous=NORMAL` commit does;
//! opening the store replays the file into the database before anything else runs
//! ([`replay`]), and replaying a record that was applied already changes nothing (the
//! inserts ignore a `(room_id, seq)` or `(nonce, sender)` that is present). A record cut
//! short by a crash during its `write` was never acknowledged; its checksum fails and the
//! replay stops there.
//!
//! Layout: the header ([`MAGIC`], then the database's id, length-prefixed: a log never
//! replays into another database), then records: payload length (`u32`, little endian),
//! CRC-32 of the payload, the payload (MessagePack of a [`Record`]).

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chatcore::store::NewMessage;
use chatcore::{Error, Result};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::rows::{self, to_sql_u64};

/// The file's first bytes (format version 1).
const MAGIC: &[u8; 8] = b"CCMLOG1\n";

/// A record's payload may not be larger (a message is far smaller: the hub limits text and
/// data); a larger length is a torn or foreign record and ends the replay.
const MAX_RECORD: usize = 16 * 1024 * 1024;

/// One message as the `messages` table stores it. Written borrowed (`S = &str`), read owned.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Record<S> {
    room_id: i64,
    seq: u64,
    id: S,
    sender: S,
    kind: S,
    ts: i64,
    nonce: Option<S>,
    reply_to: Option<u64>,
    body: S,
    data: Option<S>,
    target: Option<u64>,
    moderation: Option<S>,
    mentions: Option<S>,
}

/// A logged message waiting to be applied.
pub(super) struct Logged {
    pub(super) msg: NewMessage,
    pub(super) room_id: i64,
    pub(super) seq: u64,
}

/// The open log and the messages in it that SQLite does not have yet.
pub(crate) struct MessageLog {
    file: File,
    path: PathBuf,
    /// `fdatasync` after each write (`synchronous=FULL`).
    sync: bool,
    /// Bytes of the header: what an apply cuts the file back to.
    header: u64,
    /// The file's length.
    len: u64,
    /// Records of the batch being logged, not written yet.
    buf: Vec<u8>,
    /// Messages logged (the first `written` of them in the file) and not applied.
    pub(super) pending: Vec<Logged>,
    written: usize,
    /// Hashes of the pending messages' `(nonce, sender)` ([`nonce_key`]): a miss is
    /// certain, a hit is checked against the pending messages. No string is copied per
    /// append, and clearing keeps the set's memory.
    nonces: HashSet<u64>,
    /// Seeds the hash of [`nonce_key`].
    keys: RandomState,
    /// Room id → newest pending seq.
    last_seq: HashMap<i64, u64>,
    /// When the oldest pending message was logged.
    since: Option<Instant>,
}

impl MessageLog {
    /// Opens the log at `path` for the database `database_id` after [`replay`] emptied it:
    /// the file is (re)written to just its header.
    pub(crate) fn create(path: &Path, database_id: &str, sync: bool) -> Result<Self> {
        let failed = |e: io::Error| {
            Error::store(format!(
                "cannot open the message log {}: {e}",
                path.display()
            ))
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(failed)?;
        let header = header(database_id);
        file.set_len(0).map_err(failed)?;
        file.write_all(&header).map_err(failed)?;
        file.sync_all().map_err(failed)?;
        let len = header.len() as u64;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            sync,
            header: len,
            len,
            buf: Vec::new(),
            pending: Vec::new(),
            written: 0,
            nonces: HashSet::new(),
            keys: RandomState::new(),
            last_seq: HashMap::new(),
            since: None,
        })
    }

    /// Queues `msg` with its room id and seq for the next [`MessageLog::write`].
    pub(super) fn push(&mut self, msg: NewMessage, room_id: i64, seq: u64) {
        let data = rows::data_to_sql(msg.data.as_ref());
        let moderation = rows::moderation_to_sql(msg.moderation.as_ref());
        let mentions = rows::mentions_to_sql(&msg.mentions);
        let record = Record {
            room_id,
            seq,
            id: msg.id.as_str(),
            sender: msg.sender.as_str(),
            kind: msg.kind.as_str(),
            ts: msg.ts,
            nonce: msg.nonce.as_deref(),
            reply_to: msg.reply_to,
            body: msg.text.as_str(),
            data: data.as_deref(),
            target: msg.target,
            moderation: moderation.as_deref(),
            mentions: mentions.as_deref(),
        };
        encode(&record, &mut self.buf);
        note_nonce(&mut self.nonces, &self.keys, &msg);
        self.last_seq.insert(room_id, seq);
        self.since.get_or_insert_with(Instant::now);
        self.pending.push(Logged { msg, room_id, seq });
    }

    /// Whether a pending message has this `(nonce, sender)`.
    pub(super) fn has_nonce(&self, nonce: &str, sender: &str) -> bool {
        self.nonces.contains(&nonce_key(&self.keys, nonce, sender))
            && self
                .pending
                .iter()
                .any(|p| p.msg.nonce.as_deref() == Some(nonce) && p.msg.sender == sender)
    }

    /// The newest pending seq of room `room_id` (0 when none is pending).
    pub(super) fn last_seq(&self, room_id: i64) -> u64 {
        self.last_seq.get(&room_id).copied().unwrap_or(0)
    }

    /// Writes the queued records (one `write`, then `fdatasync` when syncing). On failure
    /// the file is cut back and the queued messages are dropped from the pending ones: the
    /// caller fails their appends, and the seqs they took are free again.
    pub(super) fn write(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self
            .file
            .write_all(&self.buf)
            .and_then(|()| match self.sync {
                true => self.file.sync_data(),
                false => Ok(()),
            });
        match written {
            Ok(()) => {
                self.len += self.buf.len() as u64;
                self.written = self.pending.len();
            }
            Err(e) => {
                // Whatever part of the batch reached the file is cut off again.
                let _ = self.file.set_len(self.len);
                self.pending.truncate(self.written);
                self.recount();
                self.buf.clear();
                return Err(e);
            }
        }
        self.buf.clear();
        Ok(())
    }

    /// Whether the pending messages should be applied now: many of them, or the oldest
    /// waiting long.
    pub(super) fn due(&self) -> bool {
        self.pending.len() >= APPLY_MESSAGES
            || self.len - self.header >= APPLY_BYTES
            || self.since.is_some_and(|t| t.elapsed() >= APPLY_AGE)
    }

    /// Forgets the pending messages once SQLite has them, and cuts the file back to its
    /// header.
    pub(super) fn applied(&mut self) {
        self.pending.clear();
        self.written = 0;
        self.nonces.clear();
        self.last_seq.clear();
        self.since = None;
        match self.file.set_len(self.header) {
            Ok(()) => self.len = self.header,
            // The records stay and are replayed (ignored: SQLite has them) at the next open.
            Err(e) => tracing::warn!(
                error = %e,
                path = %self.path.display(),
                "sqlite store: cannot cut the message log back after applying it"
            ),
        }
    }

    /// Rebuilds the nonce set and newest seqs from the pending messages.
    fn recount(&mut self) {
        self.nonces.clear();
        self.last_seq.clear();
        for p in &self.pending {
            note_nonce(&mut self.nonces, &self.keys, &p.msg);
            self.last_seq.insert(p.room_id, p.seq);
        }
        if self.pending.is_empty() {
            self.since = None;
        }
    }
}

/// Records `msg`'s `(nonce, sender)` in `nonces`, if it has a nonce.
fn note_nonce(nonces: &mut HashSet<u64>, keys: &RandomState, msg: &NewMessage) {
    if let Some(nonce) = &msg.nonce {
        nonces.insert(nonce_key(keys, nonce, &msg.sender));
    }
}

/// The key of a `(nonce, sender)` in [`MessageLog`]'s set of them.
fn nonce_key(keys: &RandomState, nonce: &str, sender: &str) -> u64 {
    keys.hash_one((nonce, sender))
}

/// Pending messages that make an apply due.
const APPLY_MESSAGES: usize = 1024;
/// Logged bytes that make an apply due.
const APPLY_BYTES: u64 = 1024 * 1024;
/// How long a logged message waits for its apply at most while the writer is busy.
const APPLY_AGE: std::time::Duration = std::time::Duration::from_millis(100);

fn header(database_id: &str) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&(database_id.len() as u32).to_le_bytes());
    h.extend_from_slice(database_id.as_bytes());
    h
}

fn encode(record: &Record<&str>, out: &mut Vec<u8>) {
    // Straight into `out` (which keeps its capacity from batch to batch), the length and
    // checksum filled in after: no buffer of its own per record.
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    // A struct of strings and integers always encodes.
    if rmp_serde::encode::write(out, record).is_err() {
        out.truncate(start);
        return;
    }
    let payload = &out[start + 8..];
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(payload).to_le_bytes();
    out[start..start + 4].copy_from_slice(&len);
    out[start + 4..start + 8].copy_from_slice(&crc);
}

/// The whole records in `bytes` (the file after its header), in order; stops at the first
/// torn, corrupt or undecodable one.
fn decode(mut bytes: &[u8]) -> Vec<Record<String>> {
    let mut records = Vec::new();
    while bytes.len() >= 8 {
        let (head, rest) = bytes.split_at(8);
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_RECORD || rest.len() < len {
            break;
        }
        let (payload, rest) = rest.split_at(len);
        if crc32fast::hash(payload) != crc {
            break;
        }
        match rmp_serde::from_slice(payload) {
            Ok(record) => records.push(record),
            Err(_) => break,
        }
        bytes = rest;
    }
    records
}

/// Writes every message of the log at `path` into the database (those it has already are
/// skipped), before the store starts. Returns how many the database did not have. A log of
/// another database is refused: its messages belong elsewhere.
pub(crate) fn replay(conn: &mut Connection, path: &Path, database_id: &str) -> Result<u64> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => f.read_to_end(&mut bytes).map_err(|e| {
            Error::store(format!(
                "cannot read the message log {}: {e}",
                path.display()
            ))
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(Error::store(format!(
                "cannot open the message log {}: {e}",
                path.display()
            )));
        }
    };
    if bytes.is_empty() {
        return Ok(0);
    }
    let header = header(database_id);
    let Some(records) = bytes.strip_prefix(header.as_slice()) else {
        return Err(Error::Config(format!(
            "{} is not this database's message log (it may hold acknowledged messages of \
             another database file): move it away to open the store",
            path.display()
        )));
    };
    let records = decode(records);
    insert_all(conn, &records).map_err(Error::store)
}

fn insert_all(conn: &mut Connection, records: &[Record<String>]) -> rusqlite::Result<u64> {
    let tx = conn.transaction()?;
    let mut added = 0;
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO messages \
             (room_id, seq, id, sender, kind, ts, nonce, reply_to, body, data, target, \
              moderation, mentions) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for r in records {
            added += insert.execute(params![
                r.room_id,
                to_sql_u64(r.seq),
                r.id,
                r.sender,
                r.kind,
                r.ts,
                r.nonce,
                r.reply_to.map(to_sql_u64),
                r.body,
                r.data,
                r.target.map(to_sql_u64),
                r.moderation,
                r.mentions,
            ])? as u64;
        }
    }
    tx.commit()?;
    Ok(added)
}

#[cfg(test)]
mod tests;
