//! The message pane: times, coloured senders, day separators, attachment blocks, the
//! pending sends, "seen by" under the newest, and the typing line under it.

use chatcore_client::Message;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::message::{message_lines, pending_lines};
use super::wrap::width;
use crate::app::clock::{day, day_label};
use crate::app::{App, Pending, RoomView};
use crate::theme::Theme;

/// Draws the message pane of the current room.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(room) = app.room() else {
        let block = Block::bordered().border_style(t.border).title(" chatcore ");
        let text = vec![
            Line::from(""),
            Line::from("  Not in any room yet."),
            Line::from("  Type :join general (or /join general in insert mode)."),
            Line::from("  Press ? for every key."),
        ];
        frame.render_widget(Paragraph::new(text).style(t.dim).block(block), area);
        return;
    };
    let mut title = format!(" {} ", room.display_name(&app.me));
    if room.scroll > 0 {
        title.push_str(&format!("· ↓ {} newer ", room.scroll));
    }
    let block = Block::bordered()
        .border_style(t.focus)
        .title(Span::styled(title, t.focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = visible_lines(room, &app.pending, &app.me, t, inner);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The lines that fill `area`: newest at the bottom, ending at the scroll anchor; or,
/// scrolled to the oldest loaded messages, those from the top.
fn visible_lines<'a>(
    room: &'a RoomView,
    pending: &'a [Pending],
    me: &str,
    t: &Theme,
    area: Rect,
) -> Vec<Line<'a>> {
    let rows = usize::from(area.height);
    let w = usize::from(area.width);
    let messages: Vec<&Message> = room.ordered().collect();
    let new_day = |i: usize| i == 0 || day(messages[i - 1].ts) != day(messages[i].ts);
    if room.at_top(rows) {
        let mut out = vec![top_note(room, me, t)];
        for (i, m) in messages.iter().enumerate() {
            if out.len() >= rows {
                break;
            }
            if new_day(i) {
                out.push(separator(&day_label(day(m.ts)), t, w));
            }
            out.extend(marked(m, room, t, w));
        }
        out.truncate(rows);
        return out;
    }
    let anchor = messages.len().saturating_sub(1 + room.scroll);
    let mut out: Vec<Line<'_>> = Vec::new();
    if room.scroll == 0 {
        if let Some(line) = seen_by(room, me, t) {
            out.push(line);
        }
        let here = |p: &&Pending| p.room == room.name && p.reply_to.is_none();
        for p in pending.iter().filter(here).rev() {
            out.extend(pending_lines(p, me, t, w).into_iter().rev());
        }
    }
    let mut reached_top = true;
    for i in (0..messages.len().min(anchor + 1)).rev() {
        if out.len() >= rows {
            reached_top = false;
            break;
        }
        let m = messages[i];
        out.extend(marked(m, room, t, w).into_iter().rev());
        if new_day(i) {
            out.push(separator(&day_label(day(m.ts)), t, w));
        }
    }
    if reached_top && out.len() < rows {
        out.push(top_note(room, me, t));
    }
    // Newest at the bottom, as in every chat: pad short rooms at the top.
    out.resize(out.len().max(rows), Line::from(""));
    out.reverse();
    let skip = out.len().saturating_sub(rows);
    out.split_off(skip)
}

/// A message's lines, highlighted when it is the one selected.
fn marked(m: &Message, room: &RoomView, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let lines = message_lines(m, t, w);
    if room.selected == Some(m.seq) {
        lines
            .into_iter()
            .map(|l| l.patch_style(t.selected))
            .collect()
    } else {
        lines
    }
}

/// "seen by bob, cat" under the newest message, when others read it.
fn seen_by(room: &RoomView, me: &str, t: &Theme) -> Option<Line<'static>> {
    let who = room.seen_by(me);
    (!who.is_empty()).then(|| {
        Line::styled(format!("seen by {}", who.join(", ")), t.dim).alignment(Alignment::Right)
    })
}

/// What is above the oldest loaded message.
fn top_note(room: &RoomView, me: &str, t: &Theme) -> Line<'static> {
    let note = if room.is_empty() && !room.has_more {
        "No messages yet. Press i and write the first one.".to_owned()
    } else if room.loading {
        "loading older messages…".to_owned()
    } else if room.has_more {
        "↑ scroll up (k, gg) for older messages".to_owned()
    } else {
        format!("start of {}", room.display_name(me))
    };
    Line::styled(note, t.dim).alignment(Alignment::Center)
}

/// `──── Thu 2024-02-29 ────`, centred.
fn separator(label: &str, t: &Theme, w: usize) -> Line<'static> {
    let side = w.saturating_sub(width(label) + 2) / 2;
    let bar = "─".repeat(side);
    Line::styled(format!("{bar} {label} {bar}"), t.dim)
}

/// Draws "… is typing" for the current room.
pub(super) fn render_typing(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let Some(room) = app.room() else { return };
    let who = room.typing_now(app.now);
    let text = match who.as_slice() {
        [] => return,
        [a] => format!(" {a} is typing…"),
        [a, b] => format!(" {a} and {b} are typing…"),
        more => format!(" {} people are typing…", more.len()),
    };
    frame.render_widget(Paragraph::new(text).style(app.theme.dim), area);
}
