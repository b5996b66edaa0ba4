//! The status bar (mode, connection, room) and the notice line under it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::wrap::width;
use crate::app::{App, ConnStatus, Mode, Notice};

/// The connection as text, as the status bar shows it.
pub(crate) fn conn_text(status: &ConnStatus) -> String {
    match status {
        ConnStatus::Connecting => "◌ connecting…".into(),
        ConnStatus::Connected { user } => format!("● connected as {user}"),
        ConnStatus::Disconnected { reason } => format!("✕ disconnected: {reason}"),
        ConnStatus::Reconnecting { attempt } => format!("◌ reconnecting (attempt {attempt})"),
        ConnStatus::Untrusted { reason } => format!("✕ TLS: {reason}"),
        ConnStatus::SignIn { user } => format!("◌ sign in as {user}"),
        ConnStatus::Closed { reason } => format!("✕ disconnected for good: {reason}"),
    }
}

/// Draws the status bar.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let mode = match app.mode {
        Mode::Normal => " NORMAL ",
        Mode::Insert => " INSERT ",
        Mode::Command => " COMMAND ",
        Mode::Select => " SELECT ",
    };
    let conn_style = match app.conn {
        ConnStatus::Connected { .. } => t.ok,
        ConnStatus::Connecting | ConnStatus::Reconnecting { .. } | ConnStatus::SignIn { .. } => {
            t.warn
        }
        ConnStatus::Disconnected { .. }
        | ConnStatus::Untrusted { .. }
        | ConnStatus::Closed { .. } => t.error,
    };
    let room = app
        .room()
        .map(|r| r.display_name(&app.me))
        .unwrap_or_default();
    let left = vec![
        Span::styled(mode, t.selected),
        Span::styled(" ", t.status),
        Span::styled(
            conn_text(&app.conn),
            t.status.patch(conn_style).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!("  {}  {room}", app.settings.server), t.status),
    ];
    let right = format!(" {} · ? help ", app.theme.name);
    let used: usize = left.iter().map(|s| width(&s.content)).sum();
    let pad = usize::from(area.width).saturating_sub(used + width(&right));
    let mut spans = left;
    spans.push(Span::styled(" ".repeat(pad), t.status));
    spans.push(Span::styled(right, t.status));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

/// Draws the notice line (errors in the error colour).
pub(super) fn render_notice(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let t = &app.theme;
    let line = match &app.notice {
        Some(Notice::Error(e)) => Line::styled(format!(" {e}"), t.error),
        Some(Notice::Info(i)) => Line::styled(format!(" {i}"), t.dim),
        None => return,
    };
    frame.render_widget(Paragraph::new(line), area);
}
