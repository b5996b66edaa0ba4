//! Accounts: registered users with a password, their sessions (refresh-token families), the
//! server-admin flag and invite codes.
//!
//! [`Accounts`] is a store capability of its own, beside the message [`Store`](crate::store::Store):
//! an embedder that brings its own identity never needs it. [`MemoryAccounts`] keeps them in
//! process memory; `chatcore-store-sqlite` and `chatcore-store-postgres` keep them in their
//! databases. Every implementation passes the same contract suite
//! (`chatcore::accounts_contract_tests!`, feature `test-support`).
//!
//! The store never sees a secret: passwords arrive as argon2 PHC strings, refresh tokens and
//! invite codes as hashes (the HTTP layer makes them). [`AccountAuthenticator`] is the
//! [`Authenticator`](crate::auth::Authenticator) that makes account sessions revocable.

mod authenticator;
mod backend;
mod memory;
mod name;
mod revoke;
mod types;

pub use authenticator::{ADMIN_CLAIM, AccountAuthenticator, FAMILY_CLAIM, is_server_admin};
pub use backend::Accounts;
pub use memory::MemoryAccounts;
pub use name::name_key;
pub use revoke::Revoked;
pub use types::{
    AccountRecord, Created, FamilyRecord, NewAccount, NewInvite, NewRefresh, Rotation,
};
