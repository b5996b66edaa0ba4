//! Which [`Credentials`] a client presented, decided the same way on every transport.

use crate::auth::Credentials;
use crate::{Error, Result};

/// How a client presents credentials on one transport, for refusals a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialHints {
    /// How to present a token, e.g. ``"`Authorization: Bearer …` or `?token=…`"``.
    pub token: &'static str,
    /// How to pick a guest name, e.g. ``"`?user=NAME`"``.
    pub guest: &'static str,
}

/// The credentials of a handshake: a non-empty `token` wins, else a guest name when the hub
/// lets guests in (`guests`). Refusals are [`Error::Unauthorized`] saying what to present,
/// worded with `hints`.
pub fn choose_credentials(
    token: Option<String>,
    guest: Option<String>,
    guests: bool,
    hints: &CredentialHints,
) -> Result<Credentials> {
    if let Some(token) = token.filter(|t| !t.is_empty()) {
        return Ok(Credentials::Token(token));
    }
    let refusal = match guest {
        Some(user) if guests => return Ok(Credentials::Guest(user)),
        Some(_) => format!(
            "guests are not allowed on this server; present a token ({})",
            hints.token
        ),
        None if guests => format!(
            "missing credentials: pick a name with {}, or present a token ({})",
            hints.guest, hints.token
        ),
        None => format!("missing credentials: present a token ({})", hints.token),
    };
    Err(Error::Unauthorized(refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: CredentialHints = CredentialHints {
        token: "`token`",
        guest: "`user`",
    };

    fn refusal(token: Option<&str>, guest: Option<&str>, guests: bool) -> String {
        match choose_credentials(token.map(Into::into), guest.map(Into::into), guests, &HINTS) {
            Err(Error::Unauthorized(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_token_wins_then_a_guest_when_allowed() {
        let both = choose_credentials(Some("t".into()), Some("ann".into()), true, &HINTS);
        assert_eq!(both.ok(), Some(Credentials::Token("t".into())));
        let guest = choose_credentials(Some(String::new()), Some("ann".into()), true, &HINTS);
        assert_eq!(guest.ok(), Some(Credentials::Guest("ann".into())));
    }

    #[test]
    fn refusals_say_what_to_present() {
        assert!(refusal(None, Some("ann"), false).contains("guests are not allowed"));
        let m = refusal(None, None, true);
        assert!(m.contains("`user`") && m.contains("`token`"), "{m}");
        let m = refusal(None, None, false);
        assert!(!m.contains("`user`") && m.contains("`token`"), "{m}");
    }
}
