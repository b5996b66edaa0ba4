//! `--tls-cert FILE --tls-key FILE`: `chat-server` terminating TLS itself with rustls (the
//! ring provider), serving the same router, with the same graceful shutdown and connection
//! cap, through a [`TlsListener`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chatcore_transport_ws::TlsListener;
use chatcore_transport_ws::rustls::ServerConfig;
use chatcore_transport_ws::rustls::crypto::ring;
use chatcore_transport_ws::rustls::pki_types::pem::PemObject;
use chatcore_transport_ws::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use crate::error::{Result, StartupError};

/// What `chat-server` needs to terminate TLS: the certificate chain and key of
/// `--tls-cert`/`--tls-key`, read and checked at start-up.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The certificate file, for the start-up log.
    pub cert_file: PathBuf,
    /// The rustls configuration built from both files (HTTP/1.1 only, because the
    /// WebSocket upgrade is an HTTP/1.1 request).
    config: Arc<ServerConfig>,
}

impl ServerTls {
    /// The TLS settings of the two flags: both (TLS), or neither (plain HTTP).
    pub fn from_flags(cert: Option<&Path>, key: Option<&Path>) -> Result<Option<Self>> {
        match (cert, key) {
            (Some(cert), Some(key)) => Self::load(cert, key).map(Some),
            (None, None) => Ok(None),
            _ => Err(StartupError::Config(
                "--tls-cert and --tls-key go together: give both to serve HTTPS, or neither \
                 to serve plain HTTP"
                    .into(),
            )),
        }
    }

    /// Reads a PEM certificate chain (leaf first) and the PEM private key that belongs to it.
    pub fn load(cert: &Path, key: &Path) -> Result<Self> {
        let pem = read(cert, "--tls-cert", "the server's certificate chain")?;
        let chain = CertificateDer::pem_slice_iter(&pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(cert, "--tls-cert", &format!("is not valid PEM ({e})")))?;
        if chain.is_empty() {
            return Err(bad(
                cert,
                "--tls-cert",
                "holds no certificate (expected -----BEGIN CERTIFICATE-----); pass the PEM \
                 file of the server's certificate chain",
            ));
        }
        let pem = read(key, "--tls-key", "the private key of --tls-cert")?;
        let private = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
            bad(
                key,
                "--tls-key",
                &format!(
                    "holds no usable private key ({e}); pass the PEM file (PKCS#8, PKCS#1 or \
                     SEC1) of the key of --tls-cert"
                ),
            )
        })?;
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| StartupError::Config(format!("TLS set-up failed: {e}")))?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| {
                StartupError::Config(format!(
                    "--tls-cert {} with --tls-key {}: {e}; pass the key that belongs to the \
                     certificate",
                    cert.display(),
                    key.display()
                ))
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            cert_file: cert.to_owned(),
            config: Arc::new(config),
        })
    }

    /// The same certificate for the TCP transport (`--tcp-listen`, `tcps://`): no ALPN, since
    /// that listener speaks chatcore frames, not HTTP.
    pub fn tcp_config(&self) -> Arc<ServerConfig> {
        let mut config = ServerConfig::clone(&self.config);
        config.alpn_protocols.clear();
        Arc::new(config)
    }

    /// Terminates TLS on `listener`'s connections.
    pub fn listener(&self, listener: TcpListener) -> TlsListener {
        TlsListener::new(listener, Arc::clone(&self.config))
    }
}

fn read(path: &Path, flag: &str, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        bad(
            path,
            flag,
            &format!("cannot be read ({e}); pass the PEM file of {what}"),
        )
    })
}

fn bad(path: &Path, flag: &str, why: &str) -> StartupError {
    StartupError::Config(format!("{flag} {}: {why}", path.display()))
}

/// `url` with `https://` for `http://` when the server speaks TLS.
pub fn scheme(url: String, tls: bool) -> String {
    match url.strip_prefix("http://") {
        Some(rest) if tls => format!("https://{rest}"),
        _ => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_flags_or_neither() {
        assert!(matches!(ServerTls::from_flags(None, None), Ok(None)));
        let one = ServerTls::from_flags(Some(Path::new("cert.pem")), None)
            .expect_err("one flag")
            .to_string();
        assert!(
            one.contains("--tls-cert and --tls-key go together"),
            "{one}"
        );
    }

    #[test]
    fn bad_files_are_named_with_what_to_do() {
        let dir = tempfile::tempdir().expect("dir");
        let missing = dir.path().join("missing.pem");
        let e = ServerTls::load(&missing, &missing)
            .expect_err("missing")
            .to_string();
        assert!(
            e.starts_with("--tls-cert ") && e.contains("missing.pem"),
            "{e}"
        );
        assert!(e.contains("pass the PEM file"), "{e}");
        let text = dir.path().join("text.pem");
        std::fs::write(&text, "hello\n").expect("write");
        let e = ServerTls::load(&text, &text)
            .expect_err("no cert")
            .to_string();
        assert!(e.contains("holds no certificate"), "{e}");
    }

    #[test]
    fn urls_say_https_under_tls() {
        assert_eq!(scheme("http://h:1/".into(), true), "https://h:1/");
        assert_eq!(scheme("http://h:1/".into(), false), "http://h:1/");
    }
}
