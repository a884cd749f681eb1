//! A TLS profile made ready: read and checked once (at load, or the first
//! time a call asks for the system's defaults), then shared by its calls.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{ring, CryptoProvider};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Debian's bundle of the certificates the system trusts (ca-certificates).
pub const SYSTEM_CA_FILE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// The folder that holds them one by one, where there is no bundle.
pub const SYSTEM_CA_PATH: &str = "/etc/ssl/certs";

/// One TLS profile as audiosocket.conf describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsProfile {
    /// The section's name (`default` for `s` without a profile).
    pub name: String,
    /// PEM certificates the server's must chain to. With neither this nor
    /// `ca_path`, the system's.
    pub ca_file: Option<PathBuf>,
    /// A folder of PEM certificates (`*.pem`, `*.crt`), the same way.
    pub ca_path: Option<PathBuf>,
    /// Our certificate chain (PEM), for a server that admits only its own
    /// PBXs; with `key_file`.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Check the server's certificate (chain and name). Off only in a
    /// profile, and then logged at load.
    pub verify_server: bool,
    /// The name the server's certificate must carry, and that is sent as
    /// SNI, when it is not the host the call dialled (an address, say).
    pub server_name: Option<String>,
}

impl TlsProfile {
    /// `s` without a profile: the system's trust, no client certificate.
    pub fn system_default() -> TlsProfile {
        TlsProfile {
            name: "default".into(),
            ca_file: None,
            ca_path: None,
            cert_file: None,
            key_file: None,
            verify_server: true,
            server_name: None,
        }
    }
}

/// A profile ready for connections. Cheap to clone.
#[derive(Clone)]
pub struct TlsClient {
    profile: Arc<TlsProfile>,
    config: Arc<ClientConfig>,
    our_key: Option<Arc<CertifiedKey>>,
    server_name: Option<ServerName<'static>>,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TlsClient({})", self.profile.name)
    }
}

/// Two clients are the same when they come from the same profile text.
impl PartialEq for TlsClient {
    fn eq(&self, other: &TlsClient) -> bool {
        self.profile == other.profile
    }
}

/// Why a profile cannot be used: the setting at fault, and the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct ProfileError {
    pub setting: &'static str,
    pub why: String,
}

fn fault(setting: &'static str, why: impl Into<String>) -> ProfileError {
    ProfileError {
        setting,
        why: why.into(),
    }
}

impl TlsClient {
    /// Reads the profile's files and checks them: every certificate parses,
    /// the key matches the certificate.
    pub fn build(profile: &TlsProfile) -> Result<TlsClient, ProfileError> {
        let provider = Arc::new(ring::default_provider());
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| fault("type", e.to_string()))?;
        let builder = if profile.verify_server {
            builder.with_root_certificates(trusted(profile)?)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyServer(provider.clone())))
        };
        let our_key = match (&profile.cert_file, &profile.key_file) {
            (None, None) => None,
            (Some(_), None) => return Err(fault("cert_file", "needs key_file too")),
            (None, Some(_)) => return Err(fault("key_file", "needs cert_file too")),
            (Some(cert), Some(key)) => Some(Arc::new(our_identity(&provider, cert, key)?)),
        };
        let server_name = match &profile.server_name {
            None => None,
            Some(name) => Some(
                ServerName::try_from(name.clone())
                    .map_err(|_| fault("server_name", format!("'{name}' is not a host name")))?,
            ),
        };
        // Replaced for each connection (see `connection_config`).
        let config = builder.with_client_cert_resolver(Arc::new(OurCertificate::default()));
        Ok(TlsClient {
            profile: Arc::new(profile.clone()),
            config: Arc::new(config),
            our_key,
            server_name,
        })
    }

    pub fn profile(&self) -> &TlsProfile {
        &self.profile
    }

    /// Whether we have a certificate to show a server that asks for one.
    pub fn has_certificate(&self) -> bool {
        self.our_key.is_some()
    }

    /// The name to verify and send for a call that dialled `host`.
    pub(crate) fn server_name(&self, host: &str) -> Result<ServerName<'static>, String> {
        match &self.server_name {
            Some(n) => Ok(n.clone()),
            None => ServerName::try_from(host.to_string()).map_err(|_| {
                format!("'{host}' cannot be checked against a certificate (set server_name)")
            }),
        }
    }

    /// The configuration for one connection, and the flag that tells
    /// whether the server asked for our certificate.
    pub(crate) fn connection_config(&self) -> (Arc<ClientConfig>, Arc<OurCertificate>) {
        let ours = Arc::new(OurCertificate {
            key: self.our_key.clone(),
            asked: AtomicBool::new(false),
        });
        let mut config = (*self.config).clone();
        config.client_auth_cert_resolver = ours.clone();
        (Arc::new(config), ours)
    }
}

