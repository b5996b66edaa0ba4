//! Output of `chat-cli`: lines for people or JSON lines, terminal-safe text, and noticing
//! that nobody reads stdout any more.

use std::io::Write;

use chatcore_client::{Message, MessageKind, RoomSummary};

use crate::failure::{Failure, Outcome};

/// Resolves when nobody reads stdout any more (the reader of the pipe exited), so `tail … |
/// head -n 1` ends right after its line instead of at the next message. Watches a duplicate
/// of the stdout descriptor for the pipe's error condition (it is never written to, so its
/// blocking mode does not matter). Never resolves when stdout is not a pipe.
pub(crate) async fn stdout_closed() {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        use tokio::io::Interest;
        use tokio::net::unix::pipe;

        let watch = || -> std::io::Result<Option<pipe::Sender>> {
            let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
            let file = std::fs::File::from(fd);
            if !file.metadata()?.file_type().is_fifo() {
                return Ok(None);
            }
            pipe::Sender::from_file_unchecked(file).map(Some)
        };
        if let Ok(Some(pipe)) = watch() {
            loop {
                match pipe.ready(Interest::ERROR).await {
                    Ok(ready) if ready.is_error() || ready.is_write_closed() => return,
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
    }
    std::future::pending::<()>().await;
}

pub(crate) fn print_line(line: &str) -> Outcome {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::StdoutClosed),
        Err(e) => Err(Failure::Io(format!("writing standard output: {e}"))),
    }
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Outcome {
    let line =
        serde_json::to_string(value).map_err(|e| Failure::Io(format!("encoding JSON: {e}")))?;
    print_line(&line)
}

pub(crate) fn print_message(json: bool, m: &Message) -> Outcome {
    if json {
        return print_json(m);
    }
    print_line(&message_line(m))
}

/// A message as one line of text. Every kind but an emote, an application's own
/// (`shop.order`) or one this version does not know, prints its text: the fallback its
/// sender wrote for clients like this one (`--json` prints the kind and data too).
fn message_line(m: &Message) -> String {
    let text = printable(&m.text);
    match m.kind {
        MessageKind::Emote => format!("{} #{} * {} {text}", utc(m.ts), m.seq, printable(&m.sender)),
        _ => format!("{} #{} <{}> {text}", utc(m.ts), m.seq, printable(&m.sender)),
    }
}

pub(crate) fn print_room(json: bool, r: &RoomSummary) -> Outcome {
    if json {
        return print_json(r);
    }
    let topic = r
        .topic
        .as_deref()
        .map(|t| format!(" — {}", printable(t)))
        .unwrap_or_default();
    print_line(&format!(
        "{} ({}) {} members, {} online, last #{}{topic}",
        printable(&r.name),
        r.kind.as_str(),
        r.members,
        r.online,
        r.last_seq
    ))
}

/// Text safe for a terminal: control characters (escape sequences!) are shown escaped;
/// line breaks are kept.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '\n' | '\t' => vec![c],
            c if c.is_control() => c.escape_default().collect(),
            c => vec![c],
        })
        .collect()
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_732_350_000_000), "2024-11-23 08:20:00");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn custom_and_unknown_kinds_print_their_text() {
        let card = Message {
            kind: MessageKind::Custom("shop.order".into()),
            data: serde_json::json!({"order": 12}).as_object().cloned(),
            ..chatcore_testkit::fixtures::message("r", 3)
        };
        let card = Message {
            text: "Order 12 shipped".into(),
            ..card
        };
        assert_eq!(
            message_line(&card),
            "1970-01-01 00:00:00 #3 <ann> Order 12 shipped"
        );
        let newer = Message {
            kind: MessageKind::Unknown,
            ..card
        };
        assert_eq!(
            message_line(&newer),
            "1970-01-01 00:00:00 #3 <ann> Order 12 shipped"
        );
    }

    #[test]
    fn terminal_escapes_are_neutralised() {
        assert_eq!(printable("hi\u{1b}[31m\nthere"), "hi\\u{1b}[31m\nthere");
    }
}
