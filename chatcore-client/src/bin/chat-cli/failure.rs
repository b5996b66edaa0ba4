//! Why a command failed, and the exit code and error line that say so.

use std::process::ExitCode;

use chatcore_client::{DisconnectReason, Error};

/// Why the command failed, and so which exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage (exit 2).
    Usage(String),
    /// A client error (exit by class).
    Client(Error),
    /// A local I/O failure (exit 1).
    Io(String),
    /// Stdout was closed by its reader: stop quietly (exit 0).
    StdoutClosed,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Client(e)
    }
}

pub(crate) type Outcome = Result<(), Failure>;

pub(crate) fn fail(failure: Failure) -> ExitCode {
    let (code, text) = match failure {
        Failure::Usage(m) => (2, m),
        Failure::Io(m) => (1, m),
        Failure::StdoutClosed => (0, String::new()),
        Failure::Client(e) => (exit_code(&e), explain(&e)),
    };
    if !text.is_empty() {
        eprintln!("chat-cli: error: {text}");
    }
    ExitCode::from(code)
}

/// The line printed for a client error: what went wrong, and for a refused certificate what
/// to do about it.
fn explain(e: &Error) -> String {
    match e {
        Error::Disconnected(DisconnectReason::GaveUp(inner)) => explain(inner),
        Error::Tls {
            reason,
            certificate: true,
            ..
        } => format!("TLS: {reason}; pass --ca-file (CHATCORE_CA_FILE) with the CA that signed it"),
        Error::Tls { url, reason, .. } => {
            format!("TLS: {reason}; is {url} a TLS server? (use http:// or ws:// if it is not)")
        }
        other => other.to_string(),
    }
}

/// The documented exit code of a client error.
fn exit_code(e: &Error) -> u8 {
    if let Error::Disconnected(DisconnectReason::GaveUp(inner)) = e {
        return exit_code(inner);
    }
    if e.is_auth() {
        return 4;
    }
    if e.is_connection() || matches!(e, Error::Closed) {
        return 3;
    }
    match e {
        Error::Config(_) | Error::Invalid(_) => 2,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&Error::Unauthorized("x".into())), 4);
        let unreachable = Error::Connect {
            url: "u".into(),
            reason: "r".into(),
        };
        assert_eq!(exit_code(&unreachable), 3);
        let server = Error::Server {
            code: chatcore_client::ErrorCode::UnknownRoom,
            message: "m".into(),
        };
        assert_eq!(exit_code(&server), 5);
        assert_eq!(exit_code(&Error::Invalid("blank".into())), 2);
        let gave_up = Error::Disconnected(DisconnectReason::GaveUp(Box::new(Error::Unauthorized(
            "x".into(),
        ))));
        assert_eq!(exit_code(&gave_up), 4);
        let untrusted = Error::Tls {
            url: "wss://h/ws".into(),
            reason: "the server's certificate is not trusted (UnknownIssuer)".into(),
            certificate: true,
        };
        assert_eq!(exit_code(&untrusted), 3);
        assert_eq!(
            explain(&untrusted),
            "TLS: the server's certificate is not trusted (UnknownIssuer); pass --ca-file \
             (CHATCORE_CA_FILE) with the CA that signed it"
        );
    }
}
