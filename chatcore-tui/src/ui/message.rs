//! One message as lines: time, coloured sender, its blocks under a hanging indent, and
//! what changed it (`(edited)`, a tombstone, reaction chips, a thread's reply count);
//! moderation events as system lines from their text.

use chatcore_client::{Message, MessageKind};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::wrap::{width, wrap};
use crate::app::Pending;
use crate::app::blocks::{Block as MsgBlock, blocks};
use crate::app::clock::hhmm;
use crate::theme::Theme;

/// Width of the time column (`HH:MM `).
const TIME_W: usize = 6;

/// A message as lines: time, sender, then its blocks wrapped under a hanging indent.
pub(super) fn message_lines(m: &Message, t: &Theme, w: usize) -> Vec<Line<'static>> {
    if m.kind.is_moderation() {
        return system_lines(m, t, w);
    }
    if m.deleted.is_some() {
        return vec![Line::from(vec![
            Span::styled(format!("{} ", hhmm(m.ts)), t.dim),
            Span::styled(m.sender.clone(), t.sender(&m.sender)),
            Span::styled(" 🗑 message deleted", t.dim.add_modifier(Modifier::ITALIC)),
        ])];
    }
    let mut lines = text_lines(m, t, w);
    if m.edited_ts.is_some() {
        if let Some(last) = lines.last_mut() {
            last.push_span(Span::styled(" (edited)", t.dim));
        }
    }
    let indent = Span::raw(" ".repeat(TIME_W));
    if !m.reactions.is_empty() {
        let mut chips = vec![indent.clone()];
        for r in &m.reactions {
            let style = if r.me { t.highlight } else { t.dim };
            chips.push(Span::styled(format!("{} {}", r.emoji, r.count), style));
            chips.push(Span::raw("  "));
        }
        lines.push(Line::from(chips));
    }
    if let Some(thread) = &m.thread {
        let s = if thread.replies == 1 {
            "reply"
        } else {
            "replies"
        };
        lines.push(Line::from(vec![
            indent,
            Span::styled(format!("💬 {} {s} (v, t opens)", thread.replies), t.dim),
        ]));
    }
    lines
}

/// A moderation event (`ann kicked bob: spam`): its text, wrapped, as a system line.
fn system_lines(m: &Message, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let style = t.dim.add_modifier(Modifier::ITALIC);
    let text = match m.kind {
        MessageKind::Topic if m.text.is_empty() => format!("{} cleared the topic", m.sender),
        MessageKind::Topic => format!("{} set the topic: {}", m.sender, m.text),
        _ => m.text.clone(),
    };
    let first = w.saturating_sub(TIME_W + 2);
    wrap(&text, first, first)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let head = if i == 0 {
                format!("{} — ", hhmm(m.ts))
            } else {
                " ".repeat(TIME_W + 2)
            };
            Line::from(vec![Span::styled(head, t.dim), Span::styled(piece, style)])
        })
        .collect()
}

/// The sender and text of a message.
fn text_lines(m: &Message, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let emote = m.kind == MessageKind::Emote;
    let sender = if emote {
        format!("* {}", m.sender)
    } else {
        m.sender.clone()
    };
    let head = vec![
        Span::styled(format!("{} ", hhmm(m.ts)), t.dim),
        Span::styled(sender.clone(), t.sender(&m.sender)),
        Span::raw(" "),
    ];
    let text_style = if emote {
        Style::default().add_modifier(Modifier::ITALIC)
    } else {
        Style::default()
    };
    body_lines(
        head,
        TIME_W + width(&sender) + 1,
        &blocks(&m.text),
        text_style,
        t,
        w,
    )
}

pub(super) fn pending_lines(p: &Pending, me: &str, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let sender = if p.emote {
        format!("* {me}")
    } else {
        me.to_owned()
    };
    let head = vec![
        Span::styled("  …   ", t.dim),
        Span::styled(sender.clone(), t.dim),
        Span::raw(" "),
    ];
    let mut lines = body_lines(
        head,
        TIME_W + width(&sender) + 1,
        &blocks(&p.text),
        t.dim,
        t,
        w,
    );
    if let Some(last) = lines.last_mut() {
        last.push_span(Span::styled(" (sending)", t.dim));
    }
    lines
}

fn body_lines(
    head: Vec<Span<'static>>,
    head_w: usize,
    blocks: &[MsgBlock],
    text_style: Style,
    t: &Theme,
    w: usize,
) -> Vec<Line<'static>> {
    let indent = " ".repeat(TIME_W);
    let rest_w = w.saturating_sub(TIME_W);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut head = Some(head);
    let mut push = |lines: &mut Vec<Line<'static>>, span: Span<'static>| match head.take() {
        Some(mut h) => {
            h.push(span);
            lines.push(Line::from(h));
        }
        None => lines.push(Line::from(vec![Span::raw(indent.clone()), span])),
    };
    for block in blocks {
        match block {
            MsgBlock::Text(text) => {
                for para in text.split('\n') {
                    let first = if lines.is_empty() {
                        w.saturating_sub(head_w)
                    } else {
                        rest_w
                    };
                    for piece in wrap(para, first, rest_w) {
                        push(&mut lines, Span::styled(piece, text_style));
                    }
                }
            }
            MsgBlock::Image { name, .. } => {
                push(
                    &mut lines,
                    Span::styled(format!("[image: {name}]"), t.highlight),
                );
            }
        }
    }
    lines
}
