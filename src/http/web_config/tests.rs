//! exporter-toolkit's web config cases that are decided when the file is read (its
//! `TestYAMLFiles`, `TestTLSConfigIsEnabled` and the header checks of `TestServerBehaviour`),
//! with their expectations, plus what this exporter adds or refuses by name. Handshake and
//! HTTP outcomes are in tests/exporter/web_toolkit.rs; the table of all cases is
//! tests/exporter/WEB_CONFIG_CASES.md.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType};
use rustls_pki_types::UnixTime;

use super::*;

/// A directory with `server.crt` and `server.key` (self-signed, for localhost).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("server.key"),
        cert.signing_key.serialize_pem(),
    )
    .unwrap();
    dir
}

fn load_text(dir: &Path, text: &str) -> Result<WebSettings, String> {
    let path = dir.join("web.yml");
    std::fs::write(&path, text).unwrap();
    WebSettings::load(&path).map(|(settings, _)| settings)
}

const SERVER: &str = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

fn refused(dir: &Path, text: &str, expected: &[&str]) {
    let why = load_text(dir, text).expect_err(text);
    for part in expected {
        assert!(why.contains(part), "{text}\n{why:?} lacks {part:?}");
    }
}

// TestYAMLFiles: each is read at start (`run/`) and by --config.check (`validate/`); both
// go through WebSettings::load.

#[test]
fn path_to_config_yml_invalid() {
    let why = WebSettings::load(Path::new("somefile")).unwrap_err();
    assert!(
        why.contains("somefile: cannot read the file") && why.contains("No such file"),
        "{why}"
    );
}

#[test]
fn empty_config_yml() {
    let dir = workspace();
    let settings = load_text(dir.path(), "").unwrap();
    assert!(settings.tls.is_none() && !settings.users.enabled());
}

#[test]
fn invalid_structure_and_invalid_key() {
    let dir = workspace();
    refused(
        dir.path(),
        "hWkNKCp3fvIx3jKn\nTuEjdwNS8A2vYdFb\nay3RiOtykgt4m6m3\n",
        &["invalid type"],
    );
    refused(
        dir.path(),
        "tls_server_config:\n  cert_filse: server.crt\n",
        &["unknown field `cert_filse`"],
    );
}

#[test]
fn missing_certificate_or_key() {
    let dir = workspace();
    let no_cert = "missing one of cert or cert_file";
    let no_key = "missing one of key or key_file";
    for (text, expected) in [
        (
            "tls_server_config:\n  cert_file: \"\"\n  key_file: server.key\n",
            no_cert,
        ),
        (
            "tls_server_config:\n  cert: \"\"\n  key_file: server.key\n",
            no_cert,
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: \"\"\n",
            no_key,
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key: \"\"\n",
            no_key,
        ),
        (
            "tls_server_config:\n  cert_file: \"\"\n  key_file: \"\"\n  client_auth_type: x\n",
            no_cert,
        ),
    ] {
        refused(dir.path(), text, &["tls_server_config", expected]);
    }
}

#[test]
fn certificate_or_key_file_that_does_not_exist() {
    let dir = workspace();
    for (text, field, file) in [
        (
            "tls_server_config:\n  cert_file: somefile\n  key_file: server.key\n",
            "cert_file",
            "somefile",
        ),
        (
            "tls_server_config:\n  cert_file: server.crt\n  key_file: somefile\n",
            "key_file",
            "somefile",
        ),
        // The toolkit's case names server.cert, which does not exist either.
        (
            "tls_server_config:\n  cert_file: server.cert\n  key_file: somefile\n",
            "cert_file",
            "server.cert",
        ),
        (
            "tls_server_config:\n  cert_file: somefile\n  key_file: somefile\n",
            "cert_file",
            "somefile",
        ),
    ] {
        refused(
            dir.path(),
            text,
            &[
                &format!("tls_server_config.{field}: cannot read"),
                file,
                "No such file",
            ],
        );
    }
}

/// The worst of the old disagreements: a client CA without `client_auth_type` was ignored,
/// so everyone was served. The toolkit refuses the file, and so does this exporter.
#[test]
fn client_ca_without_client_auth_type_is_refused() {
    let dir = workspace();
    refused(
        dir.path(),
        &format!("{SERVER}  client_ca_file: /dev/null\n"),
        &[
            "tls_server_config.client_ca_file",
            "configured without a Client Auth Policy",
        ],
    );
    refused(
        dir.path(),
        &format!("{SERVER}  client_ca_file: somefile\n"),
        &[
            "tls_server_config.client_ca_file: cannot read",
            "No such file",
        ],
    );
    let ca = std::fs::read_to_string(dir.path().join("server.crt")).unwrap();
    let inline = format!(
        "{SERVER}  client_ca: |\n    {}\n",
        ca.trim().replace('\n', "\n    ")
    );
    refused(
        dir.path(),
        &inline,
        &[
            "tls_server_config.client_ca",
            "without a Client Auth Policy",
        ],
    );
    refused(
        dir.path(),
        &format!("{SERVER}  client_auth_type: NoClientCert\n  client_ca_file: server.crt\n"),
        &["without a Client Auth Policy"],
    );
}

