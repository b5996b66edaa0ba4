//! The settings view: server, name, theme, notifications.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, SETTINGS_ROWS};

/// Draws the settings list; Enter changes the selected row.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let s = &app.settings;
    let values = [
        s.server.clone(),
        if s.token.is_some() {
            format!("{} (token)", app.me)
        } else {
            app.me.clone()
        },
        s.theme.to_string(),
        s.notifications.to_string(),
    ];
    let mut lines = vec![Line::from("")];
    for (i, (label, value)) in SETTINGS_ROWS.iter().zip(values).enumerate() {
        let style = if i == app.settings_row {
            t.selected
        } else {
            t.base
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {label:<15}"), style),
            Span::styled(format!("{value}  "), style),
        ]));
    }
    let path = s
        .config_path
        .as_ref()
        .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string());
    lines.push(Line::from(""));
    lines.push(Line::styled(format!("  Config file    {path}"), t.dim));
    lines.push(Line::styled("  Times are shown in UTC.", t.dim));
    lines.push(Line::from(""));
    lines.push(Line::styled(
        "  j/k select · Enter change · :write save · Esc back",
        t.dim,
    ));
    let block = Block::bordered().border_style(t.focus).title(" Settings ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
