//! [`CloseReason`]: why a session ended.

/// Why a session ended. Transports map each to a documented close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client or the embedder ended the session.
    Normal,
    /// The server is shutting down; queued frames are delivered first.
    GoingAway,
    /// The session stopped taking frames: its full queue untouched, or its socket refusing
    /// bytes, for `Limits::slow_consumer_after`. It should reconnect and resume.
    SlowConsumer,
    /// The client broke the protocol badly enough to be dropped.
    Policy,
    /// The account's session was revoked (logout, password change, a replayed refresh
    /// token, a deleted account): the client must sign in again.
    Revoked,
}

impl CloseReason {
    /// `true` when frames already queued should still be written before closing.
    pub fn drains(self) -> bool {
        matches!(self, CloseReason::Normal | CloseReason::GoingAway)
    }
}
