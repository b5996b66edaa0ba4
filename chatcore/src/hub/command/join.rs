//! `join` and `leave`, and the resume seam every way into a room goes through ([`attach`]).

use std::collections::HashMap;
use std::sync::Arc;

use crate::hub::core::Core;
use crate::hub::room::{Room, Snapshot};
use crate::hub::session::state::SessionState;
use crate::protocol::{Event, RequestId, RoomKind};
use crate::store::{Admission, HistoryQuery, NewRoom, Restriction};
use crate::{Error, Result, names};

/// `join`: checks who may, creates a public room on first use, records the membership, then
/// attaches. Everything that can refuse the join is checked before anything is written; the
/// ban and the invitation are checked again by the store in the step that writes the
/// membership ([`RoomAuthority::admit`](crate::store::RoomAuthority::admit)), so a ban that
/// lands meanwhile is never outrun.
pub(crate) async fn join(
    core: &Core,
    s: &Arc<SessionState>,
    name: &str,
    resume_after: Option<u64>,
    id: Option<RequestId>,
) -> Result<()> {
    check_room_slot(core, &s.joined(), name)?;
    let room = if let Some((a, b)) = names::dm_members(name) {
        if s.user() != a && s.user() != b {
            return Err(Error::Forbidden(format!(
                "{name} is someone else's conversation"
            )));
        }
        if let Some(policy) = &core.policy {
            policy.join(&s.identity, name).await?;
        }
        core.load_room(name, None).await?
    } else {
        names::validate_room(name)?;
        if core.loaded(name).is_none() {
            // A refused join must not load the room.
            super::restrict::refuse_banned(core, name, s.user()).await?;
            refuse_private_before_loading(core, s.user(), name).await?;
        }
        if let Some(policy) = &core.policy {
            if core.loaded(name).is_none() && core.store.room(name).await?.is_none() {
                policy
                    .create_room(&s.identity, name, RoomKind::Public)
                    .await?;
            }
            policy.join(&s.identity, name).await?;
        }
        let create = NewRoom {
            name: name.to_owned(),
            kind: RoomKind::Public,
            creator: s.user().to_owned(),
            created: crate::clock::now_millis(),
        };
        core.load_room(name, Some(create)).await?
    };
    if room.kind == RoomKind::Direct {
        return attach(core, s, &room, resume_after, id).await;
    }
    // Counted before the membership is written: a kick or ban after it shows at attach.
    let removals = room.removals();
    let invite_only = room.kind == RoomKind::Private;
    let now = crate::clock::now_millis();
    match core.store.admit(name, s.user(), invite_only, now).await? {
        Admission::Member => {}
        Admission::Banned(ban) => return Err(super::restrict::banned(name, &ban, now)),
        Admission::Uninvited => {
            return Err(Error::Forbidden(format!("{name} is invite-only")));
        }
    }
    let joining = Joining {
        resume_after,
        id,
        removals: Some(removals),
    };
    attach_as(core, s, &room, joining).await
}

/// Refuses a join of a stored private room `user` is no member of, before the room is loaded:
/// a refused join must not leave a room in memory.
async fn refuse_private_before_loading(core: &Core, user: &str, name: &str) -> Result<()> {
    let private = core
        .store
        .room(name)
        .await?
        .is_some_and(|r| r.kind == RoomKind::Private);
    if private
        && core.store.member(name, user).await?.is_none()
        && !core.store.invited(name, user).await?
    {
        return Err(Error::Forbidden(format!("{name} is invite-only")));
    }
    Ok(())
}

/// Refuses a join the session has no room for (already joined, or at its limit).
fn check_room_slot(core: &Core, joined: &HashMap<String, Arc<Room>>, name: &str) -> Result<()> {
    if joined.contains_key(name) {
        return Err(Error::invalid("room", format!("already joined {name}")));
    }
    let max = core.limits.max_rooms_per_session;
    if joined.len() >= max {
        return Err(Error::invalid(
            "room",
            format!("a session may join at most {max} rooms"),
        ));
    }
    Ok(())
}

