//! The room administration a REST API offers, on [`Hub`]: the same checks, commits and
//! fan-out as the WebSocket commands `create`, `delete_room` and `members`, for a caller
//! identified by their [`Identity`] (their bearer token) instead of a session.

use super::{Hub, command};
use crate::Result;
use crate::auth::Identity;
use crate::protocol::{Member, RoomKind, RoomSummary};
use crate::store::AuditEntry;

impl Hub {
    /// Creates a room owned by `identity`, as the `create` command does: a `public` or
    /// `private` room, an optional first topic (a `topic` event) and description (each at
    /// most 500 bytes). A taken name (also one of a deleted room) is
    /// [`Error::RoomTaken`](crate::Error::RoomTaken).
    pub async fn create_room_as(
        &self,
        identity: &Identity,
        room: &str,
        kind: RoomKind,
        topic: Option<String>,
        description: Option<String>,
    ) -> Result<RoomSummary> {
        command::create(&self.core, identity, room, kind, topic, description).await
    }

    /// Deletes a room, as the `delete_room` command does (its owner or a server admin): its
    /// members' sessions on every node get `room_deleted` and `left`; the deletion's audit
    /// row.
    pub async fn delete_room_as(&self, identity: &Identity, room: &str) -> Result<AuditEntry> {
        command::delete_room(&self.core, identity, room, None).await
    }

    /// A room's durable members with their roles, if `viewer` may read the room.
    pub async fn members(&self, room: &str, viewer: &str) -> Result<Vec<Member>> {
        command::members(&self.core, viewer, room).await
    }

    /// A page of a room's audit log, newest first, with seqs below `before`: for the
    /// room's admins and owner, and server admins (who also read a deleted room's log). A
    /// private room `identity` is no member of is
    /// [`Error::UnknownRoom`](crate::Error::UnknownRoom), as an unknown one.
    pub async fn audit(
        &self,
        identity: &Identity,
        room: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        command::audit(&self.core, identity, room, before, limit).await
    }
}
