//! `impl Store for SqliteStore`: each change is a command queued for the writer thread,
//! each read a job for a free reader thread.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chatcore::protocol::Message;
use chatcore::store::{
    Appended, HistoryPage, HistoryQuery, Member, NewMessage, NewRoom, Pending, ReadMark, Role,
    RoomRecord, SearchQuery, Store,
};
use chatcore::{Error, Result};
use tokio::sync::oneshot;

use super::SqliteStore;
use crate::writer::{Command, Write};
use crate::{queries, search, state};

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn append(&self, msg: NewMessage) -> Pending<Appended> {
        // Everything here runs before returning: the message is in the log, or the command
        // in the writer's FIFO queue, when `append` returns, so appends called in sequence
        // are stored in that order.
        if let Some(seq) = self.log_here(&msg) {
            let appended = Appended {
                message: msg.into_message(seq),
                duplicate: false,
            };
            return Box::pin(std::future::ready(Ok(appended)));
        }
        let (tx, rx) = oneshot::channel();
        let sent = self.send(Command::Write(Write::Append { msg, reply: tx }));
        Box::pin(async move {
            sent?;
            rx.await.map_err(|_| Error::Closed)?
        })
    }

    async fn create_room(&self, room: NewRoom) -> Result<RoomRecord> {
        self.write(|reply| Write::CreateRoom { room, reply }).await
    }

    async fn room(&self, name: &str) -> Result<Option<RoomRecord>> {
        let name = name.to_owned();
        self.read(move |c| queries::room(c, &name)).await
    }

    async fn list_rooms(&self, viewer: Option<&str>) -> Result<Vec<RoomRecord>> {
        let viewer = viewer.map(str::to_owned);
        self.read(move |c| queries::list_rooms(c, viewer.as_deref()))
            .await
    }

    async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        query.check()?;
        let room = room.to_owned();
        self.read(move |c| queries::history(c, &room, query)).await
    }

    async fn history_current(
        &self,
        room: &str,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        query.check()?;
        let room = room.to_owned();
        let viewer = viewer.map(str::to_owned);
        self.read(move |c| state::history(c, &room, query, viewer.as_deref()))
            .await
    }

    async fn thread(
        &self,
        room: &str,
        root: u64,
        query: HistoryQuery,
        viewer: Option<&str>,
    ) -> Result<HistoryPage> {
        let room = room.to_owned();
        let viewer = viewer.map(str::to_owned);
        self.read(move |c| state::thread(c, &room, root, query, viewer.as_deref()))
            .await
    }

    async fn last_seq(&self, room: &str) -> Result<u64> {
        let room = room.to_owned();
        self.read(move |c| queries::last_seq(c, &room)).await
    }

    async fn add_member(&self, room: &str, user: &str, role: Role) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::AddMember {
            room,
            user,
            role,
            reply,
        })
        .await
    }

    async fn remove_member(&self, room: &str, user: &str) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::RemoveMember { room, user, reply })
            .await
    }

    async fn member(&self, room: &str, user: &str) -> Result<Option<Member>> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |c| queries::member(c, &room, &user)).await
    }

    async fn members(&self, room: &str) -> Result<Vec<Member>> {
        let room = room.to_owned();
        self.read(move |c| queries::members(c, &room)).await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<Message>> {
        let expression = search::match_expression(&query.text)?;
        let wait = self.inner.config.search_wait;
        // The index follows SQLite: messages still in the message log go there first.
        self.applied().await?;
        if !self.inner.progress.wait_indexed(wait).await {
            tracing::warn!(
                ?wait,
                "sqlite store: the search index lags behind the messages; \
                 answering from what is indexed so far"
            );
        }
        self.read(move |c| state::search(c, &expression, &query))
            .await
    }

    async fn set_read(&self, room: &str, user: &str, seq: u64) -> Result<()> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.write(|reply| Write::SetRead {
            room,
            user,
            seq,
            reply,
        })
        .await
    }

    async fn set_reads(&self, marks: &[ReadMark]) -> Result<()> {
        let marks = marks.to_vec();
        self.write(|reply| Write::SetReads { marks, reply }).await
    }

    async fn read_position(&self, room: &str, user: &str) -> Result<u64> {
        let (room, user) = (room.to_owned(), user.to_owned());
        self.read(move |c| queries::read_position(c, &room, &user))
            .await
    }

    async fn unread(&self, user: &str, rooms: &[String]) -> Result<Vec<chatcore::store::Unread>> {
        let (user, rooms) = (user.to_owned(), rooms.to_vec());
        self.read(move |c| crate::unread::unread(c, &user, &rooms))
            .await
    }

    async fn heads(&self) -> Result<Vec<(String, u64)>> {
        self.read(crate::stream::heads).await
    }

    async fn acquire_lease(&self, group: &str, holder: &str, ttl: Duration) -> Result<Option<u64>> {
        let (group, holder) = (group.to_owned(), holder.to_owned());
        self.write(|reply| Write::Lease {
            group,
            holder,
            ttl,
            reply,
        })
        .await
    }

    async fn cursors(&self, group: &str) -> Result<Vec<(String, u64)>> {
        let group = group.to_owned();
        self.read(move |c| crate::stream::cursors(c, &group)).await
    }

    async fn commit_cursor(&self, group: &str, token: u64, room: &str, seq: u64) -> Result<()> {
        let (group, room) = (group.to_owned(), room.to_owned());
        self.write(|reply| Write::CommitCursor {
            group,
            token,
            room,
            seq,
            reply,
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        let closed = self.inner.closed.load(Ordering::Acquire);
        if !closed && self.inner.threads.0.iter().any(|t| t.is_finished()) {
            return Err(Error::store("the sqlite writer thread stopped"));
        }
        if self.readers_alive() == 0 {
            return Err(Error::store("no sqlite reader thread is running"));
        }
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(Error::store)
        })
        .await
    }

    async fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        let (tx, rx) = oneshot::channel();
        if self.inner.writer.send(Command::Close(tx)).is_err() {
            return Ok(()); // already stopped
        }
        // An error means the writer stopped for an earlier close before reaching this one;
        // either way everything queued before is committed and the connection is closed.
        let _ = rx.await;
        Ok(())
    }
}
