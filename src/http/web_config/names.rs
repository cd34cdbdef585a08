//! Go's names for TLS versions, cipher suites and curves, as exporter-toolkit reads them,
//! mapped to what rustls (with aws-lc-rs) implements; what it does not is refused by name.

use tokio_rustls::rustls;
use tokio_rustls::rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use tokio_rustls::rustls::crypto::{CryptoProvider, SupportedKxGroup};
use tokio_rustls::rustls::{SupportedCipherSuite, SupportedProtocolVersion};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Version {
    Tls12,
    Tls13,
}

impl Version {
    pub(super) fn rustls(self) -> &'static SupportedProtocolVersion {
        match self {
            Self::Tls12 => &rustls::version::TLS12,
            Self::Tls13 => &rustls::version::TLS13,
        }
    }
}

pub(super) fn version(
    field: &str,
    value: Option<&str>,
    default: Version,
) -> Result<Version, String> {
    match value {
        None => Ok(default),
        Some("TLS12") => Ok(Version::Tls12),
        Some("TLS13") => Ok(Version::Tls13),
        Some(old @ ("TLS10" | "TLS11")) => Err(format!(
            "tls_server_config.{field}: {old} is not supported: rustls implements only TLS12 and TLS13 \
             (TLS 1.0 and 1.1 are deprecated, RFC 8996)"
        )),
        Some(other) => Err(format!(
            "tls_server_config.{field}: unknown TLS version {other:?}; use TLS12 or TLS13"
        )),
    }
}

/// The TLS 1.2 suites named, in order, plus every TLS 1.3 suite: as in Go, `cipher_suites`
/// restricts TLS 1.2 only, and TLS 1.3 names are accepted and change nothing.
pub(super) fn cipher_suites(
    names: &[String],
    provider: &CryptoProvider,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let mut suites: Vec<SupportedCipherSuite> = provider
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
        .collect();
    for name in names {
        let suite = match name.as_str() {
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" => {
                cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            }
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" => cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "TLS_AES_128_GCM_SHA256" | "TLS_AES_256_GCM_SHA384" | "TLS_CHACHA20_POLY1305_SHA256" => continue,
            cbc @ ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
            | "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
            | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
            | "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA") => {
                return Err(format!(
                    "tls_server_config.cipher_suites: {cbc} is not supported: rustls implements no CBC \
                     cipher suites (only AES-GCM and ChaCha20-Poly1305)"
                ))
            }
            other => return Err(format!("tls_server_config.cipher_suites: unknown cipher {other:?}")),
        };
        if !suites.contains(&suite) {
            suites.push(suite);
        }
    }
    Ok(suites)
}

pub(super) fn curve(name: &str) -> Result<&'static dyn SupportedKxGroup, String> {
    match name {
        "X25519" => Ok(kx_group::X25519),
        "CurveP256" => Ok(kx_group::SECP256R1),
        "CurveP384" => Ok(kx_group::SECP384R1),
        "CurveP521" => Err(
            "tls_server_config.curve_preferences: CurveP521 is not supported: rustls (with aws-lc-rs) has no \
             P-521 key exchange; use X25519, CurveP256 or CurveP384"
                .to_string(),
        ),
        other => Err(format!("tls_server_config.curve_preferences: unknown curve {other:?}")),
    }
}
