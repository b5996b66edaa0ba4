//! The thread view: a message and its replies, oldest first; what is typed there is sent
//! as a reply.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::message::{message_lines, pending_lines};
use crate::app::App;

/// Draws the thread of `root` in the current room.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App, root: u64) {
    let t = &app.theme;
    let Some(room) = app.room() else { return };
    let title = format!(
        " thread in {} · i reply · Esc back ",
        room.display_name(&app.me)
    );
    let block = Block::bordered()
        .border_style(t.focus)
        .title(Span::styled(title, t.focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = usize::from(inner.width);
    let mut lines: Vec<Line<'static>> = match room.get(root) {
        Some(m) => message_lines(m, t, w),
        None => vec![Line::styled("(the first message is not loaded)", t.dim)],
    };
    let replies = room.replies(root);
    let label = match replies.len() {
        0 => " no replies yet ".to_owned(),
        1 => " 1 reply ".to_owned(),
        n => format!(" {n} replies "),
    };
    let side = "─".repeat(w.saturating_sub(label.chars().count()) / 2);
    lines.push(Line::styled(format!("{side}{label}{side}"), t.dim));
    for m in replies {
        lines.extend(message_lines(m, t, w));
    }
    let mine = |p: &&crate::app::Pending| p.room == room.name && p.reply_to == Some(root);
    for p in app.pending.iter().filter(mine) {
        lines.extend(pending_lines(p, &app.me, t, w));
    }
    // The newest replies stay in view.
    let skip = lines.len().saturating_sub(usize::from(inner.height));
    frame.render_widget(Paragraph::new(lines.split_off(skip)), inner);
}
