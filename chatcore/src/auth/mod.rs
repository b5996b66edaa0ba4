//! Who is connecting: the [`Authenticator`] trait, guests, and JWT sessions (a shared
//! secret, or an identity provider's JWKS).

mod authenticator;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(feature = "jwt")]
mod keys;

pub use authenticator::{Authenticator, Credentials, GuestAuthenticator, Identity};
#[cfg(feature = "jwt")]
pub use jwt::JwtAuthenticator;
