//! `tls_server_config`: a rustls acceptor from exporter-toolkit's settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use tokio_rustls::rustls;
use tokio_rustls::rustls::SupportedProtocolVersion;
use tracing::warn;

use super::client_auth::{ClientAuth, ClientCerts};
use super::names::{cipher_suites, curve, version, Version};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<String>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    /// Accepted and ignored, as Go has ignored it since 1.17: the client's order is used.
    #[serde(rename = "prefer_server_cipher_suites")]
    _prefer_server_cipher_suites: Option<bool>,
    client_allowed_sans: Option<Vec<String>>,
}

/// A setting's value, unless it is absent or empty (Go reads both as unset).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl RawTls {
    /// Whether the section turns TLS on: any certificate, key, client CA or client auth
    /// type, as the toolkit's `TLSConfig.IsEnabled`.
    fn enabled(&self) -> bool {
        [
            &self.cert,
            &self.key,
            &self.client_ca,
            &self.cert_file,
            &self.key_file,
            &self.client_auth_type,
            &self.client_ca_file,
        ]
        .into_iter()
        .any(|v| given(v).is_some())
    }
}

/// Relative paths in the web config are relative to the file, as in exporter-toolkit.
fn resolve(base: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// PEM from a `_file` setting (then watched for changes) or from its inline twin.
fn pem(
    base: &Path,
    (file_field, file): (&str, Option<&str>),
    (inline_field, inline): (&str, Option<&str>),
    watched: &mut Vec<PathBuf>,
) -> Result<Option<(String, Vec<u8>)>, String> {
    if let Some(file) = file {
        let path = resolve(base, file);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "tls_server_config.{file_field}: cannot read {}: {e}",
                path.display()
            )
        })?;
        watched.push(path.clone());
        return Ok(Some((format!("{file_field} {}", path.display()), bytes)));
    }
    Ok(inline.map(|text| (inline_field.to_string(), text.as_bytes().to_vec())))
}

/// The acceptor, and the files it was read from; `None` when the section does not turn TLS
/// on. `http2` is whether ALPN offers `h2`.
pub(super) fn acceptor(
    raw: RawTls,
    base: &Path,
    http2: bool,
) -> Result<Option<(tokio_rustls::TlsAcceptor, Vec<PathBuf>)>, String> {
    // Names are checked whether or not TLS is on, as Go checks them when reading the YAML.
    let min = version("min_version", raw.min_version.as_deref(), Version::Tls12)?;
    let max = version("max_version", raw.max_version.as_deref(), Version::Tls13)?;
    if min > max {
        return Err(format!(
            "tls_server_config: min_version {min:?} is above max_version {max:?}: no TLS version is left"
        ));
    }
    let versions: Vec<&'static SupportedProtocolVersion> = [Version::Tls13, Version::Tls12]
        .into_iter()
        .filter(|v| (min..=max).contains(v))
        .map(Version::rustls)
        .collect();

    // An empty list is no list, as in the toolkit (`if len(cf) > 0`).
    let listed = |names: &Option<Vec<String>>| names.clone().filter(|n| !n.is_empty());
    let (suite_names, curve_names) = (listed(&raw.cipher_suites), listed(&raw.curve_preferences));
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if let Some(names) = &suite_names {
        provider.cipher_suites = cipher_suites(names, &provider)?;
    }
    if let Some(names) = &curve_names {
        provider.kx_groups = names.iter().map(|n| curve(n)).collect::<Result<_, _>>()?;
    }
    let provider = Arc::new(provider);
    if !raw.enabled() {
        if raw.min_version.is_some() || suite_names.is_some() || raw.client_allowed_sans.is_some() {
            warn!("tls_server_config sets no certificate, key or client auth: TLS is off, as in exporter-toolkit");
        }
        return Ok(None);
    }
    if let Some(names) = suite_names
        .as_deref()
        .filter(|_| http2 && min < Version::Tls13)
    {
        let http2_suite = [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ];
        if !names.iter().any(|n| http2_suite.contains(&n.as_str())) {
            return Err(format!(
                "tls_server_config.cipher_suites: {names:?} lacks the AES_128_GCM_SHA256 suite HTTP/2 requires \
                 over TLS 1.2 (one of {http2_suite:?}); add one, or set http_server_config.http2: false"
            ));
        }
    }
    let cert_file = given(&raw.cert_file);
    let key_file = given(&raw.key_file);
    if cert_file.is_none() && given(&raw.cert).is_none() {
        return Err("tls_server_config: missing one of cert or cert_file".to_string());
    }
    if key_file.is_none() && given(&raw.key).is_none() {
        return Err("tls_server_config: missing one of key or key_file".to_string());
    }
    let mut files = Vec::new();
    let (cert_from, cert_pem) = pem(
        base,
        ("cert_file", cert_file),
        ("cert", given(&raw.cert)),
        &mut files,
    )?
    .expect("checked above");
    let (key_from, key_pem) = pem(
        base,
        ("key_file", key_file),
        ("key", given(&raw.key)),
        &mut files,
    )?
    .expect("checked above");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls_server_config.{cert_from}: cannot read certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "tls_server_config.{cert_from}: no certificate in it"
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("tls_server_config.{key_from}: cannot read a private key: {e}"))?;

    let client_ca = pem(
        base,
        ("client_ca_file", given(&raw.client_ca_file)),
        ("client_ca", given(&raw.client_ca)),
        &mut files,
    )?;
    let auth = ClientAuth::parse(raw.client_auth_type.as_deref().unwrap_or_default())?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| {
            format!("tls_server_config: versions {min:?} to {max:?} with these cipher suites: {e}")
        })?;
    let builder = if auth == ClientAuth::None {
        if let Some((from, _)) = &client_ca {
            return Err(format!(
                "tls_server_config.{from}: client CA's have been configured without a Client Auth Policy: \
                 set client_auth_type (RequireAndVerifyClientCert to require verified certificates), \
                 or client certificates would not be asked for"
            ));
        }
        if raw.client_allowed_sans.is_some() {
            return Err(
                "tls_server_config.client_allowed_sans: needs a client_auth_type that asks for \
                        client certificates; with NoClientCert it would check nothing"
                    .to_string(),
            );
        }
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_verifier(Arc::new(ClientCerts::new(
            auth,
            client_ca,
            raw.client_allowed_sans,
            &provider,
        )?))
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("tls_server_config: the certificate ({cert_from}) and key ({key_from}) do not form a usable pair: {e}")
    })?;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Some((
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        files,
    )))
}
