//! TLS to the cluster: the rustls client configuration built from the `tls*` settings of the
//! store URI, and the diagnosis of a failed connection, so that a bad CA, a name mismatch or
//! a refused client certificate stops the server at start with an error naming the setting.
//!
//! The driver connects to every node by IP address and verifies the node's certificate for
//! that address; `tls_server_name` replaces the address with one name valid for every node.
//! Private keys are read here and handed to rustls; neither they nor their paths' contents are
//! ever logged.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::config::TlsSettings;

/// Why TLS to the cluster could not be set up. Each names the URI setting to look at.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{setting}: cannot read {}: {source}", path.display())]
    Unreadable {
        setting: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{setting}: {} is not valid PEM: {reason}", path.display())]
    BadPem {
        setting: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{setting}: {} holds no {what}", path.display())]
    Missing {
        setting: &'static str,
        path: PathBuf,
        what: &'static str,
    },
    #[error("tls_ca: certificate {index} of {} is not a usable CA certificate: {reason}", path.display())]
    BadCa {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error(
        "tls=true: no usable system root certificates ({reason}); name a CA bundle with tls_ca"
    )]
    NoSystemRoots { reason: String },
    #[error("tls_key: the key in {} does not belong to the certificate in tls_cert {}, or cannot be used: {reason}", key.display(), cert.display())]
    BadClientKey {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("tls: cannot build the TLS configuration: {0}")]
    Config(String),
    #[error("{setting}: the certificate of node {node} is not trusted by {trust}: {reason}")]
    Untrusted {
        setting: &'static str,
        node: SocketAddr,
        trust: String,
        reason: String,
    },
    #[error(
        "tls_server_name: the certificate of node {node} is not valid for {expected}; set tls_server_name to a name it is valid for ({reason})"
    )]
    NameMismatch {
        node: SocketAddr,
        expected: String,
        reason: String,
    },
    #[error("tls_cert: node {node} refused the client {refused}: {reason}")]
    ClientCertificateRefused {
        node: SocketAddr,
        refused: &'static str,
        reason: String,
    },
    #[error(
        "tls: node {node} does not speak TLS on this port (is client_encryption_options enabled?): {reason}"
    )]
    NotTls { node: SocketAddr, reason: String },
    #[error("tls: the TLS handshake with node {node} failed: {reason}")]
    Handshake { node: SocketAddr, reason: String },
}

/// What went wrong, for callers that match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsErrorKind {
    /// A file named by a setting is unreadable, not PEM, or lacks what it should hold.
    BadFile,
    /// No root certificates to verify the nodes against.
    NoRoots,
    /// The node's certificate does not chain to the trusted roots (or is expired, revoked…).
    Untrusted,
    /// The node's certificate is not valid for the expected name.
    NameMismatch,
    /// The node wanted a client certificate, or refused the one sent.
    ClientCertificateRefused,
    /// The node answered in plain text.
    NotTls,
    /// Any other handshake or configuration failure.
    Other,
}

impl TlsError {
    pub fn kind(&self) -> TlsErrorKind {
        match self {
            TlsError::Unreadable { .. }
            | TlsError::BadPem { .. }
            | TlsError::Missing { .. }
            | TlsError::BadCa { .. }
            | TlsError::BadClientKey { .. } => TlsErrorKind::BadFile,
            TlsError::NoSystemRoots { .. } => TlsErrorKind::NoRoots,
            TlsError::Untrusted { .. } => TlsErrorKind::Untrusted,
            TlsError::NameMismatch { .. } => TlsErrorKind::NameMismatch,
            TlsError::ClientCertificateRefused { .. } => TlsErrorKind::ClientCertificateRefused,
            TlsError::NotTls { .. } => TlsErrorKind::NotTls,
            TlsError::Config(_) | TlsError::Handshake { .. } => TlsErrorKind::Other,
        }
    }

    /// The URI setting the error is about.
    pub fn setting(&self) -> &'static str {
        match self {
            TlsError::Unreadable { setting, .. }
            | TlsError::BadPem { setting, .. }
            | TlsError::Missing { setting, .. }
            | TlsError::Untrusted { setting, .. } => setting,
            TlsError::BadCa { .. } => "tls_ca",
            TlsError::BadClientKey { .. } => "tls_key",
            TlsError::NameMismatch { .. } => "tls_server_name",
            TlsError::ClientCertificateRefused { .. } => "tls_cert",
            TlsError::NoSystemRoots { .. }
            | TlsError::Config(_)
            | TlsError::NotTls { .. }
            | TlsError::Handshake { .. } => "tls",
        }
    }
}

/// Reads the files the settings name and builds the client configuration the driver uses for
/// every connection.
pub fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let roots = Arc::new(root_store(settings)?);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let verifier: Arc<dyn ServerCertVerifier> = match &settings.server_name {
        Some(name) => {
            let name = ServerName::try_from(name.clone()).map_err(|e| {
                TlsError::Config(format!("tls_server_name {name:?} is not a name: {e}"))
            })?;
            Arc::new(FixedNameVerifier {
                inner: webpki,
                name,
            })
        }
        None => webpki,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &settings.client {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let chain = certificates(&identity.cert, "tls_cert")?;
            let key = private_key(&identity.key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::BadClientKey {
                    cert: identity.cert.clone(),
                    key: identity.key.clone(),
                    reason: e.to_string(),
                })?
        }
    };
    Ok(Arc::new(config))
}

