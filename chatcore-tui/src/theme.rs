//! Colour themes: `dark` (default), `light` and `high-contrast`.

use std::fmt;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

/// The name of a built-in theme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ThemeName {
    /// Light text on the terminal's dark background. The default, because most terminals are
    /// dark.
    #[default]
    Dark,
    /// Dark text on a white background.
    Light,
    /// Black and white with bold accents, for low vision and bad projectors.
    HighContrast,
}

impl ThemeName {
    /// Every theme, in the order the settings view cycles through them.
    pub const ALL: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];

    /// The name used in the config file and by `:theme`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
        }
    }

    /// The next theme (wrapping), for the settings view.
    pub fn next(self) -> ThemeName {
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

impl fmt::Display for ThemeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThemeName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dark" => Ok(ThemeName::Dark),
            "light" => Ok(ThemeName::Light),
            "high-contrast" | "highcontrast" | "contrast" | "hc" => Ok(ThemeName::HighContrast),
            other => Err(format!(
                "unknown theme `{other}` (try dark, light or high-contrast)"
            )),
        }
    }
}

/// The styles every view draws with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Which theme this is.
    pub name: ThemeName,
    /// Background and text of every pane.
    pub base: Style,
    /// Borders of panes without focus.
    pub border: Style,
    /// Border and title of the focused pane.
    pub focus: Style,
    /// Secondary text: times, separators, hints.
    pub dim: Style,
    /// The selected row of a list.
    pub selected: Style,
    /// Unread counts and mentions.
    pub highlight: Style,
    /// Error lines.
    pub error: Style,
    /// Status bar: connected.
    pub ok: Style,
    /// Status bar: reconnecting.
    pub warn: Style,
    /// Status bar base.
    pub status: Style,
    /// Colours of sender names, picked by a hash of the name.
    pub senders: Vec<Color>,
}

impl Theme {
    /// The built-in theme `name`.
    pub fn new(name: ThemeName) -> Theme {
        match name {
            ThemeName::Dark => Theme {
                name,
                base: Style::default().fg(Color::Gray).bg(Color::Black),
                border: Style::default().fg(Color::DarkGray),
                focus: Style::default().fg(Color::Cyan),
                dim: Style::default().fg(Color::DarkGray),
                selected: Style::default()
                    .fg(Color::Black)
                    .bg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                highlight: Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                error: Style::default().fg(Color::LightRed),
                ok: Style::default().fg(Color::LightGreen),
                warn: Style::default().fg(Color::Yellow),
                status: Style::default().fg(Color::White).bg(Color::DarkGray),
                senders: vec![
                    Color::LightCyan,
                    Color::LightGreen,
                    Color::LightMagenta,
                    Color::LightYellow,
                    Color::LightBlue,
                    Color::LightRed,
                    Color::Cyan,
                    Color::Green,
                ],
            },
            ThemeName::Light => Theme {
                name,
                base: Style::default().fg(Color::Black).bg(Color::White),
                border: Style::default().fg(Color::Gray),
                focus: Style::default().fg(Color::Blue),
                dim: Style::default().fg(Color::DarkGray),
                selected: Style::default()
                    .fg(Color::White)
                    .bg(Color::Blue)
                    .add_modifier(Modifier::BOLD),
                highlight: Style::default()
                    .fg(Color::Magenta)
                    .add_modifier(Modifier::BOLD),
                error: Style::default().fg(Color::Red),
                ok: Style::default().fg(Color::Green),
                warn: Style::default().fg(Color::Rgb(160, 90, 0)),
                status: Style::default().fg(Color::Black).bg(Color::Gray),
                senders: vec![
                    Color::Blue,
                    Color::Red,
                    Color::Magenta,
                    Color::Rgb(0, 120, 0),
                    Color::Rgb(140, 70, 0),
                    Color::Rgb(0, 100, 140),
                ],
            },
            ThemeName::HighContrast => Theme {
                name,
                base: Style::default().fg(Color::White).bg(Color::Black),
                border: Style::default().fg(Color::White),
                focus: Style::default()
                    .fg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
                dim: Style::default().fg(Color::White),
                selected: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
                highlight: Style::default()
                    .fg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                error: Style::default()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
                ok: Style::default()
                    .fg(Color::LightGreen)
                    .add_modifier(Modifier::BOLD),
                warn: Style::default()
                    .fg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
                status: Style::default()
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::BOLD),
                senders: vec![Color::White, Color::LightYellow, Color::LightCyan],
            },
        }
    }

    /// The colour of `sender`'s name: stable for a name, spread over the palette.
    pub fn sender(&self, sender: &str) -> Style {
        // FNV-1a: stable across runs and platforms, unlike the std hasher.
        let mut h: u32 = 0x811c_9dc5;
        for b in sender.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        let color = self.senders[h as usize % self.senders.len()];
        Style::default().fg(color).add_modifier(Modifier::BOLD)
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::new(ThemeName::Dark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_cycle() {
        for t in ThemeName::ALL {
            assert_eq!(t.as_str().parse::<ThemeName>(), Ok(t));
        }
        assert_eq!(ThemeName::Dark.next(), ThemeName::Light);
        assert_eq!(ThemeName::HighContrast.next(), ThemeName::Dark);
        assert!("neon".parse::<ThemeName>().is_err());
    }

    #[test]
    fn sender_colours_are_stable() {
        let t = Theme::default();
        assert_eq!(t.sender("ann"), t.sender("ann"));
        let distinct: std::collections::HashSet<_> = ["ann", "bob", "cy", "dee", "eve"]
            .iter()
            .map(|n| t.sender(n).fg)
            .collect();
        assert!(distinct.len() > 1);
    }
}
