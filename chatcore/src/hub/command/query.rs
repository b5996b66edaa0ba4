//! Read-only commands (`history`, `who`, `rooms`, `ping`) and the queries behind them, which
//! the REST API reaches through [`Hub`](crate::Hub) too.

use crate::hub::core::Core;
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, RequestId, RoomKind, RoomSummary};
use crate::store::{HistoryPage, HistoryQuery, RoomRecord};
use crate::{Error, Result};

/// `history`: a page of a readable room.
pub(crate) async fn history_command(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
    room: String,
    before: Option<u64>,
    after: Option<u64>,
    limit: Option<u32>,
) -> Result<()> {
    let query = HistoryQuery {
        before,
        after,
        limit: limit.unwrap_or(core.limits.history_on_join),
    };
    let page = history(core, &room, Some(s.user()), query).await?;
    s.queue.send(Event::History {
        id,
        room,
        messages: page.messages,
        has_more: page.has_more,
        current_to: Some(page.current_to),
    });
    Ok(())
}

/// `who`: users online in a readable room.
pub(crate) async fn who_command(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
    room: String,
) -> Result<()> {
    let online = online(core, &room, Some(s.user())).await?;
    s.queue.send(Event::Presence { id, room, online });
    Ok(())
}

/// `rooms`: the rooms the user may see.
pub(crate) async fn rooms_command(
    core: &Core,
    s: &SessionState,
    id: Option<RequestId>,
) -> Result<()> {
    let rooms = list_rooms(core, Some(s.user())).await?;
    s.queue.send(Event::Rooms { id, rooms });
    Ok(())
}

/// Rooms visible to `viewer` (public rooms for anonymous callers), with online counts.
pub(crate) async fn list_rooms(core: &Core, viewer: Option<&str>) -> Result<Vec<RoomSummary>> {
    let records = core.store.list_rooms(viewer).await?;
    let mut rooms: Vec<RoomSummary> = records.into_iter().map(|r| summary(core, r)).collect();
    if let Some(user) = viewer {
        let names: Vec<String> = rooms.iter().map(|r| r.name.clone()).collect();
        // Badges count from the stored positions: store the user's moves made so far first.
        core.reads.flush_user(&*core.store, user).await;
        let counts = core.store.unread(user, &names).await?;
        for (room, counts) in rooms.iter_mut().zip(counts) {
            room.unread = counts.unread;
            room.mentions = counts.mentions;
        }
    }
    Ok(rooms)
}

/// One room's summary, if `viewer` may see it.
pub(crate) async fn room_info(
    core: &Core,
    room: &str,
    viewer: Option<&str>,
) -> Result<RoomSummary> {
    let record = readable(core, room, viewer).await?;
    let mut info = summary(core, record);
    if let Some(user) = viewer {
        core.reads.flush_user(&*core.store, user).await;
        if let Some(counts) = core.store.unread(user, &[info.name.clone()]).await?.pop() {
            info.unread = counts.unread;
            info.mentions = counts.mentions;
        }
    }
    Ok(info)
}

/// A history page with current state (reactions marked for `viewer`), if `viewer` may
/// read the room. The limit is clamped to the hub's
/// `max_history_page`.
pub(crate) async fn history(
    core: &Core,
    room: &str,
    viewer: Option<&str>,
    mut query: HistoryQuery,
) -> Result<HistoryPage> {
    query.check()?;
    readable(core, room, viewer).await?;
    query.limit = query.limit.min(core.limits.max_history_page);
    core.store.history_current(room, query, viewer).await
}

/// Users online in a room (on any node), if `viewer` may read it.
pub(crate) async fn online(core: &Core, room: &str, viewer: Option<&str>) -> Result<Vec<String>> {
    readable(core, room, viewer).await?;
    Ok(core.loaded(room).map(|r| r.online()).unwrap_or_default())
}

fn summary(core: &Core, r: RoomRecord) -> RoomSummary {
    let online = core.loaded(&r.name).map_or(0, |room| room.online_count()) as u64;
    RoomSummary {
        name: r.name,
        kind: r.kind,
        topic: r.topic,
        description: r.description,
        invited: r.invited,
        members: r.members,
        online,
        last_seq: r.last_seq,
        unread: 0,
        mentions: 0,
    }
}

/// The room's record if `viewer` may read it: public rooms for everyone, others for durable
/// members only. An unknown room is `UnknownRoom`; an existing room the viewer may not read
/// is `Forbidden` (direct-message room names are predictable anyway, so hiding their
/// existence would protect nothing).
pub(crate) async fn readable(core: &Core, room: &str, viewer: Option<&str>) -> Result<RoomRecord> {
    let record = core
        .store
        .room(room)
        .await?
        .ok_or_else(|| Error::UnknownRoom(room.to_owned()))?;
    if record.kind == RoomKind::Public {
        return Ok(record);
    }
    match viewer {
        Some(user) if core.store.member(room, user).await?.is_some() => Ok(record),
        _ => Err(Error::Forbidden(format!(
            "room {room} is not readable for you"
        ))),
    }
}
