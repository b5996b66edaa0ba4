//! Which `(nonce, sender)` pairs the database may hold, answered without reading it.
//!
//! Before a message is logged its nonce must be known unused (a retry is answered with the
//! original). Asking SQLite costs a read transaction per message — the WAL index's locks
//! taken and released with `fcntl`s: 5.5 % of the server's CPU in a room of 10, on the
//! caller's thread. A Bloom filter answers "certainly unused" for nearly every fresh nonce;
//! only a "maybe" (a retry, or a false positive: about 1 in 100) reads the database.
//!
//! Two filters: the writer notes every nonce it stores from the moment the store opens, and
//! a loader thread fills the other with every nonce already in the database — one scan of
//! the nonce index, started after the writer's filter, so between them they miss nothing
//! (the writer is the database's only writer). Until the scan is done every nonce is read.
//! A message deleted later stays in the filters: a stale entry only costs a read.
//!
//! Memory is about 1.2 bytes per nonce; past [`MAX_NONCES`] the filters are dropped and
//! every nonce is read again, as without them.

use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;

use chatcore::{Error, Result};
use growable_bloom_filter::GrowableBloom;
use rusqlite::Connection;

/// The false positive rate each filter aims for.
const ERROR_RATE: f64 = 0.01;

/// Nonces the filters hold at most, together (about 40 MiB): a larger database reads every
/// nonce, as without them.
pub(super) const MAX_NONCES: usize = 32 << 20;

/// Nonces each filter is first made for (about 1.2 MiB): a filter that outgrows it adds a
/// larger one, and each lookup probes every one of them, so the first should hold what a
/// busy store stores in hours.
const FIRST_SIZE: usize = 1 << 20;

/// The loader checks every this many rows whether the store is still open.
const CHECK_EVERY: usize = 1 << 16;

/// What the loader leaves: the filter of the nonces stored before the store opened, or
/// `None` when it could not make one (too many nonces, a failed read).
type Loaded = OnceLock<Option<GrowableBloom>>;

/// The writer's two filters (see the module docs).
pub(crate) struct Nonces {
    /// Every nonce the writer stored (or was about to) since the store opened.
    since_open: GrowableBloom,
    /// Set by the loader thread once it has scanned the database.
    before_open: Arc<Loaded>,
    /// Nonces the filters may hold together ([`MAX_NONCES`]).
    max: usize,
    /// The filters grew past `max`: they are no longer kept or asked.
    dropped: bool,
}

impl Nonces {
    /// Starts the loader thread on `conn` (a reader connection of the store's database).
    pub(crate) fn load(conn: Connection) -> Result<(Self, JoinHandle<()>)> {
        let before_open = Arc::new(Loaded::new());
        let cell = Arc::downgrade(&before_open);
        let thread = std::thread::Builder::new()
            .name("sqlite-nonces".into())
            .spawn(move || {
                let loaded = scan(&conn, &cell);
                if let Some(cell) = cell.upgrade() {
                    let _ = cell.set(loaded);
                }
            })
            .map_err(|e| Error::store(format!("cannot start the nonce loader thread: {e}")))?;
        Ok((Self::with(before_open, MAX_NONCES), thread))
    }

    fn with(before_open: Arc<Loaded>, max: usize) -> Self {
        Self {
            since_open: GrowableBloom::new(ERROR_RATE, FIRST_SIZE),
            before_open,
            max,
            dropped: false,
        }
    }

    /// Notes a nonce the writer is about to store, and answers whether a stored message may
    /// already have it: `false` when certainly none does, `true` when one may (the database
    /// says). One probe of each filter: the note is the lookup.
    pub(super) fn note(&mut self, nonce: &str, sender: &str) -> bool {
        if self.dropped {
            return true;
        }
        let seen = !self.since_open.insert((nonce, sender));
        let loaded = self.loaded().map_or(0, GrowableBloom::len);
        if self.since_open.len() + loaded > self.max {
            tracing::info!(
                nonces = self.max,
                "sqlite store: too many nonces to keep a filter of; each is looked up"
            );
            self.dropped = true;
            self.since_open = GrowableBloom::new(ERROR_RATE, 1);
            // The loaded filter goes too (a loader still scanning stops, finding no owner).
            self.before_open = Arc::new(Loaded::new());
            return true;
        }
        match self.before_open.get() {
            Some(Some(before)) => seen || before.contains((nonce, sender)),
            // Still loading, or no filter could be made.
            Some(None) | None => true,
        }
    }

    fn loaded(&self) -> Option<&GrowableBloom> {
        self.before_open.get().and_then(Option::as_ref)
    }
}

/// Every `(nonce, sender)` in the database, in a filter; `None` when there are too many or
/// the read fails, or when the store closed meanwhile (nobody is left to ask).
fn scan(conn: &Connection, cell: &Weak<Loaded>) -> Option<GrowableBloom> {
    let started = std::time::Instant::now();
    let read = || -> rusqlite::Result<Option<GrowableBloom>> {
        // Sized once for every message there is (`pos` numbers them), so that one filter
        // holds them all.
        let messages: Option<i64> =
            conn.query_row("SELECT max(pos) FROM messages", [], |row| row.get(0))?;
        let size = usize::try_from(messages.unwrap_or(0)).unwrap_or(0);
        let mut filter = GrowableBloom::new(ERROR_RATE, size.clamp(FIRST_SIZE, MAX_NONCES));
        let mut stmt =
            conn.prepare("SELECT nonce, sender FROM messages WHERE nonce IS NOT NULL")?;
        let mut rows = stmt.query([])?;
        let mut n = 0usize;
        while let Some(row) = rows.next()? {
            let nonce = row.get_ref(0)?.as_str()?;
            let sender = row.get_ref(1)?.as_str()?;
            filter.insert((nonce, sender));
            n += 1;
            if n % CHECK_EVERY == 0 && (cell.strong_count() == 0 || n > MAX_NONCES) {
                return Ok(None);
            }
        }
        Ok(Some(filter))
    };
    match read() {
        Ok(filter) => {
            tracing::debug!(
                nonces = filter.as_ref().map(GrowableBloom::len),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "sqlite store: nonce filter loaded"
            );
            filter
        }
        Err(e) => {
            tracing::warn!(error = %e, "sqlite store: cannot load the nonce filter; each nonce is looked up");
            None
        }
    }
}

#[cfg(test)]
mod tests;