#[test]
fn invalid_user_list() {
    let dir = workspace();
    refused(
        dir.path(),
        &format!("{SERVER}basic_auth_users:\n  john: doe\n"),
        &["basic_auth_users.john: is not a bcrypt hash"],
    );
}

#[test]
fn invented_cipher_curve_and_version() {
    let dir = workspace();
    let verify = "  client_auth_type: VerifyClientCertIfGiven\n";
    refused(
        dir.path(),
        &format!(
            "{SERVER}{verify}  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n"
        ),
        &["tls_server_config.cipher_suites: unknown cipher", "SHA2048"],
    );
    refused(
        dir.path(),
        &format!("{SERVER}{verify}  curve_preferences:\n    - CurveP257\n"),
        &[
            "tls_server_config.curve_preferences: unknown curve",
            "CurveP257",
        ],
    );
    refused(
        dir.path(),
        &format!("{SERVER}{verify}  min_version: TLS111\n"),
        &[
            "tls_server_config.min_version: unknown TLS version",
            "TLS111",
        ],
    );
}

// TestTLSConfigIsEnabled: which settings turn TLS on.

#[test]
fn tls_is_on_only_with_a_certificate_key_client_ca_or_client_auth_type() {
    let dir = workspace();
    for off in [
        "tls_server_config: {}\n",
        "tls_server_config:\n  min_version: TLS12\n  prefer_server_cipher_suites: true\n",
    ] {
        assert!(load_text(dir.path(), off).unwrap().tls.is_none(), "{off}");
    }
    assert!(load_text(dir.path(), SERVER).unwrap().tls.is_some());
    // Inline "cert" and "key" turn TLS on (and then are not PEM).
    refused(
        dir.path(),
        "tls_server_config:\n  cert: cert\n  key: key\n",
        &["tls_server_config.cert: no certificate"],
    );
    for on in [
        "client_ca_file: client_ca.crt",
        "client_auth_type: RequireAndVerifyClientCert",
    ] {
        refused(
            dir.path(),
            &format!("tls_server_config:\n  {on}\n"),
            &["missing one of cert or cert_file"],
        );
    }
}

// TestServerBehaviour's cases that fail when the file is read.

#[test]
fn headers_the_toolkit_allows_and_refuses() {
    let dir = workspace();
    let good = "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    \
                Strict-Transport-Security: max-age=31536000; includeSubDomains\n    \
                X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n    \
                Content-Security-Policy: \"default-src 'self' *.test.example.net\"\n";
    let settings = load_text(dir.path(), good).unwrap();
    let mut headers = hyper::HeaderMap::new();
    settings.http.add_headers(&mut headers);
    assert_eq!(headers.len(), 5);
    assert_eq!(headers["x-frame-options"], "deny");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'self' *.test.example.net"
    );
    refused(
        dir.path(),
        "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
        &[
            "http_server_config.headers.X-Content-Type-Options: invalid value \"sniff\"",
            "nosniff",
        ],
    );
    refused(
        dir.path(),
        "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
        &["http_server_config.headers.X-Frame-Options: invalid value \"foo\""],
    );
    refused(
        dir.path(),
        "http_server_config:\n  headers:\n    Content-Type: foo\n",
        &["http_server_config.headers: HTTP header \"Content-Type\" can not be configured"],
    );
}

#[test]
fn http2_needs_an_aes_128_gcm_suite_when_suites_are_listed() {
    let dir = workspace();
    let only_256 =
        "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n  max_version: TLS12\n";
    refused(
        dir.path(),
        &format!("{SERVER}{only_256}"),
        &[
            "tls_server_config.cipher_suites",
            "HTTP/2",
            "http_server_config.http2: false",
        ],
    );
    let off = format!("{SERVER}{only_256}http_server_config:\n  http2: false\n");
    assert!(load_text(dir.path(), &off).unwrap().tls.is_some());
}

#[test]
fn rate_limit_settings() {
    let dir = workspace();
    assert!(
        load_text(dir.path(), "rate_limit:\n  interval: 0\n  burst: 0\n")
            .unwrap()
            .http
            .admits_request()
    );
    let limited = load_text(dir.path(), "rate_limit:\n  interval: 1s\n  burst: 0\n").unwrap();
    assert!(
        !limited.http.admits_request(),
        "a burst of 0 admits nothing, as in Go"
    );
    let two = load_text(dir.path(), "rate_limit:\n  interval: 1h\n  burst: 2\n").unwrap();
    assert!(two.http.admits_request() && two.http.admits_request() && !two.http.admits_request());
    refused(
        dir.path(),
        "rate_limit:\n  interval: 1 second\n",
        &["rate_limit.interval", "1 second"],
    );
    refused(
        dir.path(),
        "rate_limit:\n  interval: 1s\n  burst: -1\n",
        &["rate_limit.burst: -1"],
    );
}

// Refused by name because rustls cannot, and settings that are now supported.

