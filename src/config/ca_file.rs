//! `braze.ca_file`: certificate authorities trusted for Braze's TLS besides the system's, for
//! a proxy that inspects TLS and signs what it forwards with its own authority.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The most a CA file may hold: a bundle of a few hundred authorities fits.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The certificates of `braze.ca_file`, each checked to be usable as a trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFile {
    pub path: PathBuf,
    /// DER, in the file's order; at least one.
    pub certificates: Vec<CertificateDer<'static>>,
}

impl CaFile {
    /// Reads a PEM file of one or more `CERTIFICATE` blocks (other blocks are ignored); the
    /// error says what is wrong with the file, for the caller to prefix with the field.
    pub fn read(path: &Path) -> Result<CaFile, String> {
        let shown = path.display();
        let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if !metadata.is_file() {
            return Err(format!("{shown} is not a regular file"));
        }
        if metadata.len() > MAX_CA_FILE_BYTES {
            return Err(format!(
                "{shown} holds {} bytes, more than {MAX_CA_FILE_BYTES}",
                metadata.len()
            ));
        }
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .enumerate()
            .map(|(i, cert)| {
                cert.map_err(|e| format!("{shown}: certificate {}: not valid PEM: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if certificates.is_empty() {
            return Err(format!(
                "{shown} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            ));
        }
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        for (i, cert) in certificates.iter().enumerate() {
            roots.add(cert.clone()).map_err(|e| {
                format!(
                    "{shown}: certificate {} cannot be a certificate authority: {e}",
                    i + 1
                )
            })?;
        }
        Ok(CaFile {
            path: path.to_path_buf(),
            certificates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn reads_one_or_more_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, format!("{}{}", ca_pem(), ca_pem())).unwrap();
        assert_eq!(CaFile::read(&path).unwrap().certificates.len(), 2);
    }

    #[test]
    fn says_what_is_wrong_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        let missing = CaFile::read(&path).unwrap_err();
        assert!(missing.starts_with("cannot read ") && missing.contains("ca.pem"));
        std::fs::write(&path, "not a certificate\n").unwrap();
        assert!(CaFile::read(&path)
            .unwrap_err()
            .contains("holds no PEM certificate"));
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let garbage = CaFile::read(&path).unwrap_err();
        assert!(
            garbage.contains("certificate 1 cannot be a certificate authority"),
            "{garbage}"
        );
        assert!(CaFile::read(dir.path())
            .unwrap_err()
            .contains("not a regular file"));
    }
}