/// The certificates a profile trusts: its own, or the system's.
fn trusted(profile: &TlsProfile) -> Result<RootCertStore, ProfileError> {
    let mut store = RootCertStore::empty();
    let (setting, added) = match (&profile.ca_file, &profile.ca_path) {
        (Some(_), Some(_)) => return Err(fault("ca_path", "give ca_file or ca_path, not both")),
        (Some(file), None) => (
            "ca_file",
            add_file(&mut store, file).map_err(|e| fault("ca_file", e))?,
        ),
        (None, Some(dir)) => (
            "ca_path",
            add_folder(&mut store, dir).map_err(|e| fault("ca_path", e))?,
        ),
        (None, None) => {
            let added = match add_file(&mut store, Path::new(SYSTEM_CA_FILE)) {
                Ok(n) => n,
                Err(_) => add_folder(&mut store, Path::new(SYSTEM_CA_PATH)).unwrap_or(0),
            };
            if added == 0 {
                return Err(fault(
                    "ca_file",
                    format!(
                        "the system trusts no certificate ({SYSTEM_CA_FILE} and {SYSTEM_CA_PATH} \
                         hold none): install ca-certificates, or give the profile a ca_file"
                    ),
                ));
            }
            ("ca_file", added)
        }
    };
    if added == 0 {
        return Err(fault(setting, "holds no CA certificate"));
    }
    Ok(store)
}

/// Adds a PEM file's certificates; how many.
fn add_file(store: &mut RootCertStore, file: &Path) -> Result<usize, String> {
    let certs = read_certificates(file)?;
    let (added, _) = store.add_parsable_certificates(certs);
    Ok(added)
}

/// Adds every `*.pem` and `*.crt` file of a folder; how many certificates.
fn add_folder(store: &mut RootCertStore, dir: &Path) -> Result<usize, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut added = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let pem = path.extension().is_some_and(|e| e == "pem" || e == "crt");
        if pem && path.is_file() {
            // One unreadable file does not spoil the folder.
            added += add_file(store, &path).unwrap_or(0);
        }
    }
    Ok(added)
}

fn read_certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let iter = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("cannot read {}: {}", file.display(), pem_error(&e)))?;
    iter.collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {}", file.display(), pem_error(&e)))
}

fn pem_error(e: &pki_types::pem::Error) -> String {
    match e {
        pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("not PEM ({other:?})"),
    }
}

/// Our certificate chain and its key, checked to belong together.
fn our_identity(
    provider: &CryptoProvider,
    cert: &Path,
    key: &Path,
) -> Result<CertifiedKey, ProfileError> {
    let chain = read_certificates(cert).map_err(|e| fault("cert_file", e))?;
    if chain.is_empty() {
        return Err(fault(
            "cert_file",
            format!("{} holds no certificate", cert.display()),
        ));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        fault(
            "key_file",
            format!("{}: no private key ({})", key.display(), pem_error(&e)),
        )
    })?;
    let signing = provider
        .key_provider
        .load_private_key(der)
        .map_err(|e| fault("key_file", format!("{}: {e}", key.display())))?;
    let ours = CertifiedKey::new(chain, signing);
    match ours.keys_match() {
        Ok(()) => Ok(ours),
        // Keys ring cannot read the public half of are taken on trust.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(ours),
        Err(_) => Err(fault(
            "key_file",
            format!("{} is not the key of {}", key.display(), cert.display()),
        )),
    }
}

/// Our certificate for one connection, noting whether the server asked.
#[derive(Debug, Default)]
pub(crate) struct OurCertificate {
    key: Option<Arc<CertifiedKey>>,
    asked: AtomicBool,
}

impl OurCertificate {
    /// The server asked for a client certificate.
    pub fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }

    pub fn have(&self) -> bool {
        self.key.is_some()
    }
}

impl ResolvesClientCert for OurCertificate {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}

/// `verify_server = no`: any certificate, though the handshake's own
/// signatures are still checked.
#[derive(Debug)]
struct AnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