/// Connects to `node` as the driver would and says what is wrong with TLS there, if anything:
/// the handshake, then a CQL OPTIONS request, because under TLS 1.3 a refused client
/// certificate shows only when the first answer is read. `None` when TLS works (or the node
/// cannot be reached at all, which is not a TLS problem).
pub async fn diagnose(
    node: SocketAddr,
    config: Arc<ClientConfig>,
    settings: &TlsSettings,
    timeout: Duration,
) -> Option<TlsError> {
    let exchange = async {
        let Ok(tcp) = tokio::net::TcpStream::connect(node).await else {
            return Ok(());
        };
        let connector = tokio_rustls::TlsConnector::from(config);
        let mut tls = connector
            .connect(ServerName::IpAddress(node.ip().into()), tcp)
            .await?;
        // CQL native protocol v4 OPTIONS: version 0x04, flags 0, stream 0, opcode 0x05,
        // empty body.
        tls.write_all(&[0x04, 0, 0, 0, 0x05, 0, 0, 0, 0]).await?;
        tls.flush().await?;
        let mut header = [0u8; 9];
        tls.read_exact(&mut header).await?;
        Ok::<(), io::Error>(())
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(())) | Err(_) => None,
        Ok(Err(error)) => Some(classify(node, &error, settings)),
    }
}

/// Names the cause of a failed TLS exchange with a node.
fn classify(node: SocketAddr, error: &io::Error, settings: &TlsSettings) -> TlsError {
    let reason = error.to_string();
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => TlsError::NameMismatch {
            node,
            expected: settings
                .server_name
                .clone()
                .unwrap_or_else(|| format!("its address {}", node.ip())),
            reason,
        },
        Some(rustls::Error::InvalidCertificate(_)) => {
            let (setting, trust) = match &settings.ca {
                Some(path) => ("tls_ca", format!("the CA bundle {}", path.display())),
                None => ("tls", "the system roots".to_owned()),
            };
            TlsError::Untrusted {
                setting,
                node,
                trust,
                reason,
            }
        }
        Some(rustls::Error::AlertReceived(alert)) if client_certificate_alert(*alert) => {
            TlsError::ClientCertificateRefused {
                node,
                refused: if settings.client.is_some() {
                    "certificate of tls_cert"
                } else {
                    "connection without a certificate; set tls_cert and tls_key"
                },
                reason,
            }
        }
        Some(rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. }) => {
            TlsError::NotTls { node, reason }
        }
        _ => TlsError::Handshake { node, reason },
    }
}

/// Alerts a server sends about the client's certificate (RFC 8446 §6.2).
fn client_certificate_alert(alert: AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
    )
}

fn root_store(settings: &TlsSettings) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match &settings.ca {
        Some(path) => {
            for (index, cert) in certificates(path, "tls_ca")?.into_iter().enumerate() {
                roots.add(cert).map_err(|e| TlsError::BadCa {
                    path: path.clone(),
                    index: index + 1,
                    reason: e.to_string(),
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let reason = match found.errors.first() {
                    Some(error) => error.to_string(),
                    None => "none found".to_owned(),
                };
                return Err(TlsError::NoSystemRoots { reason });
            }
        }
    }
    Ok(roots)
}

fn read(path: &Path, setting: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Unreadable {
        setting,
        path: path.to_owned(),
        source,
    })
}

fn certificates(
    path: &Path,
    setting: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path, setting)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            setting,
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Missing {
            setting,
            path: path.to_owned(),
            what: "CERTIFICATE section",
        });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path, "tls_key")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Missing {
            setting: "tls_key",
            path: path.to_owned(),
            what: "unencrypted private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
        },
        other => TlsError::BadPem {
            setting: "tls_key",
            path: path.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// Verifies every node's certificate for one configured name instead of the node's address.
#[derive(Debug)]
struct FixedNameVerifier {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for FixedNameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _address: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::storage::scylla::config::ClientIdentity;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn with_ca(ca: PathBuf) -> TlsSettings {
        TlsSettings {
            ca: Some(ca),
            ..TlsSettings::default()
        }
    }

    #[test]
    fn bad_files_name_their_setting() {
        let dir = tempfile::tempdir().unwrap();
        let check = |settings: TlsSettings, setting: &str, kind: TlsErrorKind| {
            let Err(error) = client_config(&settings) else {
                panic!("accepted {settings:?}");
            };
            assert_eq!((error.setting(), error.kind()), (setting, kind), "{error}");
            assert!(error.to_string().starts_with(setting), "{error}");
        };
        check(
            with_ca(dir.path().join("absent.pem")),
            "tls_ca",
            TlsErrorKind::BadFile,
        );
        check(
            with_ca(write(dir.path(), "empty.pem", "no PEM here\n")),
            "tls_ca",
            TlsErrorKind::BadFile,
        );
        check(
            with_ca(write(
                dir.path(),
                "broken.pem",
                "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
            )),
            "tls_ca",
            TlsErrorKind::BadFile,
        );
        check(
            with_ca(write(
                dir.path(),
                "garbage.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            )),
            "tls_ca",
            TlsErrorKind::BadFile,
        );
        let unreadable = TlsSettings {
            client: Some(ClientIdentity {
                cert: dir.path().join("absent-cert.pem"),
                key: dir.path().join("absent-key.pem"),
            }),
            ..TlsSettings::default()
        };
        check(unreadable, "tls_cert", TlsErrorKind::BadFile);
    }
}
