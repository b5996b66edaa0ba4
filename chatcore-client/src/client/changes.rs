//! Changes to earlier messages (`edit`, `delete`, `react`, `unreact`) and thread pages.

use chatcore::protocol::{Command, Event};

use super::Client;
use super::replies::{ack, unexpected};
use crate::error::Result;
use crate::types::{Ack, HistoryPage};

impl Client {
    /// Replaces the text of one's own message `target` in a joined room. Resolves with the
    /// ack of the `edit` event once stored (its `nonce` is empty: changes carry none).
    pub async fn edit(
        &self,
        room: impl Into<String>,
        target: u64,
        text: impl Into<String>,
    ) -> Result<Ack> {
        let text = text.into();
        self.check_text(&text)?;
        let command = Command::Edit {
            room: room.into(),
            target,
            text,
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Deletes message `target` (one's own, or any as a moderator) in a joined room.
    pub async fn delete(&self, room: impl Into<String>, target: u64) -> Result<Ack> {
        let command = Command::Delete {
            room: room.into(),
            target,
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Adds a reaction with `emoji` to message `target` in a joined room.
    pub async fn react(
        &self,
        room: impl Into<String>,
        target: u64,
        emoji: impl Into<String>,
    ) -> Result<Ack> {
        let command = Command::React {
            room: room.into(),
            target,
            emoji: emoji.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// Removes one's reaction with `emoji` from message `target` in a joined room.
    pub async fn unreact(
        &self,
        room: impl Into<String>,
        target: u64,
        emoji: impl Into<String>,
    ) -> Result<Ack> {
        let command = Command::Unreact {
            room: room.into(),
            target,
            emoji: emoji.into(),
        };
        ack(self.call(command, None).await?, String::new())
    }

    /// A page of the replies to message `root`, oldest first, after seq `after` (from the
    /// first reply when `None`), with current state.
    pub async fn thread(
        &self,
        room: impl Into<String>,
        root: u64,
        after: Option<u64>,
        limit: Option<u32>,
    ) -> Result<HistoryPage> {
        let command = Command::Thread {
            room: room.into(),
            root,
            after,
            limit,
        };
        match self.call(command, None).await? {
            Event::Thread {
                room,
                messages,
                has_more,
                current_to,
                ..
            } => Ok(HistoryPage {
                room,
                messages,
                has_more,
                current_to,
            }),
            other => Err(unexpected(&other)),
        }
    }
}
