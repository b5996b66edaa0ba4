//! The search results view: one hit a line (room, sender, text), the selected one
//! highlighted; Enter opens its room.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;
use crate::app::clock::hhmm;

/// Draws the last search's hits.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(search) = &app.search else { return };
    let title = format!(
        " search: {} · {} hit(s) · Enter open · Esc back ",
        search.query,
        search.hits.len()
    );
    let block = Block::bordered()
        .border_style(t.focus)
        .title(Span::styled(title, t.focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height).max(1);
    let first = search.selected.saturating_sub(rows - 1);
    let lines: Vec<Line<'_>> = search
        .hits
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, m)| {
            let line = Line::from(vec![
                Span::styled(format!("{} ", hhmm(m.ts)), t.dim),
                Span::styled(format!("#{} ", m.room), t.highlight),
                Span::styled(format!("{} ", m.sender), t.sender(&m.sender)),
                Span::raw(m.text.replace('\n', " ")),
            ]);
            if i == search.selected {
                line.patch_style(t.selected)
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(Paragraph::new(Line::styled("nothing found", t.dim)), inner);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
