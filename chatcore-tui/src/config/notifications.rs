//! [`Notifications`]: how mentions and direct messages get your attention.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How mentions and direct messages get your attention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notifications {
    /// The terminal bell (BEL). The default, because it works in every terminal and over SSH.
    #[default]
    Bell,
    /// A desktop notification (with the `desktop-notify` feature; falls back to the bell when
    /// there is no notification service or the feature is off).
    Desktop,
    /// Nothing.
    Off,
}

impl Notifications {
    /// The next setting (wrapping), for the settings view.
    pub fn next(self) -> Notifications {
        match self {
            Notifications::Bell => Notifications::Desktop,
            Notifications::Desktop => Notifications::Off,
            Notifications::Off => Notifications::Bell,
        }
    }

    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Notifications::Bell => "bell",
            Notifications::Desktop => "desktop",
            Notifications::Off => "off",
        }
    }
}

impl fmt::Display for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Notifications {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bell" => Ok(Notifications::Bell),
            "desktop" => Ok(Notifications::Desktop),
            "off" | "none" => Ok(Notifications::Off),
            other => Err(format!(
                "unknown notification setting `{other}` (bell, desktop or off)"
            )),
        }
    }
}
