//! `edit`, `delete`, `react` and `thread`: changes to earlier messages, and a thread's
//! replies.

use chatcore_client::{Ack, Auth};

use crate::args::Cli;
use crate::connect::{needs_identity, with_client};
use crate::failure::Outcome;
use crate::output::{print_json, print_line, print_message};

/// A change to message `seq` of `room`.
pub(crate) enum Change {
    Edit(String),
    Delete,
    React(String),
    Unreact(String),
}

/// Joins `room`, applies the change, prints its ack.
pub(crate) async fn change(cli: &Cli, auth: Auth, room: &str, seq: u64, change: Change) -> Outcome {
    needs_identity(&auth, "changing a message")?;
    let room = room.to_owned();
    let ack: Ack = with_client(cli, auth, |c, _| async move {
        c.join(room.as_str()).await?;
        match change {
            Change::Edit(text) => c.edit(room, seq, text).await,
            Change::Delete => c.delete(room, seq).await,
            Change::React(emoji) => c.react(room, seq, emoji).await,
            Change::Unreact(emoji) => c.unreact(room, seq, emoji).await,
        }
    })
    .await?;
    if cli.json {
        print_json(&ack)
    } else {
        print_line(&format!(
            "changed #{seq} in {} (event #{})",
            ack.room, ack.seq
        ))
    }
}

/// Prints a page of the replies to `root`.
pub(crate) async fn thread(
    cli: &Cli,
    auth: Auth,
    room: &str,
    root: u64,
    after: Option<u64>,
    limit: Option<u32>,
) -> Outcome {
    needs_identity(&auth, "thread")?;
    let room = room.to_owned();
    let page = with_client(cli, auth, |c, _| async move {
        c.thread(room, root, after, limit).await
    })
    .await?;
    page.messages
        .iter()
        .try_for_each(|m| print_message(cli.json, m))
}
