//! The TLS roots of `https://` and `wss://` connections: the Mozilla roots of `webpki-roots`
//! plus the CA certificates of an optional PEM file, in one `rustls` configuration that the
//! WebSocket and the REST client share; and a failure to reach a server, told apart as a TLS
//! failure ([`Error::Tls`]) or another ([`Error::Connect`]).

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::ClientConfig as RustlsConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, RootCertStore};

use crate::{Error, Result};

/// The roots a client trusts: the default ones, and those of [`TlsRoots::ca_file`].
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsRoots {
    /// The PEM file the extra CA certificates came from, for [`ClientConfig::ca_file`](crate::ClientConfig::ca_file).
    ca_file: Option<PathBuf>,
    /// Its certificates, read and checked once, when the file was given.
    extra: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsRoots")
            .field("ca_file", &self.ca_file)
            .field("extra_certificates", &self.extra.len())
            .finish()
    }
}

impl TlsRoots {
    /// The default roots plus the CA certificates of the PEM file at `path`. The file must
    /// hold at least one certificate, and each must be usable as a trust anchor.
    pub(crate) fn with_ca_file(path: PathBuf) -> Result<Self> {
        let shown = path.display();
        let pem = std::fs::read(&path)
            .map_err(|e| Error::Config(format!("cannot read the CA file {shown}: {e}")))?;
        let extra = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::Config(format!(
                    "the CA file {shown} is not a PEM file of certificates: {e}"
                ))
            })?;
        if extra.is_empty() {
            return Err(Error::Config(format!(
                "the CA file {shown} holds no certificate (expected -----BEGIN CERTIFICATE-----)"
            )));
        }
        let mut check = RootCertStore::empty();
        for (n, cert) in extra.iter().enumerate() {
            check.add(cert.clone()).map_err(|e| {
                Error::Config(format!(
                    "certificate {} of the CA file {shown} is unusable: {e}",
                    n + 1
                ))
            })?;
        }
        Ok(Self {
            ca_file: Some(path),
            extra,
        })
    }

    /// The PEM file of extra CA certificates, if one was given.
    pub(crate) fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// A `rustls` client configuration trusting these roots, with the process's crypto
    /// provider ([`provider`]). No ALPN: both the WebSocket upgrade and the REST calls speak
    /// HTTP/1.1.
    pub(crate) fn rustls_config(&self) -> Result<RustlsConfig> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // Each was checked when the file was read.
        roots.add_parsable_certificates(self.extra.iter().cloned());
        let config = RustlsConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS set-up failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(config)
    }
}

/// The crypto provider of every TLS connection: the one the application installed as the
/// process default, or else ring, installed as that default here so no other `rustls` user
/// in the process can fail for lack of one.
fn provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    // Loses only to a concurrent install, whose provider is then used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    CryptoProvider::get_default()
        .map(Arc::clone)
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// What went wrong with TLS, when `e` (or an error it wraps) is a `rustls` error: a sentence
/// for people, and whether it is the server's certificate that was refused.
pub(crate) fn tls_failure(e: &(dyn StdError + 'static)) -> Option<(String, bool)> {
    let mut next = Some(e);
    while let Some(e) = next {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn StdError + 'static));
        if let Some(rustls) = e
            .downcast_ref::<rustls::Error>()
            .or_else(|| inner.and_then(|i| i.downcast_ref::<rustls::Error>()))
        {
            return Some(describe(rustls));
        }
        next = inner.or_else(|| e.source());
    }
    None
}

fn describe(e: &rustls::Error) -> (String, bool) {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return (format!("the TLS handshake failed ({e})"), false);
    };
    let why = match cert {
        CertificateError::UnknownIssuer => {
            "the server's certificate is not trusted (UnknownIssuer)".to_owned()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "the server's certificate is not valid for this host name (NotValidForName)".to_owned()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the server's certificate has expired (Expired)".to_owned()
        }
        other => format!("the server's certificate was refused ({other:?})"),
    };
    (why, true)
}

impl Error {
    /// A failure to reach `url`: [`Error::Tls`] when TLS is what failed (found anywhere in
    /// `e`'s chain of sources), [`Error::Connect`] otherwise.
    pub(crate) fn unreachable(url: &str, e: &(dyn StdError + 'static)) -> Self {
        match tls_failure(e) {
            Some((reason, certificate)) => Error::Tls {
                url: url.to_owned(),
                reason,
                certificate,
            },
            None => Error::Connect {
                url: url.to_owned(),
                reason: with_causes(e),
            },
        }
    }
}

/// `e` and the causes it wraps, each said once: HTTP clients often say only "error sending
/// request" and keep the useful part ("Connection refused") in a source.
fn with_causes(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_are_found_inside_io_errors() {
        let rustls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls);
        let (why, certificate) = tls_failure(&io).expect("a TLS failure");
        assert!(certificate);
        assert_eq!(
            why,
            "the server's certificate is not trusted (UnknownIssuer)"
        );
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(tls_failure(&plain), None);
    }

    #[test]
    fn protocol_failures_are_not_certificate_failures() {
        let e = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let (why, certificate) = tls_failure(&e).expect("a TLS failure");
        assert!(!certificate);
        assert!(why.starts_with("the TLS handshake failed"), "{why}");
    }

    #[test]
    fn connect_errors_say_their_causes_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = Error::unreachable("http://h/api/rooms", &io);
        assert_eq!(
            e,
            Error::Connect {
                url: "http://h/api/rooms".into(),
                reason: "Connection refused".into()
            }
        );
        #[derive(Debug, thiserror::Error)]
        #[error("error sending request")]
        struct Outer(#[source] std::io::Error);
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = Error::unreachable("u", &Outer(refused));
        assert!(
            e.to_string().ends_with("error sending request: refused"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_ca_file_is_named() {
        let dir = std::env::temp_dir().join(format!("chatcore-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let missing = dir.join("missing.pem");
        let e = TlsRoots::with_ca_file(missing.clone()).expect_err("missing");
        assert!(
            e.to_string().contains(&missing.display().to_string()),
            "{e}"
        );
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = TlsRoots::with_ca_file(empty.clone()).expect_err("empty");
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        let garbage = dir.join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let e = TlsRoots::with_ca_file(garbage).expect_err("garbage");
        assert!(matches!(e, Error::Config(_)), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_default_roots_build_a_config() {
        let roots = TlsRoots::default();
        assert_eq!(roots.ca_file(), None);
        assert!(roots.rustls_config().is_ok());
    }
}
