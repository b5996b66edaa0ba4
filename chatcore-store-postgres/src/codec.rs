//! How values travel between Rust and the tables: strings as bytes, bodies as text plus an
//! exact copy when needed, and rows back into [`Message`], [`RoomRecord`] and [`Member`].

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};
use chatcore::protocol::{Data, Message, MessageKind, Moderation, RoomKind};
use chatcore::store::{Member, Role, RoomRecord};
use chatcore::{Error, Result};
use tokio_postgres::Row;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::error::corrupt;

/// The columns [`message`] decodes, in order, for a `messages m` row (a macro so queries can
/// `concat!` it).
macro_rules! message_columns {
    () => {
        "m.seq, m.id, m.sender, m.kind, m.body, m.body_exact, m.ts, m.nonce, m.reply_to, m.data, \
         m.target, m.moderation, m.mentions"
    };
}
pub(crate) use message_columns;

/// How many columns [`message_columns!`] names: a query that selects more after them reads
/// those from this index on.
pub(crate) const MESSAGE_COLUMNS: usize = 13;

/// The columns [`room_record`] decodes, in order, for a `rooms r` row.
macro_rules! room_columns {
    () => {
        "r.name, r.kind, r.topic, r.creator, r.created, r.last_seq, \
         (SELECT count(*) FROM memberships mb WHERE mb.room_id = r.id), r.description"
    };
}
pub(crate) use room_columns;

/// A message body as stored: the searchable `body` text (TEXT cannot hold NUL, so each NUL
/// becomes a space) and, only when the text contains NUL, its exact UTF-8 bytes.
pub(crate) fn body(text: &str) -> (Cow<'_, str>, Option<&[u8]>) {
    if text.contains('\0') {
        (Cow::Owned(text.replace('\0', " ")), Some(text.as_bytes()))
    } else {
        (Cow::Borrowed(text), None)
    }
}

/// The original text of a stored body: the exact copy when there is one.
fn unbody(body: &str, exact: Option<&[u8]>) -> Result<String> {
    match exact {
        Some(bytes) => utf8(bytes, "messages.body_exact"),
        None => Ok(body.to_owned()),
    }
}

/// A string stored as BYTEA.
pub(crate) fn utf8(bytes: &[u8], column: &str) -> Result<String> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| corrupt(format!("{column} is not UTF-8")))
}

/// Column `i` of `row` as a string stored as BYTEA.
pub(crate) fn string(row: &Row, i: usize, column: &str) -> Result<String> {
    let bytes: &[u8] = row.try_get(i).map_err(Error::store)?;
    utf8(bytes, column)
}

/// Column `i` of `row`, an optional string stored as BYTEA.
pub(crate) fn opt_string(row: &Row, i: usize, column: &str) -> Result<Option<String>> {
    let bytes: Option<&[u8]> = row.try_get(i).map_err(Error::store)?;
    bytes.map(|b| utf8(b, column)).transpose()
}

/// A BIGINT that holds a seq or count, which is never negative.
pub(crate) fn unsigned(v: i64, column: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("{column} is negative ({v})")))
}

/// A seq or cursor as a BIGINT; values past `i64::MAX` mean "no bound" and saturate.
pub(crate) fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Decodes [`message_columns!`] (starting at column 0) of a message in `room`.
pub(crate) fn message(row: &Row, room: String) -> Result<Message> {
    let get = |i| -> Result<i64> { row.try_get(i).map_err(Error::store) };
    let kind: &str = row.try_get(3).map_err(Error::store)?;
    let body: &str = row.try_get(4).map_err(Error::store)?;
    let exact: Option<&[u8]> = row.try_get(5).map_err(Error::store)?;
    let reply_to: Option<i64> = row.try_get(8).map_err(Error::store)?;
    let data: Option<&str> = row.try_get(9).map_err(Error::store)?;
    let target: Option<i64> = row.try_get(10).map_err(Error::store)?;
    let moderation: Option<&str> = row.try_get(11).map_err(Error::store)?;
    let mentions: Option<&str> = row.try_get(12).map_err(Error::store)?;
    Ok(Message {
        room,
        seq: unsigned(get(0)?, "messages.seq")?,
        id: string(row, 1, "messages.id")?,
        sender: string(row, 2, "messages.sender")?,
        kind: MessageKind::from_name(kind),
        text: unbody(body, exact)?,
        ts: get(6)?,
        nonce: opt_string(row, 7, "messages.nonce")?,
        reply_to: reply_to
            .map(|r| unsigned(r, "messages.reply_to"))
            .transpose()?,
        data: data
            .map(|d| {
                serde_json::from_str(d)
                    .map_err(|e| corrupt(format!("messages.data is not a JSON object: {e}")))
            })
            .transpose()?,
        target: target.map(|t| unsigned(t, "messages.target")).transpose()?,
        moderation: moderation
            .map(|m| {
                serde_json::from_str(m)
                    .map_err(|e| corrupt(format!("messages.moderation is not valid: {e}")))
            })
            .transpose()?,
        mentions: mentions
            .map(|m| {
                serde_json::from_str(m)
                    .map_err(|e| corrupt(format!("messages.mentions is not a name list: {e}")))
            })
            .transpose()?
            .unwrap_or_default(),
        ..Message::default()
    })
}

