//! The input box: the message line, or the `:` command line.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::widgets::{Block, Paragraph};

use super::wrap::width;
use crate::app::{App, Mode};

/// Draws the input box and places the cursor in it outside normal mode.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let prompt_title;
    let (title, text, cursor) = match (&app.prompt, app.mode) {
        (Some(p), Mode::Insert) => {
            let verb = if p.create { "register" } else { "sign in" };
            prompt_title = format!(" password for {} · Enter {verb} · Esc cancel ", p.user);
            let n = p.secret.chars().count();
            (prompt_title.as_str(), "•".repeat(n), n)
        }
        (_, mode) => match mode {
            Mode::Command => (
                " command ",
                format!(":{}", app.command),
                app.command.chars().count() + 1,
            ),
            Mode::Insert if app.editing.is_some() => (
                " edit · Enter save · Esc cancel ",
                app.input.clone(),
                app.cursor,
            ),
            Mode::Insert => (
                " message · Enter send · Esc normal ",
                app.input.clone(),
                app.cursor,
            ),
            Mode::Select => (
                " select · e edit · d delete · r react · t thread · Esc done ",
                app.input.clone(),
                app.cursor,
            ),
            Mode::Normal => (
                " message · i insert · : command · ? help ",
                app.input.clone(),
                app.cursor,
            ),
        },
    };
    let border = if matches!(app.mode, Mode::Normal | Mode::Select) {
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
    if matches!(app.mode, Mode::Insert | Mode::Command) && inner.width > 0 {
        let x = inner.x
            + u16::try_from(w)
                .unwrap_or(inner.width - 1)
                .min(inner.width - 1);
        frame.set_cursor_position(Position::new(x, inner.y));
    }
}
