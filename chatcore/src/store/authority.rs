//! [`RoomAuthority`]: the store capability behind rooms with authority (issue #12): bans,
//! mutes, invitations to private rooms, role changes, the topic, the audit log, and users'
//! blocks of each other's direct messages.
//!
//! Every moderation action is one call, [`RoomAuthority::moderate`], with the room event
//! that announces it (PROTOCOL.md, "Room events"). The store reads what to change from the
//! event ([`Action::of`]) and commits the change, an [`AuditEntry`] and the event with the
//! room's next seq in ONE transaction: a refused action writes nothing, and no action is
//! ever stored without its event or its audit row.

use serde::{Deserialize, Serialize};

use super::types::{Appended, NewMessage, Pending, Role};
use crate::protocol::MessageKind;
use crate::{Error, Result};

/// A ban or a mute as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restriction {
    /// Who is restricted.
    pub user: String,
    /// Who imposed it.
    pub by: String,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// When it ends, milliseconds since the Unix epoch (`None`: until lifted).
    pub until: Option<i64>,
    /// When it was imposed, milliseconds since the Unix epoch.
    pub since: i64,
}

impl Restriction {
    /// Whether it still holds at `now` (ms since the Unix epoch): a timed one lapses by
    /// itself, with no event.
    pub fn active_at(&self, now: i64) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// What [`RoomAuthority::admit`] decided about a join.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Admission {
    /// The user is a durable member now (an existing member keeps their role).
    Member,
    /// This ban, active at the time given, keeps the user out; nothing was written.
    Banned(Restriction),
    /// The room is invite-only and the user is neither a member nor invited; nothing was
    /// written.
    Uninvited,
}

/// One row of a room's audit log: who did what to whom, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The room.
    pub room: String,
    /// The seq of the room event that announced the action.
    pub seq: u64,
    /// Who acted.
    pub actor: String,
    /// What they did: the event's kind (`kick`, `ban`, `role`, …).
    pub action: MessageKind,
    /// Whom it was on (absent for `topic`).
    pub user: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
    /// When a timed ban or mute ends.
    pub until: Option<i64>,
    /// The new role, for `role`.
    pub role: Option<Role>,
    /// When, milliseconds since the Unix epoch.
    pub ts: i64,
}

impl AuditEntry {
    /// The audit row of deleting `room` (whose newest seq was `last_seq`) by `actor`.
    pub fn deletion(room: &str, last_seq: u64, actor: &str, ts: i64) -> Self {
        Self {
            room: room.to_owned(),
            seq: last_seq + 1,
            actor: actor.to_owned(),
            action: MessageKind::DeleteRoom,
            user: None,
            reason: None,
            until: None,
            role: None,
            ts,
        }
    }

    /// The audit row of a committed moderation event.
    pub fn of(event: &crate::protocol::Message) -> Self {
        let m = event.moderation.as_deref();
        Self {
            room: event.room.clone(),
            seq: event.seq,
            actor: event.sender.clone(),
            action: event.kind.clone(),
            user: m.and_then(|m| m.user.clone()),
            reason: m.and_then(|m| m.reason.clone()),
            until: m.and_then(|m| m.until),
            role: m.and_then(|m| m.role),
            ts: event.ts,
        }
    }
}