/// A message's data as stored: compact JSON text.
pub(crate) fn data_text(data: Option<&Data>) -> Option<String> {
    // A JSON map with string keys always encodes.
    data.and_then(|d| serde_json::to_string(d).ok())
}

/// A moderation event's details as stored: JSON text.
pub(crate) fn moderation_text(moderation: Option<&Moderation>) -> Option<String> {
    // A struct of strings, numbers and a unit enum always encodes.
    moderation.and_then(|m| serde_json::to_string(m).ok())
}

/// A message's mentions as stored: a JSON array of names, NULL when there are none.
pub(crate) fn mentions_text(mentions: &[String]) -> Option<String> {
    if mentions.is_empty() {
        return None;
    }
    serde_json::to_string(mentions).ok()
}

/// Decodes [`room_columns!`] (starting at column 0).
pub(crate) fn room_record(row: &Row) -> Result<RoomRecord> {
    let kind: &str = row.try_get(1).map_err(Error::store)?;
    let created: i64 = row.try_get(4).map_err(Error::store)?;
    let last_seq: i64 = row.try_get(5).map_err(Error::store)?;
    let members: i64 = row.try_get(6).map_err(Error::store)?;
    Ok(RoomRecord {
        name: string(row, 0, "rooms.name")?,
        kind: RoomKind::from_name(kind)
            .ok_or_else(|| corrupt(format!("unknown room kind {kind:?}")))?,
        topic: opt_string(row, 2, "rooms.topic")?,
        creator: string(row, 3, "rooms.creator")?,
        created,
        last_seq: unsigned(last_seq, "rooms.last_seq")?,
        members: unsigned(members, "member count")?,
        description: opt_string(row, 7, "rooms.description")?,
        invited: false,
    })
}

/// Decodes `user_name, role, joined`.
pub(crate) fn member(row: &Row) -> Result<Member> {
    let role: &str = row.try_get(1).map_err(Error::store)?;
    Ok(Member {
        user: string(row, 0, "memberships.user_name")?,
        role: Role::from_name(role),
        joined: row.try_get(2).map_err(Error::store)?,
    })
}

/// Longest lexeme a `tsvector` holds, in bytes; longer words are not indexed.
pub(crate) const MAX_WORD_BYTES: usize = 2047;

/// The words of a text, exactly as the in-memory store finds them: maximal runs of
/// alphanumeric characters, lower-cased.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// What the writer stores for search: the text's distinct indexable words (as [`words`]
/// makes them), sorted. Borrows the words that are lower-case ASCII already, the common
/// case, to save an allocation per word; ASCII text is split byte by byte (for ASCII,
/// `char::is_alphanumeric` is `u8::is_ascii_alphanumeric`): measured 1.4 µs instead of
/// 1.9 µs for a 100-byte message.
pub(crate) fn index_words(text: &str) -> Vec<Cow<'_, str>> {
    if text.is_ascii() {
        return index_ascii_words(text);
    }
    let mut words: Vec<Cow<'_, str>> = text
        .split(|c: char| !c.is_alphanumeric())
        // Lower-casing shrinks a word to a third at most (`K`, the Kelvin sign, is 3 bytes;
        // `k` is 1): longer words can never fit.
        .filter(|w| !w.is_empty() && w.len() <= 3 * MAX_WORD_BYTES)
        .map(|w| {
            if w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                Cow::Borrowed(w)
            } else {
                Cow::Owned(w.to_lowercase())
            }
        })
        .filter(|w| w.len() <= MAX_WORD_BYTES)
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// [`index_words`] of an ASCII `text`.
fn index_ascii_words(text: &str) -> Vec<Cow<'_, str>> {
    let mut words: Vec<Cow<'_, str>> = Vec::with_capacity(text.len() / 4);
    let bytes = text.as_bytes();
    let mut start = None;
    // One byte past the end acts as a separator.
    for i in 0..=bytes.len() {
        match (bytes.get(i).is_some_and(u8::is_ascii_alphanumeric), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                start = None;
                // ASCII: every byte index is a char boundary.
                let w = &text[s..i];
                if w.len() > MAX_WORD_BYTES {
                    continue;
                }
                if w.bytes().any(|b| b.is_ascii_uppercase()) {
                    words.push(Cow::Owned(w.to_ascii_lowercase()));
                } else {
                    words.push(Cow::Borrowed(w));
                }
            }
            _ => {}
        }
    }
    words.sort_unstable();
    words.dedup();
    words
}

