//! `read`, `search` and `users`: read positions and finding messages and people.

use chatcore_client::{Auth, SearchHit};
use clap::Subcommand;

use crate::args::Cli;
use crate::connect::{needs_identity, with_client};
use crate::failure::Outcome;
use crate::output::{print_json, print_line, printable};

/// The commands of this family.
#[derive(Debug, Subcommand)]
pub(crate) enum FindCmd {
    /// Mark a room read up to SEQ (positions never move backwards; your other sessions
    /// clear their unread badge). Prints the position now stored.
    Read {
        /// Room name.
        room: String,
        /// The newest seq you have seen.
        seq: u64,
    },
    /// Search the messages you may read, newest first; every word must match. The matched
    /// words are shown between `[` and `]`; `--json` gives each hit's byte ranges.
    Search {
        /// Words to find.
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
        /// Only this room.
        #[arg(long, value_name = "ROOM")]
        room: Option<String>,
        /// The `next` cursor of the previous page.
        #[arg(long, value_name = "CURSOR")]
        before: Option<String>,
        /// Page size (default 20, at most 100).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: Option<u32>,
    },
    /// List users whose name starts with PREFIX (members of rooms you may see).
    Users {
        /// Name prefix.
        prefix: String,
    },
}

/// Runs one command of this family.
pub(crate) async fn run(cli: &Cli, auth: Auth, cmd: &FindCmd) -> Outcome {
    needs_identity(&auth, "this command")?;
    match cmd {
        FindCmd::Read { room, seq } => {
            let (name, seq) = (room.clone(), *seq);
            let stored =
                with_client(cli, auth, |c, _| async move { c.read(name, seq).await }).await?;
            if cli.json {
                return print_json(&serde_json::json!({"room": room, "seq": stored}));
            }
            print_line(&format!("{room} read up to #{stored}"))
        }
        FindCmd::Search {
            words,
            room,
            before,
            limit,
        } => {
            let (q, room, before, limit) = (words.join(" "), room.clone(), before.clone(), *limit);
            let page = with_client(cli, auth, |c, _| async move {
                c.search(q, room, before, limit).await
            })
            .await?;
            if cli.json {
                page.hits.iter().try_for_each(print_json)?;
                return print_json(&serde_json::json!({"next": page.next}));
            }
            page.hits
                .iter()
                .try_for_each(|h| print_line(&hit_line(h)))?;
            match page.next {
                Some(next) => print_line(&format!("more: --before {next}")),
                None => Ok(()),
            }
        }
        FindCmd::Users { prefix } => {
            let prefix = prefix.clone();
            let users = with_client(
                cli,
                auth,
                |c, _| async move { c.lookup_users(prefix).await },
            )
            .await?;
            if cli.json {
                return print_json(&users);
            }
            users.iter().try_for_each(|u| print_line(u))
        }
    }
}

/// `room #seq sender: text` with each highlighted range between `[` and `]`.
fn hit_line(hit: &SearchHit) -> String {
    let m = &hit.message;
    let text = &m.text;
    let mut marked = String::with_capacity(text.len() + 8);
    let mut at = 0;
    for &[start, end] in &hit.highlights {
        // Ranges come from the server: take only those that cut the text at boundaries.
        let (Some(before), Some(word)) = (text.get(at..start), text.get(start..end)) else {
            continue;
        };
        marked.push_str(before);
        marked.push('[');
        marked.push_str(word);
        marked.push(']');
        at = end;
    }
    marked.push_str(text.get(at..).unwrap_or_default());
    format!(
        "{} #{} {}: {}",
        printable(&m.room),
        m.seq,
        printable(&m.sender),
        printable(&marked)
    )
}

#[cfg(test)]
mod tests {
    use chatcore_client::Message;

    use super::*;

    fn hit(text: &str, highlights: Vec<[usize; 2]>) -> SearchHit {
        SearchHit {
            message: Message {
                room: "general".into(),
                seq: 7,
                sender: "ann".into(),
                text: text.into(),
                ..Message::default()
            },
            highlights,
        }
    }

    #[test]
    fn hits_mark_the_matched_words_and_skip_bad_ranges() {
        let h = hit("the launch plan", vec![[4, 10], [11, 15]]);
        assert_eq!(hit_line(&h), "general #7 ann: the [launch] [plan]");
        // Out of range, overlapping and mid-character ranges are ignored, never a panic.
        let h = hit("café au lait", vec![[4, 5], [2, 1], [0, 99]]);
        assert_eq!(hit_line(&h), "general #7 ann: café au lait");
    }
}
