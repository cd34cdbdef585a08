//! Client certificates as exporter-toolkit's `client_auth_type` means them, on rustls.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::HandshakeSignatureValid;
use tokio_rustls::rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use tokio_rustls::rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use tokio_rustls::rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme,
};

use tracing::debug;

use super::x509;

/// Go's `tls.ClientAuthType` values, by the names the toolkit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientAuth {
    None,
    Request,
    RequireAny,
    VerifyIfGiven,
    RequireAndVerify,
}

impl ClientAuth {
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "" | "NoClientCert" => Self::None,
            "RequestClientCert" => Self::Request,
            // RequireClientCert: the toolkit keeps this older name working.
            "RequireAnyClientCert" | "RequireClientCert" => Self::RequireAny,
            "VerifyClientCertIfGiven" => Self::VerifyIfGiven,
            "RequireAndVerifyClientCert" => Self::RequireAndVerify,
            other => {
                return Err(format!(
                    "tls_server_config.client_auth_type: invalid ClientAuth {other:?}; use NoClientCert, \
                     RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
                ))
            }
        })
    }

    /// The toolkit's name for it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::None => "NoClientCert",
            Self::Request => "RequestClientCert",
            Self::RequireAny => "RequireAnyClientCert",
            Self::VerifyIfGiven => "VerifyClientCertIfGiven",
            Self::RequireAndVerify => "RequireAndVerifyClientCert",
        }
    }

    /// Whether presented certificates are checked against trusted roots.
    pub(super) fn verifies(self) -> bool {
        matches!(self, Self::VerifyIfGiven | Self::RequireAndVerify)
    }
}

/// Asks for, requires and checks client certificates as the toolkit does: chains verified
/// against `client_ca_file` (or the system's roots) when the type says so; a certificate
/// that is itself listed in `client_ca_file` trusted directly, as Go does; and, with
/// `client_allowed_sans`, one of the certificate's SANs must be in that list.
#[derive(Debug)]
pub(super) struct ClientCerts {
    auth: ClientAuth,
    /// Chain verification, for the verifying types.
    chains: Option<Arc<dyn ClientCertVerifier>>,
    /// Certificates trusted as they are (those of `client_ca_file`).
    direct: Vec<CertificateDer<'static>>,
    hints: Vec<DistinguishedName>,
    allowed_sans: Option<Vec<String>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCerts {
    /// The verifier for `auth`, with the client CA (where it came from, and its PEM).
    pub(super) fn new(
        auth: ClientAuth,
        client_ca: Option<(String, Vec<u8>)>,
        allowed_sans: Option<Vec<String>>,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        if allowed_sans.as_ref().is_some_and(Vec::is_empty) {
            return Err(
                "tls_server_config.client_allowed_sans: is empty, so no client certificate could match"
                    .to_string(),
            );
        }
        let (direct, roots, from_system) = match client_ca {
            Some((from, pem)) => {
                let direct: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        format!("tls_server_config.{from}: cannot read certificates: {e}")
                    })?;
                if direct.is_empty() && auth.verifies() {
                    return Err(format!("tls_server_config.{from}: no certificate in it"));
                }
                let mut roots = rustls::RootCertStore::empty();
                for ca in &direct {
                    roots
                        .add(ca.clone())
                        .map_err(|e| format!("tls_server_config.{from}: {e}"))?;
                }
                (direct, roots, false)
            }
            // Without client_ca_file the toolkit (Go) verifies against the system's roots.
            None if auth.verifies() => {
                let found = rustls_native_certs::load_native_certs();
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(format!(
                        "tls_server_config.client_auth_type: {} without client_ca_file verifies against \
                         the system's roots, and none could be loaded ({:?}); set client_ca_file",
                        auth.name(),
                        found.errors
                    ));
                }
                (Vec::new(), roots, true)
            }
            None => (Vec::new(), rustls::RootCertStore::empty(), false),
        };
        let hints = if from_system {
            Vec::new()
        } else {
            roots.subjects()
        };
        let chains = if auth.verifies() {
            let builder = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .allow_unauthenticated();
            let builder = if from_system {
                builder.clear_root_hint_subjects()
            } else {
                builder
            };
            Some(
                builder
                    .build()
                    .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?,
            )
        } else {
            None
        };
        Ok(Self {
            auth,
            chains,
            direct,
            hints,
            allowed_sans,
            algorithms: provider.signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for ClientCerts {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        // With allowed SANs, a client without a certificate has none of them.
        matches!(
            self.auth,
            ClientAuth::RequireAny | ClientAuth::RequireAndVerify
        ) || self.allowed_sans.is_some()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Some(chains) = &self.chains {
            if let Err(e) = chains.verify_client_cert(end_entity, intermediates, now) {
                let trusted_as_is = self
                    .direct
                    .iter()
                    .any(|c| c.as_ref() == end_entity.as_ref())
                    && x509::valid_at(end_entity, now)
                    && x509::allows_client_auth(end_entity);
                if !trusted_as_is {
                    return Err(e);
                }
            }
        }
        if let Some(allowed) = &self.allowed_sans {
            let found = x509::subject_alt_names(end_entity);
            if !found.iter().any(|san| allowed.contains(san)) {
                // bad_certificate, as the toolkit answers.
                debug!(allowed = ?allowed, found = ?found, "client certificate has none of client_allowed_sans");
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName,
                ));
            }
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
