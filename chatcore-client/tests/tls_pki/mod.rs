//! A throwaway PKI for the TLS tests, made fresh by each test: a CA, a server certificate it
//! signs for `localhost` and `127.0.0.1`, and an unrelated CA that signed nothing here, all
//! as PEM files in a temporary directory. `examples/tests/tls.rs` and
//! `chatcore-transport-ws/tests/tls.rs` include this file too.

#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

use std::path::PathBuf;
use std::sync::Arc;

use chatcore_transport_ws::rustls;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The files and keys of one test PKI; the directory goes when it is dropped.
pub struct Pki {
    _dir: tempfile::TempDir,
    /// PEM of the CA that signed the server's certificate.
    pub ca_file: PathBuf,
    /// PEM of a CA that signed nothing the server presents.
    pub other_ca_file: PathBuf,
    /// PEM of the server's certificate chain (the leaf, then the CA).
    pub cert_file: PathBuf,
    /// PEM (PKCS#8) of the server's private key.
    pub key_file: PathBuf,
    /// The server's chain, leaf first; its last certificate is the CA's.
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (ca, ca_key, ca_params) = new_ca("chatcore test CA");
        let (other, _, _) = new_ca("unrelated test CA");
        let server_key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "chatcore test server");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf = params.signed_by(&server_key, &issuer).expect("sign");
        let write = |name: &str, pem: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write PEM");
            path
        };
        Self {
            ca_file: write("ca.pem", ca.pem()),
            other_ca_file: write("other-ca.pem", other.pem()),
            cert_file: write("server.pem", format!("{}{}", leaf.pem(), ca.pem())),
            key_file: write("server-key.pem", server_key.serialize_pem()),
            chain: vec![leaf.der().clone(), ca.der().clone()],
            key: server_key.serialize_der(),
            _dir: dir,
        }
    }

    /// A client configuration trusting only the test CA (HTTP/1.1 only).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for ca in self.chain.iter().skip(1) {
            roots.add(ca.clone()).expect("the test CA");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// A server configuration presenting the server's certificate (HTTP/1.1 only).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("server certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// A self-signed CA certificate, its key, and its parameters (to issue with).
fn new_ca(name: &str) -> (rcgen::Certificate, KeyPair, CertificateParams) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("self-sign");
    (cert, key, params)
}