/// Makes the session a live member and queues its `joined` frame: a snapshot taken under
/// the room lock splits stored history (up to `last_seq`) from live delivery (after it),
/// so the seam has no gap and no duplicate.
pub(crate) async fn attach(
    core: &Core,
    s: &Arc<SessionState>,
    room: &Arc<Room>,
    resume_after: Option<u64>,
    id: Option<RequestId>,
) -> Result<()> {
    let joining = Joining {
        resume_after,
        id,
        removals: None,
    };
    attach_as(core, s, room, joining).await
}

/// How a session comes to attach.
struct Joining {
    /// Resume after this seq (history since), or `None` for the latest page.
    resume_after: Option<u64>,
    /// The request to answer.
    id: Option<RequestId>,
    /// The room's removal count before the membership was written (see `register`).
    removals: Option<u64>,
}

/// [`attach`], for a join whose membership was written when the room had seen
/// `joining.removals` removals: if a removal happened since, the session registers only if
/// its membership still stands (a kick or ban ended it otherwise).
async fn attach_as(
    core: &Core,
    s: &Arc<SessionState>,
    room: &Arc<Room>,
    joining: Joining,
) -> Result<()> {
    let Joining {
        resume_after,
        id,
        removals,
    } = joining;
    {
        let mut joined = s.joined();
        check_room_slot(core, &joined, &room.name)?;
        joined.insert(room.name.clone(), Arc::clone(room));
    }
    let registered = {
        let mut subscribed = room.subscription.lock().await;
        if !*subscribed {
            // Mutes are read after `last_seq`: while unsubscribed the room skipped events,
            // and any after `last_seq` arrive live and are applied again.
            let ready = async {
                core.bus.subscribe(&room.name).await?;
                let state = stored_state(core, &room.name).await;
                if state.is_err() {
                    // Not marked subscribed: nothing else would give the subscription back.
                    if let Err(e) = core.bus.unsubscribe(&room.name).await {
                        tracing::warn!(room = %room.name, error = %e, "bus unsubscribe failed");
                    }
                }
                state
            };
            match ready.await {
                Ok((last, mutes)) => {
                    *subscribed = true;
                    room.fast_forward(last);
                    room.reload_mutes(mutes);
                }
                Err(e) => {
                    s.joined().remove(&room.name);
                    return Err(e);
                }
            }
        }
        register(core, s, room, removals).await
    };
    let snapshot = match registered {
        Ok(snapshot) => snapshot,
        Err(e) => {
            s.joined().remove(&room.name);
            maybe_unsubscribe(core, room).await;
            return Err(e);
        }
    };
    if snapshot.came_online {
        core.publish_presence(&room.name, s.user(), true);
    }
    let limits = &core.limits;
    let last = snapshot.last_seq;
    let query = match resume_after {
        Some(seen) if seen >= last => None,
        Some(seen) => Some(HistoryQuery {
            after: Some(seen),
            before: Some(last + 1),
            limit: limits.resume_limit,
        }),
        None => Some(HistoryQuery {
            after: None,
            before: Some(last + 1),
            limit: limits.history_on_join,
        }),
    };
    let (history, complete, current_to) = match query {
        None => (Vec::new(), true, last),
        Some(q) => match core
            .store
            .history_current(&room.name, q, Some(s.user()))
            .await
        {
            Ok(page) => (
                page.messages,
                resume_after.is_none() || !page.has_more,
                page.current_to,
            ),
            Err(e) => {
                s.joined().remove(&room.name);
                detach(core, s, room);
                maybe_unsubscribe(core, room).await;
                return Err(e);
            }
        },
    };
    let (online, count) = room.presence_for_join();
    let joined = Event::Joined {
        id,
        room: room.name.clone(),
        kind: room.kind,
        last_seq: last,
        online,
        history,
        complete,
        current_to: Some(current_to),
    };
    let count = count.map(|online| Event::OnlineCount {
        room: room.name.clone(),
        online: online as u64,
    });
    room.activate(s.id(), joined, count);
    Ok(())
}

/// What a room that was not subscribed needs from the store: its newest seq, then its mutes.
async fn stored_state(core: &Core, room: &str) -> Result<(u64, Vec<Restriction>)> {
    let last = core.store.last_seq(room).await?;
    Ok((last, core.store.mutes(room).await?))
}

