//! `chat-cli register` / `login`: an account's session, kept in the XDG config directory
//! (`$XDG_CONFIG_HOME/chatcore/session.json`, else `~/.config/chatcore/session.json`) with
//! mode 0600, and used as the identity of later commands against the same server when no
//! `--token` or `--user` is given.

use std::io::Write;
use std::path::PathBuf;

use chatcore_client::{RestClient, SessionGrant};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncBufReadExt;

use crate::failure::Failure;

/// What the session file holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct Saved {
    /// The `--server` it was made for.
    pub(crate) server: String,
    /// The account's name.
    pub(crate) user: String,
    /// The access token.
    pub(crate) access_token: String,
    /// The refresh token.
    pub(crate) refresh_token: String,
}

/// The session file's path, when the platform has a config directory.
pub(crate) fn path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("chatcore").join("session.json"))
}

/// The saved session for `server`, if there is one.
pub(crate) fn load(server: &str) -> Option<Saved> {
    let text = std::fs::read_to_string(path()?).ok()?;
    let saved: Saved = serde_json::from_str(&text).ok()?;
    (saved.server == server).then_some(saved)
}

/// Reads the password: the first line of standard input.
pub(crate) async fn read_password() -> Result<String, Failure> {
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .map_err(|e| Failure::Io(format!("reading the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(Failure::Usage(
            "the password is the first line of standard input, and it is empty".into(),
        ));
    }
    Ok(password)
}

/// `register` (`create`) or `login` of `user` on `rest`, then saves the session for `server`.
pub(crate) async fn sign_in(
    rest: RestClient,
    server: &str,
    user: &str,
    create: bool,
) -> Result<(SessionGrant, PathBuf), Failure> {
    let password = read_password().await?;
    let grant = if create {
        rest.register(user, &password).await?
    } else {
        rest.login(user, &password).await?
    };
    let saved = Saved {
        server: server.to_owned(),
        user: grant.user.clone(),
        access_token: grant.access_token.clone(),
        refresh_token: grant.refresh_token.clone(),
    };
    let path = save(&saved)?;
    Ok((grant, path))
}

fn save(saved: &Saved) -> Result<PathBuf, Failure> {
    let path =
        path().ok_or_else(|| Failure::Io("no config directory to keep the session in".into()))?;
    let io =
        |e: std::io::Error| Failure::Io(format!("saving the session to {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An older file keeps its mode on open: tighten it first.
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    let mut file = options.open(&path).map_err(io)?;
    let text = serde_json::to_string(saved).map_err(|e| Failure::Io(e.to_string()))?;
    file.write_all(text.as_bytes()).map_err(io)?;
    Ok(path)
}
