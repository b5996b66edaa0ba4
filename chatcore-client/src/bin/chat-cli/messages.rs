//! `send` and `tail`: writing messages to a room, and following its messages as they arrive.

use chatcore_client::{Client, ClientEvent, ConnectionState, DisconnectReason, Error, Events};
use tokio::io::AsyncBufReadExt;

use crate::args::Cli;
use crate::failure::{Failure, Outcome};
use crate::output::{print_json, print_line, print_message, stdout_closed};

pub(crate) async fn send(cli: &Cli, client: &Client, room: &str, words: &[String]) -> Outcome {
    client.join(room).await?;
    if words.len() == 1 && words[0] == "-" {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        loop {
            let line = lines
                .next_line()
                .await
                .map_err(|e| Failure::Io(format!("reading standard input: {e}")))?;
            let Some(line) = line else { return Ok(()) };
            if !line.trim().is_empty() {
                send_one(cli, client, room, line).await?;
            }
        }
    }
    send_one(cli, client, room, words.join(" ")).await
}

async fn send_one(cli: &Cli, client: &Client, room: &str, text: String) -> Outcome {
    let ack = client.send(room, text).await?;
    if cli.json {
        print_json(&ack)
    } else {
        print_line(&format!("sent #{} to {}", ack.seq, ack.room))
    }
}

pub(crate) async fn tail(
    cli: &Cli,
    client: &Client,
    mut events: Events,
    room: &str,
    since: Option<u64>,
) -> Outcome {
    match since {
        Some(seq) => client.join_after(room, seq).await?,
        None => client.join(room).await?,
    };
    let stdout_closed = stdout_closed();
    tokio::pin!(stdout_closed);
    let mut lost = false;
    loop {
        let event = tokio::select! {
            () = &mut stdout_closed => return Err(Failure::StdoutClosed),
            event = events.recv() => event,
        };
        match event {
            Some(ClientEvent::Message(m)) if m.room == room => print_message(cli.json, &m)?,
            Some(ClientEvent::State(ConnectionState::Disconnected(reason))) if !lost => {
                lost = true;
                eprintln!("chat-cli: {reason}; reconnecting");
            }
            Some(ClientEvent::State(ConnectionState::Connected(_))) if lost => {
                lost = false;
                eprintln!("chat-cli: reconnected");
            }
            Some(ClientEvent::RejoinFailed { room: r, error }) if r == room => {
                return Err(error.into());
            }
            Some(ClientEvent::State(ConnectionState::Closed(reason))) => {
                return Err(Failure::Client(match reason {
                    DisconnectReason::GaveUp(e) => *e,
                    other => Error::Disconnected(other),
                }));
            }
            None => return Err(Failure::Client(Error::Closed)),
            Some(_) => {}
        }
    }
}
