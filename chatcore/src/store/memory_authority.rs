//! [`RoomAuthority`] for [`MemoryStore`]: every moderation event is checked, applied,
//! audited and appended under the store's one lock, so it is all or nothing.

use super::authority::{Action, Admission, AuditEntry, Restriction, RoomAuthority};
use super::memory::{Inner, MemoryStore, append_locked};
use super::types::{Appended, MAX_PAGE, NewMessage, Pending, Role};
use crate::{Error, Result};

fn key(room: &str, user: &str) -> (String, String) {
    (room.to_owned(), user.to_owned())
}

/// Checks, appends and applies one moderation event; nothing changes on an error.
fn moderate_locked(inner: &mut Inner, event: NewMessage) -> Result<Appended> {
    if inner.closed {
        return Err(Error::Closed);
    }
    let action = Action::of(&event)?;
    let restriction = action.restriction(&event);
    let room = event.room.clone();
    let data = inner
        .rooms
        .get(&room)
        .ok_or_else(|| Error::UnknownRoom(room.clone()))?;
    if let Action::SetRole(user, _) = action {
        if !data.members.contains_key(user) {
            return Err(Error::NotMember(format!("{user} is no member of {room}")));
        }
    }
    let action = owned(action);
    let appended = append_locked(inner, event)?;
    let room_data = inner
        .rooms
        .get_mut(&room)
        .ok_or_else(|| Error::UnknownRoom(room.clone()))?;
    let a = &mut inner.authority;
    match &action {
        Owned::Invite(user) => {
            a.invites.insert(key(&room, user));
        }
        Owned::Kick(user) | Owned::Ban(user) => {
            room_data.members.remove(user);
            a.invites.remove(&key(&room, user));
            if let (Owned::Ban(user), Some(r)) = (&action, restriction) {
                a.bans.insert(key(&room, user), r);
            }
        }
        Owned::Unban(user) => {
            a.bans.remove(&key(&room, user));
        }
        Owned::Mute(user) => {
            if let Some(r) = restriction {
                a.mutes.insert(key(&room, user), r);
            }
        }
        Owned::Unmute(user) => {
            a.mutes.remove(&key(&room, user));
        }
        Owned::SetRole(user, role) => {
            if *role == Role::Owner {
                for m in room_data.members.values_mut() {
                    if m.role == Role::Owner {
                        m.role = Role::Admin;
                    }
                }
            }
            if let Some(m) = room_data.members.get_mut(user) {
                m.role = *role;
            }
        }
        Owned::Topic(topic) => {
            room_data.record.topic = (!topic.is_empty()).then(|| topic.clone());
        }
    }
    room_data.record.members = room_data.members.len() as u64;
    a.audit
        .entry(room)
        .or_default()
        .push(AuditEntry::of(&appended.message));
    Ok(appended)
}

/// [`Action`] with its names owned, to outlive the event it was read from.
enum Owned {
    Invite(String),
    Kick(String),
    Ban(String),
    Unban(String),
    Mute(String),
    Unmute(String),
    SetRole(String, Role),
    Topic(String),
}

fn owned(action: Action<'_>) -> Owned {
    match action {
        Action::Invite(u) => Owned::Invite(u.to_owned()),
        Action::Kick(u) => Owned::Kick(u.to_owned()),
        Action::Ban(u) => Owned::Ban(u.to_owned()),
        Action::Unban(u) => Owned::Unban(u.to_owned()),
        Action::Mute(u) => Owned::Mute(u.to_owned()),
        Action::Unmute(u) => Owned::Unmute(u.to_owned()),
        Action::SetRole(u, r) => Owned::SetRole(u.to_owned(), r),
        Action::Topic(t) => Owned::Topic(t.to_owned()),
    }
}

#[async_trait::async_trait]
impl RoomAuthority for MemoryStore {
    fn moderate(&self, event: NewMessage) -> Pending<Appended> {
        let result = moderate_locked(&mut self.lock(), event);
        Box::pin(async move { result })
    }

    async fn admit(
        &self,
        room: &str,
        user: &str,
        invite_only: bool,
        now: i64,
    ) -> Result<Admission> {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let data = inner
            .rooms
            .get_mut(room)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        let k = key(room, user);
        if let Some(ban) = inner.authority.bans.get(&k).filter(|b| b.active_at(now)) {
            return Ok(Admission::Banned(ban.clone()));
        }
        if data.members.contains_key(user) {
            return Ok(Admission::Member);
        }
        if invite_only && !inner.authority.invites.contains(&k) {
            return Ok(Admission::Uninvited);
        }
        data.add_member(user, Role::Member);
        Ok(Admission::Member)
    }

    async fn ban(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        Ok(self.lock().authority.bans.get(&key(room, user)).cloned())
    }

    async fn mute(&self, room: &str, user: &str) -> Result<Option<Restriction>> {
        Ok(self.lock().authority.mutes.get(&key(room, user)).cloned())
    }

    async fn invited(&self, room: &str, user: &str) -> Result<bool> {
        Ok(self.lock().authority.invites.contains(&key(room, user)))
    }

    async fn audit(&self, room: &str, before: Option<u64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let take = limit.min(MAX_PAGE) as usize;
        let before = before.unwrap_or(u64::MAX);
        Ok(self
            .lock()
            .authority
            .audit
            .get(room)
            .map(|rows| {
                rows.iter()
                    .rev()
                    .filter(|r| r.seq < before)
                    .take(take)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn mutes(&self, room: &str) -> Result<Vec<Restriction>> {
        Ok(self
            .lock()
            .authority
            .mutes
            .iter()
            .filter(|((r, _), _)| r == room)
            .map(|(_, m)| m.clone())
            .collect())
    }

    async fn set_description(&self, room: &str, description: Option<&str>) -> Result<()> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        let data = inner
            .rooms
            .get_mut(room)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        data.record.description = description.map(str::to_owned);
        Ok(())
    }

    async fn delete_room(&self, room: &str, actor: &str, ts: i64) -> Result<AuditEntry> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        let data = inner
            .rooms
            .remove(room)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        let entry = AuditEntry::deletion(room, data.record.last_seq, actor, ts);
        inner.forget_nonces_of(room);
        let a = &mut inner.authority;
        a.bans.retain(|(r, _), _| r != room);
        a.mutes.retain(|(r, _), _| r != room);
        a.invites.retain(|(r, _)| r != room);
        a.audit
            .entry(room.to_owned())
            .or_default()
            .push(entry.clone());
        a.deleted.insert(room.to_owned());
        Ok(entry)
    }

    async fn set_block(&self, user: &str, other: &str, on: bool) -> Result<()> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(Error::Closed);
        }
        let pair = (user.to_owned(), other.to_owned());
        if on {
            inner.authority.blocks.insert(pair);
        } else {
            inner.authority.blocks.remove(&pair);
        }
        Ok(())
    }

    async fn blocks(&self, user: &str, other: &str) -> Result<bool> {
        Ok(self
            .lock()
            .authority
            .blocks
            .contains(&(user.to_owned(), other.to_owned())))
    }
}
