//! The records the [`Accounts`](super::Accounts) capability stores and returns.

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountRecord {
    /// The name as registered (its display form); what the user is called in chat.
    pub name: String,
    /// [`name_key`](super::name_key) of the name: what uniqueness and look-ups compare.
    pub key: String,
    /// The password's argon2 hash (a PHC string).
    pub password_hash: String,
    /// A server admin.
    pub admin: bool,
    /// When it was created, milliseconds since the Unix epoch.
    pub created: i64,
}

impl AccountRecord {
    /// A record as a store read it.
    pub fn new(
        name: impl Into<String>,
        key: impl Into<String>,
        password_hash: impl Into<String>,
        admin: bool,
        created: i64,
    ) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
            password_hash: password_hash.into(),
            admin,
            created,
        }
    }
}

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewAccount {
    /// The display name (already validated as a user name).
    pub name: String,
    /// The password's argon2 hash.
    pub password_hash: String,
    /// A server admin from the start (only the command line creates those).
    pub admin: bool,
    /// Milliseconds since the Unix epoch.
    pub created: i64,
}

impl NewAccount {
    /// A non-admin account created now.
    pub fn new(name: impl Into<String>, password_hash: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            password_hash: password_hash.into(),
            admin: false,
            created: crate::now_millis(),
        }
    }

    /// The same account, with the admin flag.
    pub fn with_admin(mut self, admin: bool) -> Self {
        self.admin = admin;
        self
    }
}

/// What [`Accounts::create_account`](super::Accounts::create_account) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The account exists now (and the invite, if one was given, is used up).
    Created(AccountRecord),
    /// An account with the same [`name_key`](super::name_key) exists; nothing changed.
    NameTaken,
    /// The invite code is unknown, used or expired; nothing changed.
    BadInvite,
}

/// A session: one login and every refresh token rotated from it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FamilyRecord {
    /// Its id (carried in access tokens as the `sid` claim).
    pub id: String,
    /// [`name_key`](super::name_key) of its account.
    pub account: String,
    /// Revoked: logout, password change, reuse of a rotated token.
    pub revoked: bool,
}

impl FamilyRecord {
    /// A session as a store read it.
    pub fn new(id: impl Into<String>, account: impl Into<String>, revoked: bool) -> Self {
        Self {
            id: id.into(),
            account: account.into(),
            revoked,
        }
    }
}

/// A refresh token to store: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewRefresh {
    /// A hash of the token (the store compares it exactly).
    pub hash: String,
    /// The session it belongs to.
    pub family: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires: i64,
}

impl NewRefresh {
    /// A refresh token of `family`, by its hash.
    pub fn new(hash: impl Into<String>, family: impl Into<String>, expires: i64) -> Self {
        Self {
            hash: hash.into(),
            family: family.into(),
            expires,
        }
    }
}

/// What [`Accounts::rotate_refresh`](super::Accounts::rotate_refresh) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is used up and the new one stored, in the same session.
    Rotated(FamilyRecord),
    /// No such token (never issued, or its account was deleted).
    Unknown,
    /// The token had expired, or its session was revoked; nothing changed.
    Expired,
    /// The token was already used: it was stolen or replayed, so its whole session is
    /// revoked now.
    Reused(FamilyRecord),
}

/// An invite code to store: only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewInvite {
    /// A hash of the code.
    pub hash: String,
    /// [`name_key`](super::name_key) of the admin who made it.
    pub created_by: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires: i64,
}

impl NewInvite {
    /// An invite by its hash.
    pub fn new(hash: impl Into<String>, created_by: impl Into<String>, expires: i64) -> Self {
        Self {
            hash: hash.into(),
            created_by: created_by.into(),
            expires,
        }
    }
}
