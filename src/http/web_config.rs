//! `--web.config.file`: TLS and basic auth, in the format of Prometheus's exporter-toolkit.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert   # or NoClientCert, VerifyClientCertIfGiven
//!   client_ca_file: ca.crt
//!   min_version: TLS12                             # or TLS13
//! basic_auth_users:
//!   prometheus: $2y$10$...                          # bcrypt hashes
//! ```
//! Unknown fields, and toolkit settings this exporter does not implement, are errors rather
//! than silently weaker security. The file and the files it names are read again when they
//! change (checked per connection), so certificates rotate without a restart; a changed file
//! that does not load leaves the previous settings in force.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio_rustls::rustls;
use tracing::error;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
}

/// Checked web settings: a TLS acceptor when TLS is on, and the users allowed in.
#[derive(Clone)]
pub struct WebSettings {
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub users: Arc<BasicAuth>,
}

impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.hashes.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl WebSettings {
    /// No TLS, no auth: what runs without `--web.config.file`.
    pub fn open() -> Self {
        Self {
            tls: None,
            users: Arc::new(BasicAuth::default()),
        }
    }

    /// Reads and checks the file; errors name the file and the field.
    pub fn load(path: &Path) -> Result<(Self, Vec<PathBuf>), String> {
        let at = |why: String| format!("{}: {why}", path.display());
        let text =
            std::fs::read_to_string(path).map_err(|e| at(format!("cannot read the file: {e}")))?;
        let raw: RawWebConfig = if text.trim().is_empty() {
            RawWebConfig {
                tls_server_config: None,
                basic_auth_users: BTreeMap::new(),
            }
        } else {
            serde_norway::from_str(&text).map_err(|e| at(e.to_string()))?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let users = BasicAuth::new(raw.basic_auth_users).map_err(at)?;
        let (tls, files) = match raw.tls_server_config {
            Some(tls) => {
                let (acceptor, files) = tls_acceptor(tls, base).map_err(at)?;
                (Some(acceptor), files)
            }
            None => (None, Vec::new()),
        };
        let mut watched = vec![path.to_path_buf()];
        watched.extend(files);
        Ok((
            Self {
                tls,
                users: Arc::new(users),
            },
            watched,
        ))
    }
}

/// Relative paths in the web config are relative to the file, as in exporter-toolkit.
fn resolve(base: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

fn tls_acceptor(
    raw: RawTls,
    base: &Path,
) -> Result<(tokio_rustls::TlsAcceptor, Vec<PathBuf>), String> {
    let cert_file = resolve(
        base,
        raw.cert_file
            .ok_or("tls_server_config.cert_file: is required")?,
    );
    let key_file = resolve(
        base,
        raw.key_file
            .ok_or("tls_server_config.key_file: is required")?,
    );
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_file)
        .and_then(|certs| certs.collect())
        .map_err(|e| {
            format!(
                "tls_server_config.cert_file: cannot read certificates from {}: {e}",
                cert_file.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "tls_server_config.cert_file: no certificate in {}",
            cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&key_file).map_err(|e| {
        format!(
            "tls_server_config.key_file: cannot read a private key from {}: {e}",
            key_file.display()
        )
    })?;
    let versions: &[&'static rustls::SupportedProtocolVersion] = match raw.min_version.as_deref() {
        None | Some("TLS12") => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some("TLS13") => &[&rustls::version::TLS13],
        Some(other) => {
            return Err(format!(
                "tls_server_config.min_version: must be TLS12 or TLS13, got {other:?}"
            ))
        }
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let mut files = vec![cert_file, key_file];
    let auth_type = raw.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let builder = match auth_type {
        "NoClientCert" => builder.with_no_client_auth(),
        "RequireAndVerifyClientCert" | "VerifyClientCertIfGiven" => {
            let ca_file = resolve(
                base,
                raw.client_ca_file
                    .ok_or_else(|| format!("tls_server_config.client_ca_file: is required with client_auth_type {auth_type}"))?,
            );
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_file_iter(&ca_file)
                .and_then(|c| c.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!(
                        "tls_server_config.client_ca_file: cannot read {}: {e}",
                        ca_file.display()
                    )
                })?
            {
                roots
                    .add(ca)
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let verifier = match auth_type {
                "VerifyClientCertIfGiven" => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            files.push(ca_file);
            builder.with_client_cert_verifier(
                verifier
                    .build()
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?,
            )
        }
        other => {
            return Err(format!(
            "tls_server_config.client_auth_type: must be NoClientCert, VerifyClientCertIfGiven or \
                 RequireAndVerifyClientCert, got {other:?}"
        ))
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("tls_server_config: the certificate and key do not form a usable pair: {e}")
    })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((tokio_rustls::TlsAcceptor::from(Arc::new(config)), files))
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.hashes.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Users and their bcrypt hashes. Checks run bcrypt whether or not the user exists, and
/// compare in constant time, so timing tells nothing; a successful check is cached (keyed by a
/// randomly seeded hash), since one bcrypt check at cost 10 took 62 ms here (release build),
/// which every scrape would otherwise pay.
#[derive(Default)]
pub struct BasicAuth {
    hashes: BTreeMap<String, String>,
    verified: Mutex<HashSet<u64>>,
    seed: RandomState,
}

const CACHE_LIMIT: usize = 1024;

/// A bcrypt hash of a random password: what unknown users are checked against, so that an
/// unknown user costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let random = format!("{:x}", RandomState::new().hash_one(SystemTime::now()));
        bcrypt::hash(random, bcrypt::DEFAULT_COST).unwrap_or_default()
    })
}

impl BasicAuth {
    fn new(users: BTreeMap<String, String>) -> Result<Self, String> {
        for (user, hash) in &users {
            if user.is_empty() || user.contains(':') {
                return Err(format!(
                    "basic_auth_users: user name {user:?} must be non-empty and without ':'"
                ));
            }
            hash.parse::<bcrypt::HashParts>().map_err(|_| {
                format!(
                    "basic_auth_users.{user}: is not a bcrypt hash (use htpasswd -nBC 10 {user})"
                )
            })?;
        }
        Ok(Self {
            hashes: users,
            ..Self::default()
        })
    }

    pub fn enabled(&self) -> bool {
        !self.hashes.is_empty()
    }

    /// Whether an `Authorization` header value grants access.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let Some((user, password)) = header.and_then(decode_basic) else {
            return false;
        };
        // Every name is compared, in constant time, so the time taken does not tell which exist.
        let mut hash = None;
        for (name, candidate) in &self.hashes {
            if constant_time_eq(name.as_bytes(), user.as_bytes()) {
                hash = Some(candidate);
            }
        }
        let key = self.seed.hash_one((&user, &password, hash));
        if hash.is_some()
            && self
                .verified
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&key)
        {
            return true;
        }
        let checked =
            bcrypt::verify(&password, hash.map_or(dummy_hash(), String::as_str)).unwrap_or(false);
        let ok = checked && hash.is_some();
        if ok {
            let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.len() >= CACHE_LIMIT {
                verified.clear();
            }
            verified.insert(key);
        }
        ok
    }
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The current web settings, re-read when the file or a file it names changes.
pub struct WebConfigWatch {
    path: Option<PathBuf>,
    current: Mutex<(Vec<Stamp>, WebSettings)>,
}

impl WebConfigWatch {
    /// Loads `path` now (an error here stops the start), or serves openly without one.
    pub fn new(path: Option<PathBuf>) -> Result<Self, String> {
        let (settings, files) = match &path {
            Some(path) => WebSettings::load(path)?,
            None => (WebSettings::open(), Vec::new()),
        };
        Ok(Self {
            path,
            current: Mutex::new((stamps(&files), settings)),
        })
    }

    /// The settings for a new connection, reloaded first if a watched file changed.
    pub fn settings(&self) -> WebSettings {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let Some(path) = &self.path else {
            return current.1.clone();
        };
        let changed = current
            .0
            .iter()
            .any(|(file, stamp)| modified(file) != *stamp);
        if changed {
            match WebSettings::load(path) {
                Ok((settings, files)) => *current = (stamps(&files), settings),
                Err(why) => {
                    error!(error = %why, "web config reload failed; keeping the previous TLS and auth settings");
                    // Remember the new stamps, so the same broken file is reported once.
                    current.0 = current
                        .0
                        .iter()
                        .map(|(f, _)| (f.clone(), modified(f)))
                        .collect();
                }
            }
        }
        current.1.clone()
    }
}

/// A watched file and when it was last modified.
type Stamp = (PathBuf, Option<SystemTime>);

fn stamps(files: &[PathBuf]) -> Vec<Stamp> {
    files.iter().map(|f| (f.clone(), modified(f))).collect()
}

fn modified(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests;
