//! The HTTPS side of the identity server. `azure_identity` refuses an authority host that is not
//! `https://`, so the Entra ID endpoint must be reachable over TLS: at start the server makes a
//! throw-away CA and a leaf certificate for `127.0.0.1`/`localhost` signed by it (rcgen), serves
//! with rustls, and hands out the CA certificate so that clients can be told to trust it.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

/// Why the TLS material could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen failed to generate a key or certificate.
    #[error("could not generate the test certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the generated certificate or key.
    #[error("could not configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A generated CA and a server configuration presenting a leaf certificate it signed.
pub(crate) struct TlsMaterial {
    /// The CA certificate (DER) clients must trust.
    pub ca_der: Vec<u8>,
    /// The CA certificate (PEM), for clients configured with a file or string.
    pub ca_pem: String,
    /// The acceptor serving the leaf certificate.
    pub acceptor: tokio_rustls::TlsAcceptor,
}

/// A generated CA and a leaf certificate for `127.0.0.1` and `localhost`, as PEM: for
/// servers that are not rustls (the SMTP server, run by Python).
pub struct TestCertificates {
    /// The CA certificate clients must trust.
    pub ca_pem: String,
    /// The leaf certificate.
    pub cert_pem: String,
    /// The leaf's private key (PKCS#8).
    pub key_pem: String,
}

/// Generates a CA and a leaf for `127.0.0.1` and `localhost`, as PEM.
pub fn certificates() -> Result<TestCertificates, TlsError> {
    let (ca, leaf, key) = ca_and_leaf()?;
    Ok(TestCertificates {
        ca_pem: ca.pem(),
        cert_pem: leaf.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn ca_and_leaf() -> Result<
    (
        CertifiedIssuer<'static, KeyPair>,
        rcgen::Certificate,
        KeyPair,
    ),
    TlsError,
> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "iotc-adx testkit identity CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;
    Ok((ca, leaf, leaf_key))
}

/// Generates a CA and a leaf for `127.0.0.1` and `localhost`, and a rustls acceptor using it.
pub(crate) fn generate() -> Result<TlsMaterial, TlsError> {
    let (ca, leaf, leaf_key) = ca_and_leaf()?;
    let chain = vec![
        CertificateDer::from(leaf.der().to_vec()),
        CertificateDer::from(ca.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_der: ca.der().to_vec(),
        ca_pem: ca.pem(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    })
}