#[test]
fn what_rustls_cannot_is_refused_by_name() {
    let dir = workspace();
    for old in ["TLS10", "TLS11"] {
        for field in ["min_version", "max_version"] {
            refused(
                dir.path(),
                &format!("{SERVER}  {field}: {old}\n"),
                &[
                    &format!("tls_server_config.{field}: {old} is not supported"),
                    "rustls",
                ],
            );
        }
    }
    refused(
        dir.path(),
        &format!("{SERVER}  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n"),
        &["tls_server_config.cipher_suites: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA is not supported", "CBC"],
    );
    refused(
        dir.path(),
        &format!("{SERVER}  curve_preferences: [X25519, CurveP521]\n"),
        &[
            "tls_server_config.curve_preferences: CurveP521 is not supported",
            "rustls",
        ],
    );
    refused(
        dir.path(),
        &format!("{SERVER}  min_version: TLS13\n  max_version: TLS12\n"),
        &["min_version Tls13 is above max_version Tls12"],
    );
}

#[test]
fn settings_that_are_supported_now() {
    let dir = workspace();
    let cert = std::fs::read_to_string(dir.path().join("server.crt")).unwrap();
    let key = std::fs::read_to_string(dir.path().join("server.key")).unwrap();
    let indent = |pem: &str| pem.trim().replace('\n', "\n    ");
    for text in [
        format!("{SERVER}  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
                 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]\n  prefer_server_cipher_suites: false\n"),
        format!("{SERVER}  curve_preferences: [CurveP256, CurveP384, X25519]\n  min_version: TLS12\n  max_version: TLS13\n"),
        format!("{SERVER}  client_auth_type: RequireAnyClientCert\n"),
        format!("{SERVER}  client_auth_type: RequireClientCert\n"),
        format!("{SERVER}  client_auth_type: RequestClientCert\n"),
        // Without client_ca_file, verified against the system's roots, as in Go.
        format!("{SERVER}  client_auth_type: VerifyClientCertIfGiven\n"),
        format!("{SERVER}  client_auth_type: RequireAndVerifyClientCert\n  client_allowed_sans: [a, b]\n"),
        format!("tls_server_config:\n  cert: |\n    {}\n  key: |\n    {}\n", indent(&cert), indent(&key)),
        format!("tls_server_config:\n  cert_file: server.crt\n  key: |\n    {}\n  client_auth_type: RequireAndVerifyClientCert\n  \
                 client_ca: |\n    {}\n", indent(&key), indent(&cert)),
        "http_server_config:\n  http2: false\n  headers:\n    x-frame-options: sameorigin\n".to_string(),
        // Empty lists are no lists, as in the toolkit: the defaults, HTTP/2 included.
        format!("{SERVER}  cipher_suites: []\n  curve_preferences: []\n"),
    ] {
        assert!(load_text(dir.path(), &text).is_ok(), "{text}\n{:?}", load_text(dir.path(), &text).err());
    }
}

#[test]
fn client_allowed_sans_needs_a_client_certificate_to_check() {
    let dir = workspace();
    refused(
        dir.path(),
        &format!("{SERVER}  client_allowed_sans: [prometheus]\n"),
        &["tls_server_config.client_allowed_sans: needs a client_auth_type"],
    );
    refused(
        dir.path(),
        &format!("{SERVER}  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: []\n"),
        &["tls_server_config.client_allowed_sans: is empty"],
    );
}

#[test]
fn an_empty_web_config_path_means_none() {
    let (settings, watched) = WebSettings::load(Path::new("")).unwrap();
    assert!(settings.tls.is_none() && !settings.users.enabled() && watched.is_empty());
    assert!(WebConfigWatch::new(Some(PathBuf::new()))
        .unwrap()
        .settings()
        .tls
        .is_none());
}

// The certificate facts rustls does not expose.

#[test]
fn subject_alt_names_validity_and_usage_of_a_certificate() {
    let mut params = CertificateParams::new(vec!["test3".to_string()]).unwrap();
    params.subject_alt_names.extend([
        SanType::IpAddress([127, 0, 0, 1].into()),
        SanType::IpAddress("2001:db8::1".parse().unwrap()),
        SanType::Rfc822Name("prom@example.net".try_into().unwrap()),
        SanType::URI("spiffe://example.net/prometheus".try_into().unwrap()),
    ]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
    assert_eq!(
        x509::subject_alt_names(cert.der()),
        [
            "test3",
            "127.0.0.1",
            "2001:db8::1",
            "prom@example.net",
            "spiffe://example.net/prometheus"
        ]
    );
    assert!(x509::allows_client_auth(cert.der()));
    assert!(x509::valid_at(cert.der(), UnixTime::now()));
    // rcgen's default validity: 1975 to 4096.
    assert!(!x509::valid_at(
        cert.der(),
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(100))
    ));

    let mut server_only = CertificateParams::new(Vec::<String>::new()).unwrap();
    server_only.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_only = server_only
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap();
    assert!(!x509::allows_client_auth(server_only.der()));
    assert!(x509::subject_alt_names(server_only.der()).is_empty());
    assert!(
        x509::subject_alt_names(b"\x30\x03\x02\x01").is_empty(),
        "truncated DER is no SAN"
    );
}
