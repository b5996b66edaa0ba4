//! The wire protocol: every client→server command and server→client event.
//!
//! Frames are maps with a `type` tag (`{"type":"send","id":7,...}`), so new fields and new
//! frame types can be added without breaking old peers: unknown fields are ignored, and an
//! unknown `type` gets an [`ErrorCode::UnknownType`](crate::ErrorCode::UnknownType) error
//! that echoes the request id. `PROTOCOL.md` at the repository root documents every frame.

mod codec;
mod data;
mod event;
mod frame;
mod message;
mod moderation;
mod reaction;
mod request;
mod state;

pub use codec::{Codec, DecodeError};
pub use data::{MAX_DATA_DEPTH, encoded_len};
pub(crate) use data::{check as check_data, dispose as dispose_data};
pub(crate) use event::ceil_millis;
pub use event::{Event, Receipt, RoomSummary, SearchHit};
pub use frame::Frame;
pub use message::{Data, MAX_KIND_BYTES, Message, MessageKind, RoomKind};
pub use moderation::{Member, Moderation, Role};
pub use reaction::{MAX_EMOJI_BYTES, check_emoji};
pub use request::{Command, LookupKind, PROTOCOL_VERSION, Request, RequestId};
pub use state::{ReactionCount, ThreadSummary, Tombstone};