/// Sorted, distinct words sent as a `tsvector` in its binary format (lexemes without
/// positions): PostgreSQL's text-search parser never runs.
#[derive(Debug)]
pub(crate) struct Lexemes<'a>(pub(crate) Vec<Cow<'a, str>>);

impl ToSql for Lexemes<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // int32 count, then per lexeme: its bytes, a NUL, an int16 count of positions (0).
        out.put_i32(i32::try_from(self.0.len())?);
        for w in &self.0 {
            out.put_slice(w.as_bytes());
            out.put_u8(0);
            out.put_u16(0);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TS_VECTOR
    }

    to_sql_checked!();
}

/// A `tsquery` that matches documents holding every one of `words`, in the query type's
/// input syntax: `'w1' & 'w2'`. Safe to build by hand because a word is alphanumeric only
/// (never a quote, backslash or operator), and it is passed as a parameter, never as SQL.
/// `None` when a word is too long to ever be indexed (nothing can match).
pub(crate) fn tsquery(words: &[String]) -> Option<String> {
    if words.iter().any(|w| w.len() > MAX_WORD_BYTES) {
        return None;
    }
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    Some(quoted.join(" & "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_without_nul_are_stored_as_is() {
        let (text, exact) = body("plain ünïcode");
        assert!(matches!(text, Cow::Borrowed("plain ünïcode")));
        assert_eq!(exact, None);
    }

    #[test]
    fn nul_keeps_an_exact_copy() {
        let original = "a\0b\0";
        let (text, exact) = body(original);
        assert_eq!(text, "a b ");
        assert_eq!(exact, Some(original.as_bytes()));
        assert_eq!(unbody(&text, exact).expect("decode"), original);
    }

    #[test]
    fn words_are_lower_cased_alphanumeric_runs() {
        let w: Vec<_> = words("NEAR(near gate) it's 3.14 ann@x.org \0 Ünï").collect();
        assert_eq!(
            w,
            [
                "near", "near", "gate", "it", "s", "3", "14", "ann", "x", "org", "ünï"
            ]
        );
        assert_eq!(words("\"*() ").count(), 0);
    }

    #[test]
    fn indexed_words_are_the_search_words() {
        let kelvins = "\u{212A}".repeat(MAX_WORD_BYTES);
        let long_ascii = format!("{} b {}", "Y".repeat(MAX_WORD_BYTES), "z".repeat(4000));
        for text in [
            "Hello, WORLD! ǅemal İstanbul 3.14 naïve ÉCOLE école",
            "Hello, WORLD! hello 3.14 it's ann@x.org a_b\0c\t\nZ9 z9",
            "word",
            " lead  trail ",
            &long_ascii,
            "",
            "?!",
            "a a A",
            &kelvins,
        ] {
            let mut expected: Vec<String> =
                words(text).filter(|w| w.len() <= MAX_WORD_BYTES).collect();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(index_words(text), expected, "{text:?}");
        }
    }

    #[test]
    fn indexed_words_are_distinct_and_short_enough() {
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        assert_eq!(index_words(&format!("b A a {long} c\0B")), ["a", "b", "c"]);
        assert!(index_words("?!").is_empty());
    }

    #[test]
    fn tsquery_quotes_every_word() {
        let q = tsquery(&["near".into(), "gate".into()]).expect("query");
        assert_eq!(q, "'near' & 'gate'");
        assert_eq!(tsquery(&["y".repeat(MAX_WORD_BYTES + 1)]), None);
    }

    #[test]
    fn huge_cursors_saturate() {
        assert_eq!(signed(u64::MAX), i64::MAX);
        assert_eq!(signed(7), 7);
        assert!(unsigned(-1, "x").is_err());
    }
}
