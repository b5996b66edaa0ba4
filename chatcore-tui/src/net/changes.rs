//! Changes to messages as client calls: edit, delete, react/unreact, a thread's replies,
//! and read positions. Each runs in a task of its own; a refusal reaches the notice line in
//! the server's words. The changes themselves come back as room events, like any message.

use chatcore_client::Client;
use tokio::sync::mpsc::UnboundedSender;

use super::account::server_words;
use crate::app::{Action, NetCmd};

/// Replies asked for per thread view.
const THREAD_PAGE: u32 = 100;

/// Runs one change command; other commands are not this module's and are ignored.
pub(super) fn exec_change(cmd: NetCmd, client: &Client, tx: &UnboundedSender<Action>) {
    let (client, tx) = (client.clone(), tx.clone());
    tokio::spawn(async move {
        let failed = match cmd {
            NetCmd::Edit { room, seq, text } => client.edit(room, seq, text).await.err(),
            NetCmd::Delete { room, seq } => client.delete(room, seq).await.err(),
            NetCmd::React {
                room,
                seq,
                emoji,
                on: true,
            } => client.react(room, seq, emoji).await.err(),
            NetCmd::React {
                room, seq, emoji, ..
            } => client.unreact(room, seq, emoji).await.err(),
            NetCmd::Thread { room, root } => {
                match client.thread(room, root, None, Some(THREAD_PAGE)).await {
                    Ok(page) => {
                        let _ = tx.send(Action::ThreadPage {
                            room: page.room,
                            messages: page.messages,
                            current_to: page.current_to,
                        });
                        None
                    }
                    Err(e) => Some(e),
                }
            }
            NetCmd::Read { room, seq } => {
                // A badge that stays is the only harm of a lost read: no notice for it, and
                // no answer asked for (the view cleared its own badge).
                let _ = client.mark_read(room, seq);
                None
            }
            _ => None,
        };
        if let Some(e) = failed {
            let _ = tx.send(Action::Error(server_words(&e)));
        }
    });
}