/// The state change a moderation event stands for, as every store applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Record an invitation to the (private) room; joining then makes a member.
    Invite(&'a str),
    /// End the membership and any invitation.
    Kick(&'a str),
    /// Record (or replace) a ban, and end the membership and any invitation.
    Ban(&'a str),
    /// Lift a ban.
    Unban(&'a str),
    /// Record (or replace) a mute.
    Mute(&'a str),
    /// Lift a mute.
    Unmute(&'a str),
    /// Change a member's role; giving `Owner` makes every current owner an admin.
    SetRole(&'a str, Role),
    /// Set the room's topic (the event's text; empty clears it).
    Topic(&'a str),
}

impl<'a> Action<'a> {
    /// Reads the change from a moderation event, refusing an event that is not one
    /// (`invalid`): a store calls this before it writes anything.
    pub fn of(event: &'a NewMessage) -> Result<Self> {
        if event.nonce.is_some() {
            return Err(Error::invalid("nonce", "moderation events carry no nonce"));
        }
        if event.kind == MessageKind::Topic {
            return Ok(Action::Topic(&event.text));
        }
        let m = event.moderation.as_ref();
        let user = m
            .and_then(|m| m.user.as_deref())
            .ok_or_else(|| Error::invalid("moderation", "names no user"))?;
        Ok(match event.kind {
            MessageKind::Invite => Action::Invite(user),
            MessageKind::Kick => Action::Kick(user),
            MessageKind::Ban => Action::Ban(user),
            MessageKind::Unban => Action::Unban(user),
            MessageKind::Mute => Action::Mute(user),
            MessageKind::Unmute => Action::Unmute(user),
            MessageKind::SetRole => Action::SetRole(
                user,
                m.and_then(|m| m.role)
                    .ok_or_else(|| Error::invalid("moderation", "a role event names no role"))?,
            ),
            _ => {
                return Err(Error::invalid(
                    "kind",
                    format!("{} is not a moderation event", event.kind.as_str()),
                ));
            }
        })
    }

    /// For a ban or a mute: the restriction it records.
    pub fn restriction(&self, event: &NewMessage) -> Option<Restriction> {
        let (Action::Ban(user) | Action::Mute(user)) = *self else {
            return None;
        };
        let m = event.moderation.as_ref();
        Some(Restriction {
            user: user.to_owned(),
            by: event.sender.clone(),
            reason: m.and_then(|m| m.reason.clone()),
            until: m.and_then(|m| m.until),
            since: event.ts,
        })
    }
}

/// Room authority, a capability every [`Store`](super::Store) has (see the module docs).
#[async_trait::async_trait]
pub trait RoomAuthority: Send + Sync + 'static {
    /// Applies the moderation event's [`Action`], writes its [`AuditEntry`] and stores the
    /// event with the room's next seq, all in one transaction; resolves with the stored
    /// event. It shares the room's gapless sequence with
    /// [`Store::append`](super::Store::append), but unlike appends it is not ordered with
    /// appends still in flight. Refusals write nothing: an unknown room is
    /// [`Error::UnknownRoom`], a role change of a non-member [`Error::NotMember`], an
    /// event that is no moderation event `invalid`.
    fn moderate(&self, event: NewMessage) -> Pending<Appended>;

    /// Makes `user` a durable [`Role::Member`] of `room` the way a join does, checking in the
    /// same transaction what may refuse it: a ban active at `now` (ms since the Unix epoch),
    /// and with `invite_only` the lack of an invitation (an existing member is admitted as
    /// they are). A ban or kick committed at the same time either finds the new membership
    /// and ends it, or is found and refuses the join: a banned user never stays a member.
    /// [`Error::UnknownRoom`] for an unknown or deleted room.
    async fn admit(&self, room: &str, user: &str, invite_only: bool, now: i64)
    -> Result<Admission>;

    /// The ban of `user` in `room`, if one is stored (it may have lapsed: see
    /// [`Restriction::active_at`]).
    async fn ban(&self, room: &str, user: &str) -> Result<Option<Restriction>>;

    /// The mute of `user` in `room`, if one is stored (it may have lapsed).
    async fn mute(&self, room: &str, user: &str) -> Result<Option<Restriction>>;

    /// Whether `user` holds an invitation to `room` (kicks and bans take it back).
    async fn invited(&self, room: &str, user: &str) -> Result<bool>;

    /// The newest `limit` rows of `room`'s audit log (clamped to
    /// [`MAX_PAGE`](super::MAX_PAGE)) with a seq below `before` (all with `None`), newest
    /// first: pass the last row's seq as `before` for the next page. A deleted room's log
    /// stays readable, its last row the `delete_room`.
    async fn audit(&self, room: &str, before: Option<u64>, limit: u32) -> Result<Vec<AuditEntry>>;

    /// The mutes stored for `room` (some may have lapsed), in any order: what a node loads
    /// with the room, so that a `send` checks its mute in memory.
    async fn mutes(&self, room: &str) -> Result<Vec<Restriction>>;

    /// Sets the room's description (`None` clears it); [`Error::UnknownRoom`] for an
    /// unknown or deleted room.
    async fn set_description(&self, room: &str, description: Option<&str>) -> Result<()>;

    /// Deletes the room in one transaction: its messages, memberships, invitations, bans,
    /// mutes, reactions, read positions and search-index rows go; an [`AuditEntry`] with
    /// action [`MessageKind::DeleteRoom`] and seq `last_seq + 1` is added to its audit log,
    /// which stays. The name stays taken: [`Store::room`](super::Store::room) answers
    /// `None`, [`Store::create_room`](super::Store::create_room) and every write to the
    /// room fail with [`Error::UnknownRoom`], so clients holding seqs of the old room never
    /// meet a new room of the same name. Resolves with the audit row;
    /// [`Error::UnknownRoom`] for an unknown or already deleted room.
    async fn delete_room(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry>;

    /// Makes `user` block (`on`) or stop blocking direct messages from `other`
    /// (idempotent).
    async fn set_block(&self, user: &str, other: &str, on: bool) -> Result<()>;

    /// Whether `user` blocks direct messages from `other`.
    async fn blocks(&self, user: &str, other: &str) -> Result<bool>;
}
