//! The everyday commands: joining and leaving rooms, sending messages and direct messages,
//! typing, history, the room list and presence, with the checks made before sending.

use chatcore::protocol::{Command, Event, RoomSummary};

use super::Client;
use super::replies::{ack, joined, unexpected};
use super::state::JoinMode;
use crate::error::{Error, Result};
use crate::types::{Ack, HistoryPage, HistoryQuery, Joined, OutgoingMessage, new_nonce};

impl Client {
    /// Joins `room` (a public room is created when missing). The reply carries recent history;
    /// the event stream yields every later message of the room. Joining a room already
    /// joined fails with [`ErrorCode::Invalid`](crate::ErrorCode::Invalid).
    pub async fn join(&self, room: impl Into<String>) -> Result<Joined> {
        let command = Command::Join {
            room: room.into(),
            resume_after: None,
        };
        let reply = self.call(command, Some(JoinMode::Fresh)).await?;
        joined(reply)
    }

    /// Joins `room` and yields on the event stream every message with a seq above `seq`
    /// (paging through history when there are many), then live ones: no gap, no duplicate.
    /// The reply's `history` is empty.
    pub async fn join_after(&self, room: impl Into<String>, seq: u64) -> Result<Joined> {
        let command = Command::Join {
            room: room.into(),
            resume_after: Some(seq),
        };
        let reply = self.call(command, Some(JoinMode::After(seq))).await?;
        joined(reply)
    }

    /// Leaves `room`: its messages stop, and the durable membership ends.
    pub async fn leave(&self, room: impl Into<String>) -> Result<()> {
        match self
            .call(Command::Leave { room: room.into() }, None)
            .await?
        {
            Event::Left { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends a text message to a joined room, with a fresh nonce. Resolves once the server
    /// stored it.
    pub async fn send(&self, room: impl Into<String>, text: impl Into<String>) -> Result<Ack> {
        self.send_message(OutgoingMessage::new(room, text)).await
    }

    /// Sends a message with options (nonce, emote, reply-to). Resolves once the server stored
    /// it; with a nonce used before, resolves with the original's ack (`duplicate: true`).
    pub async fn send_message(&self, message: OutgoingMessage) -> Result<Ack> {
        self.check_text(&message.text)?;
        check_nonce(&message.nonce)?;
        let OutgoingMessage {
            room,
            text,
            nonce,
            kind,
            reply_to,
            data,
        } = message;
        let command = Command::Send {
            room,
            text,
            nonce: Some(nonce.clone()),
            kind,
            reply_to,
            data,
        };
        ack(self.call(command, None).await?, nonce)
    }

    /// Sends a direct message to user `to` (in the room `dm:<a>:<b>`, which the server joins
    /// this client to: a [`ClientEvent::Joined`](crate::ClientEvent::Joined) announces it).
    pub async fn dm(&self, to: impl Into<String>, text: impl Into<String>) -> Result<Ack> {
        let text = text.into();
        self.check_text(&text)?;
        let nonce = new_nonce();
        let command = Command::Dm {
            to: to.into(),
            text,
            nonce: Some(nonce.clone()),
        };
        ack(self.call(command, None).await?, nonce)
    }

    /// Starts (`on`) or stops the typing indicator in a joined room. Fire and forget: there is
    /// no reply, and nothing is sent while disconnected.
    pub fn typing(&self, room: impl Into<String>, on: bool) -> Result<()> {
        self.shared().lock().fire(Command::Typing {
            room: room.into(),
            on,
        })
    }

    /// A page of a room's history (public rooms, or rooms the user is a member of; joining is
    /// not required).
    pub async fn history(
        &self,
        room: impl Into<String>,
        query: HistoryQuery,
    ) -> Result<HistoryPage> {
        let command = Command::History {
            room: room.into(),
            before: query.before,
            after: query.after,
            limit: query.limit,
        };
        match self.call(command, None).await? {
            Event::History {
                room,
                messages,
                has_more,
                current_to,
                ..
            } => Ok(HistoryPage {
                room,
                messages,
                has_more,
                current_to: current_to.unwrap_or(0),
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// Public rooms and the user's private and direct rooms, sorted by name.
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>> {
        match self.call(Command::Rooms {}, None).await? {
            Event::Rooms { rooms, .. } => Ok(rooms),
            other => Err(unexpected(&other)),
        }
    }

    /// Users online in a room, sorted.
    pub async fn who(&self, room: impl Into<String>) -> Result<Vec<String>> {
        match self.call(Command::Who { room: room.into() }, None).await? {
            Event::Presence { online, .. } => Ok(online),
            other => Err(unexpected(&other)),
        }
    }

    /// Refuses blank text and text over the server's limit before sending.
    pub(super) fn check_text(&self, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Error::Invalid("the message text is blank".into()));
        }
        let limit = self.shared().lock().max_text_bytes;
        if text.len() > limit {
            return Err(Error::Invalid(format!(
                "the message text has {} bytes; the server accepts at most {limit}",
                text.len()
            )));
        }
        Ok(())
    }
}

fn check_nonce(nonce: &str) -> Result<()> {
    if nonce.is_empty() || nonce.len() > 128 {
        return Err(Error::Invalid("a nonce must have 1 to 128 bytes".into()));
    }
    Ok(())
}
