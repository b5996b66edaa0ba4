//! Rooms with authority: `create`, the moderation commands, `members`, and DM blocks.

use std::time::Duration;

use chatcore::protocol::{Command, Event, Member, Role, RoomKind, RoomSummary};

use super::Client;
use super::replies::{ack, unexpected};
use crate::error::Result;
use crate::types::Ack;

impl Client {
    /// Creates a room owned by this user (`kind` public or private, with a first topic). The
    /// room is not joined: call [`Client::join`] next.
    pub async fn create_room(
        &self,
        room: impl Into<String>,
        kind: RoomKind,
        topic: Option<String>,
    ) -> Result<RoomSummary> {
        let command = Command::Create {
            room: room.into(),
            kind,
            topic,
            description: None,
        };
        match self.call(command, None).await? {
            Event::Created { room, .. } => Ok(room),
            other => Err(unexpected(&other)),
        }
    }

    /// Deletes a room (its owner, or a server admin): every member's sessions get
    /// [`ClientEvent::RoomDeleted`](crate::ClientEvent::RoomDeleted) and leave it; the name
    /// is never a room again.
    pub async fn delete_room(&self, room: impl Into<String>) -> Result<()> {
        match self
            .call(Command::DeleteRoom { room: room.into() }, None)
            .await?
        {
            Event::RoomDeleted { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Invites `user` to a private room (admins and up). Resolves with the `invite` event's
    /// ack.
    pub async fn invite(&self, room: impl Into<String>, user: impl Into<String>) -> Result<Ack> {
        let command = Command::Invite {
            room: room.into(),
            user: user.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Removes `user` from a room (moderators and up); they may join again.
    pub async fn kick(
        &self,
        room: impl Into<String>,
        user: impl Into<String>,
        reason: Option<String>,
    ) -> Result<Ack> {
        let command = Command::Kick {
            room: room.into(),
            user: user.into(),
            reason,
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Removes `user` and keeps them out for `duration` (until [`Client::unban`] when
    /// `None`); admins and up.
    pub async fn ban(
        &self,
        room: impl Into<String>,
        user: impl Into<String>,
        reason: Option<String>,
        duration: Option<Duration>,
    ) -> Result<Ack> {
        let command = Command::Ban {
            room: room.into(),
            user: user.into(),
            reason,
            duration_s: duration.map(|d| d.as_secs().max(1)),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Lifts a ban (admins and up).
    pub async fn unban(&self, room: impl Into<String>, user: impl Into<String>) -> Result<Ack> {
        let command = Command::Unban {
            room: room.into(),
            user: user.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Stops `user` from sending for `duration` (until [`Client::unmute`] when `None`);
    /// moderators and up.
    pub async fn mute(
        &self,
        room: impl Into<String>,
        user: impl Into<String>,
        reason: Option<String>,
        duration: Option<Duration>,
    ) -> Result<Ack> {
        let command = Command::Mute {
            room: room.into(),
            user: user.into(),
            duration_s: duration.map(|d| d.as_secs().max(1)),
            reason,
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Lifts a mute (moderators and up).
    pub async fn unmute(&self, room: impl Into<String>, user: impl Into<String>) -> Result<Ack> {
        let command = Command::Unmute {
            room: room.into(),
            user: user.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Sets a room's topic (moderators and up; empty clears it).
    pub async fn set_topic(
        &self,
        room: impl Into<String>,
        topic: impl Into<String>,
    ) -> Result<Ack> {
        let command = Command::Topic {
            room: room.into(),
            topic: topic.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Gives `user` a new role in a room (admins up to moderator; the owner anything, and
    /// [`Role::Owner`] transfers ownership).
    pub async fn set_role(
        &self,
        room: impl Into<String>,
        user: impl Into<String>,
        role: Role,
    ) -> Result<Ack> {
        let command = Command::Role {
            room: room.into(),
            user: user.into(),
            role,
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// A room's durable members with their roles, sorted by name.
    pub async fn members(&self, room: impl Into<String>) -> Result<Vec<Member>> {
        match self
            .call(Command::Members { room: room.into() }, None)
            .await?
        {
            Event::Members { members, .. } => Ok(members),
            other => Err(unexpected(&other)),
        }
    }

    /// Refuses (`on`) or accepts again direct messages from `user`.
    pub async fn block(&self, user: impl Into<String>, on: bool) -> Result<()> {
        let user = user.into();
        let command = if on {
            Command::Block { user }
        } else {
            Command::Unblock { user }
        };
        match self.call(command, None).await? {
            Event::Blocked { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }
}
