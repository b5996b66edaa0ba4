//! `search` and `lookup`: full-text search over the messages the caller may read, and rooms
//! or users by name prefix. The REST API reaches the same functions through
//! [`Hub`](crate::Hub).
//!
//! Search rules (also in `PROTOCOL.md`, "Search"): a word is a run of alphanumeric
//! characters compared lowercased, a hit has every word of the query; results are newest
//! first (by time, then seq, then room name), paged by the opaque `next` cursor. A query
//! longer than [`MAX_QUERY_BYTES`], with a control character, with no word or more than
//! [`MAX_QUERY_WORDS`] words is `bad_query`; FTS syntax (`"`, `*`, `NEAR`, `OR`, `:`…) is
//! never interpreted, only split into words. Access: a room the caller may not read is
//! `forbidden` when named, and never contributes a hit otherwise.

use std::collections::HashSet;

use super::query::{list_rooms, readable};
use crate::hub::core::Core;
use crate::protocol::{LookupKind, Message, RoomSummary, SearchHit};
use crate::store::{MAX_PAGE, SearchQuery};
use crate::{Error, Result};

/// Longest accepted query, in bytes.
pub(crate) const MAX_QUERY_BYTES: usize = 512;
/// Most words in one query.
pub(crate) const MAX_QUERY_WORDS: usize = 16;
/// Page size when the client gives none.
pub(crate) const DEFAULT_LIMIT: u32 = 20;
/// Largest page.
pub(crate) const MAX_LIMIT: u32 = 100;
/// Most rooms or users a `lookup` returns.
pub(crate) const MAX_LOOKUP: usize = 50;
/// Longest lookup prefix, in bytes.
pub(crate) const MAX_PREFIX_BYTES: usize = 64;
/// Most rooms whose members a user lookup reads.
const MAX_LOOKUP_ROOMS: usize = 200;

/// A search's answer: hits newest first, and the cursor of the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPage {
    /// Matching messages with highlights, newest first.
    pub hits: Vec<SearchHit>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// The words of a query, lowercased and distinct, or `bad_query`.
pub(crate) fn query_words(q: &str) -> Result<Vec<String>> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(Error::BadQuery(format!(
            "query is {} bytes, at most {MAX_QUERY_BYTES} allowed",
            q.len()
        )));
    }
    if q.chars().any(char::is_control) {
        return Err(Error::BadQuery(
            "query must not contain control characters".into(),
        ));
    }
    let mut words: Vec<String> = Vec::new();
    for w in q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = w.to_lowercase();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    match words.len() {
        0 => Err(Error::BadQuery("no words to search for".into())),
        n if n > MAX_QUERY_WORDS => Err(Error::BadQuery(format!(
            "{n} words, at most {MAX_QUERY_WORDS} allowed"
        ))),
        _ => Ok(words),
    }
}

