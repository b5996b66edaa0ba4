//! The input box: the message line, or the `:` command line.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::widgets::{Block, Paragraph};

use super::wrap::width;
use crate::app::{App, Mode};

/// Draws the input box and places the cursor in it outside normal mode.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let (title, text, cursor) = match app.mode {
        Mode::Command => (
            " command ",
            format!(":{}", app.command),
            app.command.chars().count() + 1,
        ),
        Mode::Insert => (
            " message · Enter send · Esc normal ",
            app.input.clone(),
            app.cursor,
        ),
        Mode::Normal => (
            " message · i insert · : command · ? help ",
            app.input.clone(),
            app.cursor,
        ),
    };
    let border = if app.mode == Mode::Normal {
        t.border
    } else {
        t.focus
    };
    let block = Block::bordered().border_style(border).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Scroll horizontally so the cursor stays visible.
    let before: String = text.chars().take(cursor).collect();
    let avail = usize::from(inner.width).saturating_sub(1);
    let mut skip = 0;
    let mut w = width(&before);
    let mut chars = before.chars();
    while w > avail {
        match chars.next() {
            Some(c) => {
                w -= width(c.encode_utf8(&mut [0; 4]));
                skip += 1;
            }
            None => break,
        }
    }
    let shown: String = text.chars().skip(skip).collect();
    frame.render_widget(Paragraph::new(shown), inner);
    if app.mode != Mode::Normal && inner.width > 0 {
        let x = inner.x
            + u16::try_from(w)
                .unwrap_or(inner.width - 1)
                .min(inner.width - 1);
        frame.set_cursor_position(Position::new(x, inner.y));
    }
}
