//! `--web.config.file`: TLS, basic auth, response headers and a rate limit, in the format
//! of Prometheus's exporter-toolkit (its `docs/web-configuration.md`), on rustls.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt            # or cert: inline PEM
//!   key_file: server.key             # or key: inline PEM
//!   client_auth_type: RequireAndVerifyClientCert
//!   client_ca_file: ca.crt           # or client_ca: inline PEM; without it, the system's roots
//!   client_allowed_sans: [prometheus.example.net]
//!   min_version: TLS12               # TLS12 or TLS13; max_version likewise
//!   cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # Go's names; TLS 1.2 only
//!   curve_preferences: [X25519, CurveP256]
//! http_server_config:
//!   http2: true
//!   headers: {X-Frame-Options: deny}
//! rate_limit: {interval: 1s, burst: 10}
//! basic_auth_users:
//!   prometheus: $2y$10$...           # bcrypt hashes
//! ```
//! Unknown fields, and settings rustls cannot honour (TLS 1.0 and 1.1, CBC cipher suites,
//! P-521), are errors that name them, never silently weaker security; so are the settings the
//! toolkit refuses (a client CA without a `client_auth_type`, a header it does not allow).
//! The file and the files it names are read again when they change (checked per
//! connection), so certificates rotate without a restart; a changed file that does not load
//! leaves the previous settings in force.

mod basic_auth;
mod client_auth;
mod http;
mod names;
mod tls;
mod x509;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Deserialize;
use tracing::error;

pub use basic_auth::BasicAuth;
pub use http::HttpSettings;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    tls_server_config: Option<tls::RawTls>,
    http_server_config: Option<http::RawHttp>,
    rate_limit: Option<http::RawRateLimit>,
    basic_auth_users: Option<BTreeMap<String, String>>,
}

/// Checked web settings: a TLS acceptor when TLS is on, the users allowed in, and what every
/// response gets.
#[derive(Clone)]
pub struct WebSettings {
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub users: Arc<BasicAuth>,
    pub http: Arc<HttpSettings>,
}

impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users)
            .field("http", &self.http)
            .finish()
    }
}

impl WebSettings {
    /// No TLS, no auth: what runs without `--web.config.file` (or with it empty).
    pub fn open() -> Self {
        Self {
            tls: None,
            users: Arc::new(BasicAuth::default()),
            http: Arc::new(HttpSettings::default()),
        }
    }

    /// Reads and checks the file; errors name the file and the field. An empty path
    /// (`--web.config.file=`) means no web config, as in the toolkit.
    pub fn load(path: &Path) -> Result<(Self, Vec<PathBuf>), String> {
        if path.as_os_str().is_empty() {
            return Ok((Self::open(), Vec::new()));
        }
        let at = |why: String| format!("{}: {why}", path.display());
        let text =
            std::fs::read_to_string(path).map_err(|e| at(format!("cannot read the file: {e}")))?;
        let raw: RawWebConfig = if text.trim().is_empty() {
            RawWebConfig::default()
        } else {
            serde_norway::from_str(&text).map_err(|e| at(e.to_string()))?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let users = BasicAuth::new(raw.basic_auth_users.unwrap_or_default()).map_err(at)?;
        let http = HttpSettings::new(
            raw.http_server_config.unwrap_or_default(),
            raw.rate_limit.unwrap_or_default(),
        )
        .map_err(at)?;
        let mut watched = vec![path.to_path_buf()];
        let tls = match tls::acceptor(raw.tls_server_config.unwrap_or_default(), base, http.http2)
            .map_err(at)?
        {
            Some((acceptor, files)) => {
                watched.extend(files);
                Some(acceptor)
            }
            None => None,
        };
        Ok((
            Self {
                tls,
                users: Arc::new(users),
                http: Arc::new(http),
            },
            watched,
        ))
    }
}

/// The current web settings, re-read when the file or a file it names changes.
pub struct WebConfigWatch {
    path: Option<PathBuf>,
    current: Mutex<(Vec<Stamp>, WebSettings)>,
}

impl WebConfigWatch {
    /// Loads `path` now (an error here stops the start), or serves openly without one.
    pub fn new(path: Option<PathBuf>) -> Result<Self, String> {
        let path = path.filter(|p| !p.as_os_str().is_empty());
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
