//! Who is online in the current room (presence), and who is typing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::App;

/// Draws the online users of the current room.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(room) = app.room() else {
        let block = Block::bordered().border_style(t.border).title(" Users ");
        frame.render_widget(block, area);
        return;
    };
    let typing = room.typing_now(app.now);
    let count = room.online_count.unwrap_or(room.online.len() as u64);
    let title = format!(" Users ({count}) ");
    let block = Block::bordered().border_style(t.border).title(title);
    if room.online_count.is_some() {
        // A large room: the server sends a count, not the names.
        let mut lines = vec![Line::styled(" large room", t.dim)];
        lines.extend(typing.iter().map(|u| {
            Line::from(vec![
                Span::styled(" ✎ ", t.ok),
                Span::styled(u.to_string(), t.sender(u)),
            ])
        }));
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let lines: Vec<Line<'_>> = room
        .online
        .iter()
        .map(|u| {
            let mut style = t.sender(u);
            if *u == app.me {
                style = style.add_modifier(Modifier::UNDERLINED);
            }
            let mark = if typing.contains(&u.as_str()) {
                "✎"
            } else {
                "●"
            };
            Line::from(vec![
                Span::styled(format!(" {mark} "), t.ok),
                Span::styled(u.clone(), style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