/// Byte ranges of `text` holding one of `words` (by the same word rules).
pub(crate) fn highlights(text: &str, words: &[String]) -> Vec<[usize; 2]> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_alphanumeric() && i < text.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if words.contains(&text[s..i].to_lowercase()) {
                    out.push([s, i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The order key of a hit: newest first means this key descending.
fn key(m: &Message) -> (i64, u64, &str) {
    (m.ts, m.seq, m.room.as_str())
}

fn cursor(m: &Message) -> String {
    format!("{}:{}:{}", m.ts, m.seq, m.room)
}

fn parse_cursor(c: &str) -> Result<(i64, u64, String)> {
    let bad = || Error::BadQuery("before is not a cursor this server returned".into());
    let mut parts = c.splitn(3, ':');
    let ts = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let room = parts.next().ok_or_else(bad)?.to_owned();
    Ok((ts, seq, room))
}

/// One page of messages matching `q` that `viewer` may read.
pub(crate) async fn search(
    core: &Core,
    viewer: Option<&str>,
    q: &str,
    room: Option<String>,
    before: Option<&str>,
    limit: Option<u32>,
) -> Result<SearchPage> {
    let words = query_words(q)?;
    let before = before.map(parse_cursor).transpose()?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT) as usize;
    let allowed: Option<HashSet<String>> = match &room {
        Some(name) => {
            readable(core, name, viewer).await?;
            None
        }
        None => Some(
            core.store
                .list_rooms(viewer)
                .await?
                .into_iter()
                .map(|r| r.name)
                .collect(),
        ),
    };
    let found = core
        .store
        .search(SearchQuery {
            room,
            text: words.join(" "),
            limit: MAX_PAGE,
        })
        .await?;
    let mut hits: Vec<Message> = found
        .into_iter()
        .filter(|m| allowed.as_ref().is_none_or(|a| a.contains(&m.room)))
        .filter(|m| {
            before
                .as_ref()
                .is_none_or(|(ts, seq, room)| key(m) < (*ts, *seq, room.as_str()))
        })
        .collect();
    hits.sort_by(|a, b| key(b).cmp(&key(a)));
    let more = hits.len() > limit;
    hits.truncate(limit);
    let next = if more { hits.last().map(cursor) } else { None };
    let hits = hits
        .into_iter()
        .map(|message| SearchHit {
            highlights: highlights(&message.text, &words),
            message,
        })
        .collect();
    Ok(SearchPage { hits, next })
}

/// What a lookup found.
#[derive(Debug)]
pub(crate) enum Found {
    /// Rooms, sorted by name.
    Rooms(Vec<RoomSummary>),
    /// User names, sorted.
    Users(Vec<String>),
}

/// Rooms `viewer` may see, or users who are members of such rooms, whose name starts with
/// `prefix` (case-insensitively); at most [`MAX_LOOKUP`].
pub(crate) async fn lookup(
    core: &Core,
    viewer: Option<&str>,
    what: LookupKind,
    prefix: &str,
) -> Result<Found> {
    if prefix.is_empty() || prefix.len() > MAX_PREFIX_BYTES || prefix.chars().any(char::is_control)
    {
        return Err(Error::BadQuery(format!(
            "prefix must be 1 to {MAX_PREFIX_BYTES} bytes without control characters"
        )));
    }
    let prefix = prefix.to_lowercase();
    let matches = |name: &str| name.to_lowercase().starts_with(&prefix);
    match what {
        LookupKind::Rooms => {
            let mut rooms = list_rooms(core, viewer).await?;
            rooms.retain(|r| matches(&r.name));
            rooms.truncate(MAX_LOOKUP);
            Ok(Found::Rooms(rooms))
        }
        LookupKind::Users => {
            let mut users = std::collections::BTreeSet::new();
            for record in core
                .store
                .list_rooms(viewer)
                .await?
                .into_iter()
                .take(MAX_LOOKUP_ROOMS)
            {
                for m in core.store.members(&record.name).await? {
                    if matches(&m.user) {
                        users.insert(m.user);
                    }
                }
            }
            Ok(Found::Users(users.into_iter().take(MAX_LOOKUP).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_queries_are_bad_query_or_words() {
        for q in [
            "",
            "  ",
            "\"",
            "*",
            "((",
            "\0",
            "a\0b",
            &"x".repeat(10 * 1024),
        ] {
            assert!(matches!(query_words(q), Err(Error::BadQuery(_))), "{q:?}");
        }
        let many: String = (0..17).map(|i| format!("w{i} ")).collect();
        assert!(matches!(query_words(&many), Err(Error::BadQuery(_))));
        assert_eq!(
            query_words("\"a\" OR NEAR(b*) a").expect("words"),
            ["a", "or", "near", "b"]
        );
    }

    #[test]
    fn highlights_are_byte_ranges_of_whole_words() {
        let text = "Hello, héllo world; hello!";
        let ranges = highlights(text, &["hello".into()]);
        // `é` takes two bytes.
        assert_eq!(ranges, [[0, 5], [21, 26]]);
        assert_eq!(&text[21..26], "hello");
        assert_eq!(highlights("Ça va", &["ça".into()]), [[0, 3]]);
        assert!(highlights("helloworld", &["hello".into()]).is_empty());
    }

    #[test]
    fn cursors_round_trip_and_junk_is_bad_query() {
        let m = Message {
            room: "dm:a:b".into(),
            seq: 7,
            ts: 99,
            ..Message::default()
        };
        assert_eq!(
            parse_cursor(&cursor(&m)).expect("cursor"),
            (99, 7, "dm:a:b".into())
        );
        for junk in ["", "x", "1:", "1:2", "a:2:r", "1:-2:r"] {
            assert!(
                matches!(parse_cursor(junk), Err(Error::BadQuery(_))),
                "{junk:?}"
            );
        }
    }
}
