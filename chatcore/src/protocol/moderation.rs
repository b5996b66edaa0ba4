//! Roles in a room and the details a moderation event carries.

use serde::{Deserialize, Serialize};

/// A member's role in a room, ordered from least to most authority: nobody acts on a member
/// of equal or higher role, and only the owner may transfer ownership.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// An ordinary member.
    #[default]
    Member,
    /// May kick and mute members and set the topic.
    Moderator,
    /// May also ban, invite to a private room and promote up to moderator.
    Admin,
    /// Owns the room; may do everything, including deleting it and transferring ownership.
    Owner,
}

impl Role {
    /// Stable stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses a stored name (unknown names read as [`Role::Member`], the least authority).
    pub fn from_name(name: &str) -> Self {
        match name {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "moderator" => Role::Moderator,
            _ => Role::Member,
        }
    }
}

/// A durable membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// When the membership began, milliseconds since the Unix epoch.
    pub joined: i64,
}

/// What a moderation event did, beyond its [`MessageKind`](super::MessageKind): carried in
/// [`Message::moderation`](super::Message::moderation) of the events `invite`, `kick`, `ban`,
/// `unban`, `mute`, `unmute`, `role` and `topic` (see `PROTOCOL.md`, "Room events"). The
/// event's `sender` is who acted; its `text` is a readable line ("ann kicked bob: spam") that
/// a client which does not know the kind shows as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Moderation {
    /// Whom the action was on (absent for `topic`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The reason the actor gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When a timed `ban` or `mute` ends, milliseconds since the Unix epoch (absent: until
    /// lifted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// The user's new role, for `role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

impl Moderation {
    /// Details of an action on `user`.
    pub fn on(user: impl Into<String>) -> Self {
        Self {
            user: Some(user.into()),
            ..Self::default()
        }
    }

    /// With a reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Ending at `until` (ms since the Unix epoch).
    pub fn until(mut self, until: i64) -> Self {
        self.until = Some(until);
        self
    }

    /// With the user's new role.
    pub fn role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_authority_and_round_trip_by_name() {
        let all = [Role::Member, Role::Moderator, Role::Admin, Role::Owner];
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for role in all {
            assert_eq!(Role::from_name(role.as_str()), role);
        }
        assert_eq!(Role::from_name("emperor"), Role::Member);
    }

    #[test]
    fn moderation_details_skip_what_is_absent() {
        let ban = Moderation::on("bob").reason("spam").until(1_000);
        assert_eq!(
            serde_json::to_value(&ban).expect("encode"),
            serde_json::json!({"user": "bob", "reason": "spam", "until": 1000})
        );
        let back: Moderation =
            serde_json::from_str(r#"{"user":"bob","role":"admin","later":1}"#).expect("decode");
        assert_eq!(back, Moderation::on("bob").role(Role::Admin));
    }
}
