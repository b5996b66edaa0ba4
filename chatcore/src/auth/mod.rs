//! Who is connecting: the [`Authenticator`] trait, guests, and JWT sessions.

mod authenticator;
#[cfg(feature = "jwt")]
mod jwt;

pub use authenticator::{Authenticator, Credentials, GuestAuthenticator, Identity};
#[cfg(feature = "jwt")]
pub use jwt::JwtAuthenticator;
