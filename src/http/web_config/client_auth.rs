//! Client certificates as exporter-toolkit's `client_auth_type` means them, on rustls.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, UnixTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::HandshakeSignatureValid;
use tokio_rustls::rustls::crypto::WebPkiSupportedAlgorithms;
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
    pub auth: ClientAuth,
    /// Chain verification, for the verifying types.
    pub chains: Option<Arc<dyn ClientCertVerifier>>,
    /// Certificates trusted as they are (those of `client_ca_file`).
    pub direct: Vec<CertificateDer<'static>>,
    pub hints: Vec<DistinguishedName>,
    pub allowed_sans: Option<Vec<String>>,
    pub algorithms: WebPkiSupportedAlgorithms,
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
