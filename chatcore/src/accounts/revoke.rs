//! [`Revoked`]: which live sockets of an account a sign-out closes, the same rule on every
//! node of a fleet.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{FAMILY_CLAIM, name_key};
use crate::auth::Identity;

/// Which live sockets of one account a revocation closes ([`Hub::revoke`]). A socket belongs
/// to the account when its user name has the account's [`name_key`]; it belongs to an
/// account session when its token carried that session's [`FAMILY_CLAIM`].
///
/// [`Hub::revoke`]: crate::Hub::revoke
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revoked {
    /// Sockets under the account's name without an account session (guests'): the name has
    /// just been registered.
    Guests,
    /// The sockets of one account session (a logout, or a refresh token used twice).
    Session(String),
    /// Every socket of every account session (a logout everywhere, the account deleted).
    AllSessions,
    /// Every account-session socket except this session's (a password change keeps the
    /// session that made it).
    AllBut(String),
}

impl Revoked {
    /// Whether a revocation of the account keyed `account` closes the socket of `identity`.
    pub fn picks(&self, account: &str, identity: &Identity) -> bool {
        if name_key(&identity.user) != account {
            return false;
        }
        let session = identity.claim(FAMILY_CLAIM).and_then(Value::as_str);
        match self {
            Revoked::Guests => session.is_none(),
            Revoked::Session(s) => session == Some(s.as_str()),
            Revoked::AllSessions => session.is_some(),
            Revoked::AllBut(s) => session.is_some_and(|other| other != s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(user: &str, session: Option<&str>) -> Identity {
        let mut claims = serde_json::Map::new();
        if let Some(s) = session {
            claims.insert(FAMILY_CLAIM.into(), s.into());
        }
        Identity::new(user).with_claims(claims)
    }

    #[test]
    fn each_revocation_picks_its_sockets_of_its_account_only() {
        let key = name_key("Ann");
        let guest = socket("ann", None);
        let one = socket("Ann", Some("s1"));
        let two = socket("ANN", Some("s2"));
        let bob = socket("bob", Some("s1"));
        let picked = |r: &Revoked| {
            [&guest, &one, &two, &bob]
                .iter()
                .map(|i| r.picks(&key, i))
                .collect::<Vec<_>>()
        };
        assert_eq!(picked(&Revoked::Guests), [true, false, false, false]);
        assert_eq!(
            picked(&Revoked::Session("s1".into())),
            [false, true, false, false]
        );
        assert_eq!(picked(&Revoked::AllSessions), [false, true, true, false]);
        assert_eq!(
            picked(&Revoked::AllBut("s1".into())),
            [false, false, true, false]
        );
    }
}
