//! The help overlay: every key, `:` command, slash command and room command.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::app::App;
use crate::app::command::{COLON_HELP, ROOM_HELP, SLASH_HELP};
use crate::event::KEY_HELP;
use crate::theme::Theme;

/// Draws the overlay centred in `area`.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let left_rows = KEY_HELP.len() + ROOM_HELP.len() + 3;
    let rows = left_rows.max(COLON_HELP.len() + SLASH_HELP.len() + 3) + 2;
    let h = u16::try_from(rows).unwrap_or(u16::MAX).min(area.height);
    let w = area.width.min(116);
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .border_style(t.focus)
        .style(t.base)
        .title(" Help · Esc or ? closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(54), Constraint::Percentage(46)]).areas(inner);
    let mut keys = vec![Line::styled("Keys (normal mode)", t.highlight)];
    keys.extend(entries(KEY_HELP, 17, t));
    keys.push(Line::from(""));
    keys.push(Line::styled(
        "Room commands (insert mode, current room)",
        t.highlight,
    ));
    keys.extend(entries(ROOM_HELP, 25, t));
    frame.render_widget(Paragraph::new(keys), left);
    let mut cmds = vec![Line::styled(": commands", t.highlight)];
    cmds.extend(entries(COLON_HELP, 17, t));
    cmds.push(Line::from(""));
    cmds.push(Line::styled("/ commands (insert mode)", t.highlight));
    cmds.extend(entries(SLASH_HELP, 17, t));
    frame.render_widget(Paragraph::new(cmds), right);
}

fn entries<'a>(list: &'a [(&'a str, &'a str)], col: usize, t: &Theme) -> Vec<Line<'a>> {
    list.iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<col$}"), t.focus),
                Span::raw(*what),
            ])
        })
        .collect()
}
