//! `impl Store for MemoryStore`: every trait method, each a few map operations under the lock.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::{MemoryStore, RoomData};
use crate::protocol::{Message, RoomKind};
use crate::store::backend::Store;
use crate::store::lease::next_lease;
use crate::store::memory_state::RoomState;
use crate::store::types::{
    Appended, HistoryPage, HistoryQuery, MAX_PAGE, Member, NewMessage, NewRoom, Pending, Role,
    RoomRecord, SearchQuery,
};
use crate::store::unread::{MAX_UNREAD, Unread, counts_for};
use crate::{Error, Result};

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        let result = self.append_now(msg);
        Box::pin(async move { result })
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        let mut inner = self.lock();
        if inner.authority.deleted.contains(&room.name) {
            return Err(Error::UnknownRoom(room.name));
        }
        let data = inner
            .rooms
            .entry(room.name.clone())
            .or_insert_with(|| RoomData {
                record: RoomRecord {
                    name: room.name,
                    kind: room.kind,
                    topic: None,
                    description: None,
                    creator: room.creator,
                    created: room.created,
                    last_seq: 0,
                    members: 0,
                    invited: false,
                },
                messages: Vec::new(),
                members: BTreeMap::new(),
                reads: HashMap::new(),
                state: RoomState::default(),
            });
        Ok(data.record.clone())
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        Ok(self.lock().rooms.get(name).map(|r| r.record.clone()))
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        let inner = self.lock();
        let invites = &inner.authority.invites;
        let mut rooms: Vec<RoomRecord> = inner
            .rooms
            .values()
            .filter_map(|r| {
                let member = viewer.is_some_and(|v| r.members.contains_key(v));
                let invited = !member
                    && viewer
                        .is_some_and(|v| invites.contains(&(r.record.name.clone(), v.to_owned())));
                (r.record.kind == RoomKind::Public || member || invited).then(|| RoomRecord {
                    invited,
                    ..r.record.clone()
                })
            })
            .collect();
        rooms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rooms)
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        query.check()?;
        let inner = self.lock();
        let Some(data) = inner.rooms.get(room) else {
            return Ok(HistoryPage::default());
        };
        let last = data.messages.len() as u64;
        let lo = query.after.unwrap_or(0); // exclusive
        let hi = query.before.map_or(last + 1, |b| b.min(last + 1)); // exclusive
        if hi <= lo + 1 {
            return Ok(HistoryPage::default());
        }
        let limit = u64::from(query.clamped_limit());
        let available = hi - lo - 1;
        let take = available.min(limit);
        let (first, has_more) = if query.is_forward() {
            (lo + 1, available > take)
        } else {
            (hi - take, available > take)
        };
        let messages = data.messages[(first - 1) as usize..(first - 1 + take) as usize].to_vec();
        Ok(HistoryPage {
            messages,
            has_more,
            current_to: 0,
        })
    }

    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        let mut page = self.history(room, query).await?;
        let inner = self.lock();
        if let Some(data) = inner.rooms.get(room) {
            // The page was read under another lock: read it again under this one, so the
            // state and `current_to` are one snapshot.
            for m in &mut page.messages {
                if let Some(now) = data.messages.get((m.seq - 1) as usize) {
                    m.clone_from(now);
                }
            }
            data.state.fill(&data.messages, &mut page.messages, viewer);
            page.current_to = data.messages.len() as u64;
        }
        Ok(page)
    }

    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        query.check()?;
        let inner = self.lock();
        let Some(data) = inner.rooms.get(room) else {
            return Ok(HistoryPage::default());
        };
        let seqs = data.state.replies(
            root,
            query.after.unwrap_or(0),
            query.before.unwrap_or(u64::MAX),
        );
        let limit = query.clamped_limit() as usize;
        let mut messages: Vec<Message> = seqs
            .iter()
            .take(limit)
            .filter_map(|s| data.messages.get((*s - 1) as usize).cloned())
            .collect();
        data.state.fill(&data.messages, &mut messages, viewer);
        Ok(HistoryPage {
            messages,
            has_more: seqs.len() > limit,
            current_to: data.messages.len() as u64,
        })
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .map_or(0, |r| r.messages.len() as u64))
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        let mut inner = self.lock();
        let data = inner
            .rooms
            .get_mut(room)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        data.add_member(user, role);
        Ok(())
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        let mut inner = self.lock();
        if let Some(data) = inner.rooms.get_mut(room) {
            data.members.remove(user);
            data.record.members = data.members.len() as u64;
        }
        Ok(())
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .and_then(|r| r.members.get(user).cloned()))
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .map(|r| r.members.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        let wanted: Vec<String> = words(&query.text).collect();
        if wanted.is_empty() {
            return Err(Error::BadQuery("no words to search for".into()));
        }
        let inner = self.lock();
        let mut hits: Vec<Message> = inner
            .rooms
            .values()
            .filter(|r| query.room.as_deref().is_none_or(|q| q == r.record.name))
            .flat_map(|r| r.messages.iter())
            .filter(|m| !m.kind.is_change())
            .filter(|m| {
                let have: Vec<String> = words(&m.text).collect();
                wanted.iter().all(|w| have.contains(w))
            })
            .cloned()
            .collect();
        hits.sort_by(|a, b| b.ts.cmp(&a.ts).then(b.seq.cmp(&a.seq)));
        hits.truncate(query.limit.min(MAX_PAGE) as usize);
        Ok(hits)
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        let mut inner = self.lock();
        let data = inner
            .rooms
            .get_mut(room)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        let pos = data.reads.entry(user.to_owned()).or_insert(0);
        *pos = (*pos).max(seq);
        Ok(())
    }

    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<Unread>> {
        let inner = self.lock();
        Ok(rooms
            .iter()
            .map(|name| {
                let mut counts = Unread {
                    room: name.clone(),
                    ..Unread::default()
                };
                if let Some(data) = inner.rooms.get(name) {
                    let from = data.reads.get(user).copied().unwrap_or(0);
                    let after = data.messages.get(from as usize..).unwrap_or_default();
                    for m in after.iter().filter(|m| counts_for(m, user)) {
                        if counts.unread == MAX_UNREAD {
                            break;
                        }
                        counts.unread += 1;
                        if m.mentions.iter().any(|u| u == user) {
                            counts.mentions += 1;
                        }
                    }
                }
                counts
            })
            .collect())
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .and_then(|r| r.reads.get(user).copied())
            .unwrap_or(0))
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        let mut heads: Vec<(String, u64)> = self
            .lock()
            .rooms
            .iter()
            .map(|(name, r)| (name.clone(), r.messages.len() as u64))
            .collect();
        heads.sort();
        Ok(heads)
    }

    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>> {
        let mut inner = self.lock();
        let now = crate::clock::now_millis();
        let Some(lease) = next_lease(inner.leases.get(group), holder, now, ttl) else {
            return Ok(None);
        };
        let token = lease.token;
        inner.leases.insert(group.to_owned(), lease);
        Ok(Some(token))
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        Ok(self
            .lock()
            .cursors
            .get(group)
            .map(|c| c.iter().map(|(r, s)| (r.clone(), *s)).collect())
            .unwrap_or_default())
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        let mut inner = self.lock();
        if inner.leases.get(group).map(|l| l.token) != Some(token) {
            return Err(Error::LeaseLost(group.to_owned()));
        }
        let head = inner
            .rooms
            .get(room)
            .map(|r| r.messages.len() as u64)
            .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
        if seq > head {
            return Err(Error::BadCursor(format!(
                "{room} has no seq {seq} (its newest is {head})"
            )));
        }
        let cursor = inner
            .cursors
            .entry(group.to_owned())
            .or_default()
            .entry(room.to_owned())
            .or_insert(0);
        *cursor = (*cursor).max(seq);
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.lock().closed = true;
        Ok(())
    }
}
