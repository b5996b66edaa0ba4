//! What one attempt at committing a batch returns: an [`Outcome`] per message once committed,
//! or the [`Failure`] that decides whether the pipeline plans the batch again.

use chatcore::protocol::Message;
use chatcore::{BoxError, Error};

/// What planning decided for one message of a batch.
pub(super) enum Outcome {
    /// Stored with this seq.
    New(u64),
    /// A nonce already stored before this batch: this is the original.
    Original(Message),
    /// A nonce used by the earlier message at this index of the same batch.
    SameAs(usize),
    /// The room does not exist.
    UnknownRoom,
    /// A change event its target's state refuses (see changes.rs); nothing stored.
    Refused(Error),
}

/// Why an attempt failed.
pub(super) enum Failure {
    /// The unique index on `(nonce, sender)` rejected the copy: a nonce of the batch was
    /// stored before (or by another node meanwhile). Nothing was committed; planning again
    /// with the lookup finds the original. The connection is healthy.
    NonceTaken(BoxError),
    /// Nothing was committed; planning again may succeed.
    Retry(BoxError),
    /// Give up on this batch.
    Fatal(BoxError),
}