/// Registers the session in the room, unless a removal the room counted since `removals`
/// ended the user's membership (then `forbidden`, nothing registered).
async fn register(
    core: &Core,
    s: &SessionState,
    room: &Room,
    mut removals: Option<u64>,
) -> Result<Snapshot> {
    loop {
        if let Some(snapshot) = room.register(Arc::clone(&s.queue), removals) {
            return Ok(snapshot);
        }
        let seen = room.removals();
        if core.store.member(&room.name, s.user()).await?.is_none() {
            return Err(Error::Forbidden(format!(
                "you were removed from {} while joining",
                room.name
            )));
        }
        removals = Some(seen);
    }
}

/// `leave`: ends the live membership and, outside direct rooms, the durable one.
pub(crate) async fn leave(
    core: &Core,
    s: &Arc<SessionState>,
    name: &str,
    id: Option<RequestId>,
) -> Result<()> {
    let room = s.room(name)?;
    if room.kind != RoomKind::Direct {
        core.store.remove_member(name, s.user()).await?;
    }
    s.joined().remove(name);
    detach(core, s, &room);
    maybe_unsubscribe(core, &room).await;
    s.queue.send(Event::Left {
        id,
        room: name.to_owned(),
    });
    Ok(())
}

/// Takes a session out of every room it joined (it ended). Durable memberships stay.
pub(crate) fn detach_all(core: &Arc<Core>, s: &Arc<SessionState>) {
    let rooms: Vec<Arc<Room>> = s.joined().drain().map(|(_, r)| r).collect();
    for room in rooms {
        detach(core, s, &room);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let core = Arc::clone(core);
            rt.spawn(async move { maybe_unsubscribe(&core, &room).await });
        }
    }
}

/// Takes a session out of a room's live members (not out of its joined map).
pub(crate) fn detach(core: &Core, s: &SessionState, room: &Room) {
    if room.deregister(s.id()) == Some(true) {
        core.publish_presence(&room.name, s.user(), false);
    }
}

/// Drops the bus subscription of a room with no local member left.
pub(crate) async fn maybe_unsubscribe(core: &Core, room: &Room) {
    let mut subscribed = room.subscription.lock().await;
    if *subscribed && room.local_members() == 0 {
        match core.bus.unsubscribe(&room.name).await {
            Ok(()) => *subscribed = false,
            Err(e) => tracing::warn!(room = %room.name, error = %e, "bus unsubscribe failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::auth::Credentials;
    use crate::protocol::{Codec, Command, Event, Request};
    use crate::store::{MemoryStore, Store};
    use crate::{ErrorCode, Hub, Limits, Outgoing};

    /// A join refused for the session's room limit creates no room and no membership.
    #[tokio::test]
    async fn a_join_past_the_room_limit_leaves_no_trace() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let limits = Limits::default()
            .with_max_rooms_per_session(1)
            .expect("valid");
        let hub = Hub::builder()
            .shared_store(store.clone())
            .limits(limits)
            .build()
            .await
            .expect("hub");
        let ann = hub
            .authenticate(&Credentials::Guest("ann".into()))
            .await
            .expect("guest");
        let (mut session, mut out) = hub.connect(ann, Codec::Json).expect("session");
        for (id, room) in [(1, "first"), (2, "second")] {
            let join = Command::Join {
                room: room.into(),
                resume_after: None,
            };
            session.handle(Request::new(id, join)).await;
        }
        let mut refused = None;
        while refused.is_none() {
            let next = tokio::time::timeout(Duration::from_secs(5), out.recv()).await;
            let Ok(Outgoing::Frame(frame)) = next else {
                panic!("no answer to the second join")
            };
            if let Event::Error {
                id: Some(2), code, ..
            } = frame.event()
            {
                refused = Some(*code);
            }
        }
        assert_eq!(refused, Some(ErrorCode::Invalid));
        assert!(store.room("second").await.expect("store").is_none());
        assert!(
            store
                .member("second", "ann")
                .await
                .expect("store")
                .is_none()
        );
        assert!(store.member("first", "ann").await.expect("store").is_some());
    }
}
