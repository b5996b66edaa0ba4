//! The saved account session: the refresh token of the last `/login` or `/register`, kept in
//! `$XDG_CONFIG_HOME/chatcore/tui-session.json` (usually `~/.config/chatcore/`) with mode
//! 0600, so a later `chat-tui --login NAME` against the same server signs in without asking
//! for the password. `/logout` deletes it. The access token is never written: it lives
//! 15 minutes and is refreshed from this file's token.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the session file holds.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// The server it was made for (the `--server` URL).
    pub server: String,
    /// The account's name, as registered.
    pub user: String,
    /// The refresh token (`POST /api/refresh`); each use replaces it.
    pub refresh_token: String,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Saved")
            .field("server", &self.server)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// `$XDG_CONFIG_HOME/chatcore/tui-session.json`, when the platform has a config directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("chatcore").join("tui-session.json"))
}

/// The session saved at `path` for `server` and `user` (any case), if there is one.
pub fn load(path: &Path, server: &str, user: &str) -> Option<Saved> {
    let text = std::fs::read_to_string(path).ok()?;
    let saved: Saved = serde_json::from_str(&text).ok()?;
    (saved.server == server && saved.user.to_lowercase() == user.to_lowercase()).then_some(saved)
}

/// Writes `saved` to `path` with mode 0600 (tightening an older file first).
pub fn save(path: &Path, saved: &Saved) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let text = serde_json::to_string(saved).map_err(std::io::Error::other)?;
    options.open(path)?.write_all(text.as_bytes())
}

/// Deletes the file at `path`; a file that is not there is fine.
pub fn remove(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_with_mode_0600_loaded_for_its_server_and_user_removed() {
        let dir = std::env::temp_dir().join(format!("chat-tui-session-{}", std::process::id()));
        let path = dir.join("chatcore").join("tui-session.json");
        let saved = Saved {
            server: "http://127.0.0.1:1".into(),
            user: "Ann".into(),
            refresh_token: "r".repeat(43),
        };
        save(&path, &saved).expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load(&path, "http://127.0.0.1:1", "ann"), Some(saved));
        assert_eq!(load(&path, "http://127.0.0.1:2", "ann"), None);
        assert_eq!(load(&path, "http://127.0.0.1:1", "bob"), None);
        assert!(!format!("{:?}", load(&path, "http://127.0.0.1:1", "ann")).contains("rrrr"));
        remove(&path).expect("remove");
        remove(&path).expect("removing twice is fine");
        assert_eq!(load(&path, "http://127.0.0.1:1", "ann"), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
