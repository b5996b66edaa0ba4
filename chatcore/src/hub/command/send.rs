//! `send`: validate, append, and — once the store committed — ack the sender, tell the other
//! nodes and deliver to the room.

use std::sync::Arc;

use futures::FutureExt;

use crate::bus::BusEvent;
use crate::hub::core::Core;
use crate::hub::room::Room;
use crate::hub::session::state::SessionState;
use crate::hub::stats::Stats;
use crate::policy::Draft;
use crate::protocol::{Data, Event, MessageKind, RequestId, check_data, dispose_data};
use crate::store::{Appended, NewMessage};
use crate::{Error, ErrorCode, Result};

/// What a client asked to post.
#[derive(Debug)]
pub(crate) struct Post {
    pub(crate) text: String,
    pub(crate) nonce: Option<String>,
    pub(crate) kind: MessageKind,
    pub(crate) reply_to: Option<u64>,
    pub(crate) data: Option<Data>,
    /// Members the text mentions (see `mention.rs`), resolved after the policy's rewrite.
    pub(crate) mentions: Vec<String>,
}

impl Post {
    /// The part a policy may rewrite, taken out of the post.
    pub(super) fn take_draft(&mut self) -> Draft {
        let mut draft = Draft::text(std::mem::take(&mut self.text));
        draft.kind = std::mem::take(&mut self.kind);
        draft.reply_to = self.reply_to;
        draft.data = self.data.take();
        draft
    }

    /// Puts a (possibly rewritten) draft back.
    pub(super) fn put_draft(&mut self, draft: Draft) {
        self.text = draft.text;
        self.kind = draft.kind;
        self.reply_to = draft.reply_to;
        self.data = draft.data;
    }

    /// Drops the post without recursion (a host may have built its data 10,000 levels
    /// deep; see [`check_data`]).
    pub(crate) fn dispose(mut self) {
        if let Some(data) = self.data.take() {
            dispose_data(data);
        }
    }

    /// Refuses what the hub's limits do not allow, before anything is stored.
    pub(super) fn check(&self, core: &Core) -> Result<()> {
        let limits = &core.limits;
        if self.text.trim().is_empty() {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if self.text.len() > limits.max_text_bytes {
            return Err(Error::TooLarge {
                what: "text",
                size: self.text.len(),
                limit: limits.max_text_bytes,
            });
        }
        if let Some(n) = &self.nonce {
            if n.is_empty() || n.len() > limits.max_nonce_bytes {
                return Err(Error::invalid(
                    "nonce",
                    format!("must be 1 to {} bytes", limits.max_nonce_bytes),
                ));
            }
        }
        if self.kind == MessageKind::Unknown {
            return Err(Error::invalid(
                "kind",
                "unknown message kind (an application's own kind needs a namespace, as `shop.order`)",
            ));
        }
        if let Some(data) = &self.data {
            check_data(data, limits.max_data_bytes)?;
        }
        if self.kind.is_reserved() {
            return Err(Error::invalid(
                "kind",
                "change and moderation events are made by the server, never sent",
            ));
        }
        Ok(())
    }
}

/// Queues `message` (a send's, or a change event) for the store; once committed it is
/// delivered, its mentions are notified, and the sender gets the ack. When the store has
/// it durable already (a SQLite store logged it on this thread, the memory store) and no
/// earlier append to the room waits on its task, that happens here and now; otherwise on a
/// task of its own, so the session keeps reading while appends still commit in the order
/// queued.
pub(super) fn commit(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    room: Arc<Room>,
    id: Option<RequestId>,
    message: NewMessage,
) {
    let mut pending = core.store.append(message);
    if !room.appends_waiting() {
        if let Some(result) = (&mut pending).now_or_never() {
            finish(core, s, &room, id, result);
            return;
        }
    }
    room.append_waits();
    let tasks = core.in_flight.clone();
    let (core, s) = (Arc::clone(core), Arc::clone(s));
    tasks.spawn(async move {
        let result = pending.await;
        finish(&core, &s, &room, id, result);
        room.append_done();
    });
}

/// Acks, notifies and delivers an append the store answered, or tells the sender why not.
fn finish(
    core: &Core,
    s: &SessionState,
    room: &Arc<Room>,
    id: Option<RequestId>,
    result: Result<Appended>,
) {
    match result {
        Ok(appended) => {
            let m = &appended.message;
            let ack = Event::Ack {
                id,
                room: m.room.clone(),
                seq: m.seq,
                msg_id: m.id.clone(),
                ts: m.ts,
                duplicate: appended.duplicate,
            };
            if appended.duplicate {
                s.queue.send(ack);
                return;
            }
            super::mention::notify(core, &appended.message);
            // The sender's own copy and the ack go out ahead of the room, not behind it
            // (see `wake_first`): its client sends its next message when the ack comes. In
            // a room whose frames are corked (a small one, or a quiet one on a one-worker
            // runtime: `RoomState::message_corked`) they are written now, before the reader
            // handles its next request, and the members' frames wait for the end of the
            // reader's turn to go out together; otherwise the sender's write pump is woken
            // first, as the members' are by their own pumps.
            let corked = room.corks();
            s.queue.wake_first(corked);
            deliver(core, room, appended.message);
            s.queue.send_with(ack, corked);
            if corked {
                s.queue.flush_corked();
            }
        }
        Err(e) => {
            // A change the store refused (deleted target, another's message, …) is the
            // client's mistake, answered to it; only the store's own failure is ours.
            let code = e.code();
            if matches!(code, ErrorCode::Internal | ErrorCode::Unavailable) {
                tracing::warn!(room = %room.name, error = %e, "append failed");
            } else {
                tracing::debug!(room = %room.name, error = %e, "append refused");
            }
            s.queue.send(Event::error(id, code, e.to_string()));
        }
    }
}

/// A message committed on this node: count it, tell the other nodes, deliver it to the room's
/// members here.
pub(super) fn deliver(core: &Core, room: &Arc<Room>, message: crate::protocol::Message) {
    Stats::bump(&core.stats.messages_in);
    core.bus.publish(BusEvent::Message(message.clone()));
    room.on_local_commit(message);
    core.wake.committed();
}

/// Asks the host's policy, if there is one, whether the session may post this to `room`; it
/// may rewrite the post, which [`send`] then checks against the limits again. Without a
/// policy this returns at once.
pub(crate) async fn screen(
    core: &Core,
    s: &SessionState,
    room: &str,
    post: &mut Post,
) -> Result<()> {
    let Some(policy) = &core.policy else {
        return Ok(());
    };
    post.check(core)?;
    let mut draft = post.take_draft();
    let verdict = policy.send(&s.identity, room, &mut draft).await;
    post.put_draft(draft);
    verdict
}

/// Validates and queues a message in a joined room; the ack follows the commit on a task of
/// its own so the session can keep reading (sends pipeline, and still commit in the order
/// sent).
pub(crate) fn send(
    core: &Arc<Core>,
    s: &Arc<SessionState>,
    room: Arc<Room>,
    id: Option<RequestId>,
    post: Post,
) -> Result<()> {
    post.check(core)?;
    let message = NewMessage {
        room: room.name.clone(),
        id: ulid::Ulid::generate().to_string(),
        sender: s.user().to_owned(),
        kind: post.kind,
        text: post.text,
        ts: crate::clock::now_millis(),
        nonce: post.nonce,
        reply_to: post.reply_to,
        data: post.data,
        mentions: post.mentions,
        ..Default::default()
    };
    commit(core, s, room, id, message);
    Ok(())
}
