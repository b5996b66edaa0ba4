//! What the store sends the writer thread: [`Command`]s (a [`Write`] or the close), where
//! it takes them from ([`Commands`]), and how a write's [`Outcome`] becomes its reply.

use std::sync::mpsc::{Receiver, RecvError, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use chatcore::protocol::Message;
use chatcore::store::{Admission, Appended, AuditEntry, NewMessage, NewRoom, Role, RoomRecord};
use chatcore::{Error, Result};
use tokio::sync::oneshot;

/// What the store sends the writer thread.
pub(crate) enum Command {
    /// A change, committed with the next batch.
    Write(Write),
    /// Nothing to do: wakes the writer thread so that it applies the message log in time
    /// (an append logged on its caller's thread sends it when the log was empty).
    Wake,
    /// Write everything queued before this into SQLite, the message log's messages
    /// included, then reply: what a read waits for while the log holds messages.
    Flush(oneshot::Sender<Result<()>>),
    /// Commit everything queued before this, close the connection, reply, stop.
    Close(oneshot::Sender<()>),
}

impl Command {
    /// Whether the command counts in [`Counters::queued`](super::Counters): everything but
    /// a wake-up, which orders nothing.
    pub(crate) fn is_queued(&self) -> bool {
        !matches!(self, Command::Wake)
    }
}

/// Where the writer thread takes its commands from: the store's channel. A seam so tests
/// can wrap the channel (to hold the writer while they queue a known batch) without a
/// test-only command in [`Command`].
pub(crate) trait Commands {
    /// A command already queued, without waiting.
    fn try_recv(&self) -> Result<Command, TryRecvError>;
    /// The next command, waiting for it; `Err` once every sender is gone.
    fn recv(&self) -> Result<Command, RecvError>;
    /// The next command, waiting for it at most `timeout`.
    fn recv_timeout(&self, timeout: Duration) -> Result<Command, RecvTimeoutError>;
}

impl Commands for Receiver<Command> {
    fn try_recv(&self) -> Result<Command, TryRecvError> {
        Receiver::try_recv(self)
    }

    fn recv(&self) -> Result<Command, RecvError> {
        Receiver::recv(self)
    }

    fn recv_timeout(&self, timeout: Duration) -> Result<Command, RecvTimeoutError> {
        Receiver::recv_timeout(self, timeout)
    }
}

/// One change and where its result goes.
pub(crate) enum Write {
    /// Store a message (seq assigned at commit).
    Append {
        /// The message.
        msg: NewMessage,
        /// The result.
        reply: oneshot::Sender<Result<Appended>>,
    },
    /// Create a room unless it exists.
    CreateRoom {
        room: NewRoom,
        reply: oneshot::Sender<Result<RoomRecord>>,
    },
    /// Add a durable member (keeps an existing member's role).
    AddMember {
        room: String,
        user: String,
        role: Role,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Admit a joining user unless a ban or a missing invitation refuses them (see
    /// `admission.rs`).
    Admit {
        room: String,
        user: String,
        invite_only: bool,
        now: i64,
        reply: oneshot::Sender<Result<Admission>>,
    },
    /// Remove a durable member.
    RemoveMember {
        room: String,
        user: String,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Move a read position forwards.
    SetRead {
        room: String,
        user: String,
        seq: u64,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Move several read positions forwards (marks of unknown rooms are skipped).
    SetReads {
        marks: Vec<chatcore::store::ReadMark>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Take or renew an event-stream consumer group's lease.
    Lease {
        group: String,
        holder: String,
        ttl: std::time::Duration,
        reply: oneshot::Sender<Result<Option<u64>>>,
    },
    /// Move a consumer group's cursor forwards, fenced by its lease token.
    CommitCursor {
        group: String,
        token: u64,
        room: String,
        seq: u64,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Apply, audit and store a moderation event (see `authority.rs`).
    Moderate {
        /// The event.
        msg: NewMessage,
        /// The stored event.
        reply: oneshot::Sender<Result<Appended>>,
    },
    /// Set or clear a room's description.
    Describe {
        room: String,
        description: Option<String>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Delete a room (see `authority.rs`).
    DeleteRoom {
        room: String,
        actor: String,
        ts: i64,
        reply: oneshot::Sender<Result<AuditEntry>>,
    },
    /// Make a user block (or stop blocking) another's direct messages.
    Block {
        user: String,
        other: String,
        on: bool,
        reply: oneshot::Sender<Result<()>>,
    },
}

/// What a write produced inside the transaction; turned into the reply after the commit.
pub(crate) enum Outcome {
    /// A new message got this seq.
    Stored(u64),
    /// The nonce was used before; this is the original.
    Duplicate(Message),
    /// A room record.
    Room(RoomRecord),
    /// The lease's token when granted.
    Lease(Option<u64>),
    /// What a join's admission decided.
    Admitted(Admission),
    /// A deleted room's last audit row.
    Deleted(AuditEntry),
    /// Nothing to report.
    Done,
}

impl Write {
    pub(super) fn reply(self, outcome: Result<Outcome>) {
        fn mismatch<T>() -> Result<T> {
            Err(Error::store(
                "sqlite writer produced the wrong kind of result",
            ))
        }
        // A send fails only when the caller stopped waiting; the write stands either way.
        match self {
            Write::Append { msg, reply, .. } | Write::Moderate { msg, reply } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Stored(seq) => Ok(Appended {
                        message: msg.into_message(seq),
                        duplicate: false,
                    }),
                    Outcome::Duplicate(message) => Ok(Appended {
                        message,
                        duplicate: true,
                    }),
                    _ => mismatch(),
                }));
            }
            Write::CreateRoom { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Room(r) => Ok(r),
                    _ => mismatch(),
                }));
            }
            Write::DeleteRoom { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Deleted(entry) => Ok(entry),
                    _ => mismatch(),
                }));
            }
            Write::Admit { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Admitted(a) => Ok(a),
                    _ => mismatch(),
                }));
            }
            Write::Lease { reply, .. } => {
                let _ = reply.send(outcome.and_then(|o| match o {
                    Outcome::Lease(token) => Ok(token),
                    _ => mismatch(),
                }));
            }
            Write::AddMember { reply, .. }
            | Write::RemoveMember { reply, .. }
            | Write::SetRead { reply, .. }
            | Write::SetReads { reply, .. }
            | Write::CommitCursor { reply, .. }
            | Write::Describe { reply, .. }
            | Write::Block { reply, .. } => {
                let _ = reply.send(outcome.map(|_| ()));
            }
        }
    }
}
