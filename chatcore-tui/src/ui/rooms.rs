//! The room list, with unread counts (mentions highlighted).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::wrap::width;
use crate::app::{App, View};

/// Draws the joined rooms; the current one is selected.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let block = Block::bordered().border_style(t.border).title(" Rooms ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = usize::from(inner.width);
    let lines: Vec<Line<'_>> = app
        .rooms
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let count = match (r.unread, r.mentions) {
                (0, _) => String::new(),
                (n, 0) => format!(" {n}"),
                (n, _) => format!(" @{n}"),
            };
            let mut name = r.display_name(&app.me);
            let room_w = w.saturating_sub(width(&count) + 1);
            if width(&name) > room_w {
                name = name
                    .chars()
                    .take(room_w.saturating_sub(1))
                    .collect::<String>()
                    + "…";
            }
            let pad = w.saturating_sub(width(&name) + width(&count) + 1);
            let selected = i == app.current && app.view == View::Chat;
            let style = if selected { t.selected } else { t.base };
            let count_style = if r.mentions > 0 { t.highlight } else { t.warn };
            Line::from(vec![
                Span::styled(format!(" {name}{}", " ".repeat(pad)), style),
                Span::styled(count, if selected { style } else { count_style }),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
