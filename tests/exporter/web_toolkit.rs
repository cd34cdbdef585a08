//! exporter-toolkit's own web config cases (`web/tls_config_test.go`, `web/handler_test.go`),
//! ported with their expectations: the real binary, real TLS over loopback, a rustls client
//! that restricts versions, cipher suites and curves as Go's test client does, and raw
//! ClientHellos for what rustls cannot send (TLS 1.1, CBC suites). Test data are generated
//! here (rcgen), not copied. The table of every case and its outcome is WEB_CONFIG_CASES.md.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use tokio_rustls::rustls::crypto::SupportedKxGroup;
use tokio_rustls::rustls::{self, CipherSuite, SupportedCipherSuite};

use crate::support::{free_port, simulator, Workspace, BIN};

/// What the toolkit's tests read from its testdata, generated: an RSA server certificate
/// for localhost signed by a CA the client trusts, and two self-signed client certificates
/// (CA:TRUE, client auth, as `openssl req -x509` makes them), the second with SAN `test3`.
struct Site {
    ws: Workspace,
    ca: CertificateDer<'static>,
    _sim: braze_simulator::Simulator,
}

impl Site {
    async fn new() -> Self {
        let sim = simulator(|_| {}).await;
        let ws = Workspace::new(&sim.url(), "");
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "Test TLS CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let server_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        server
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server.signed_by(&server_key, &ca).unwrap();
        let dir = ws.dir.path();
        std::fs::write(dir.join("server.crt"), server.pem()).unwrap();
        std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
        for (name, san) in [
            ("client_selfsigned", None),
            ("client2_selfsigned", Some("test3")),
        ] {
            let mut params =
                CertificateParams::new(san.map(str::to_string).into_iter().collect::<Vec<_>>())
                    .unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, san.unwrap_or("test"));
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            let key = KeyPair::generate().unwrap();
            let cert = params.self_signed(&key).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        }
        Self {
            ca: ca.as_ref().der().clone(),
            ws,
            _sim: sim,
        }
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.ws.dir.path().join(name)).unwrap()
    }

    /// A file's PEM indented for a YAML block scalar.
    fn inline(&self, name: &str) -> String {
        self.read(name).trim().replace('\n', "\n    ")
    }

    fn identity(&self, name: &str) -> Identity {
        let dir = self.ws.dir.path();
        let certs = CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
        Identity(certs, key)
    }

    fn write(&self, text: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = self
            .ws
            .dir
            .path()
            .join(format!("web-{}.yml", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The exporter serving with this web config text (`None`: `--web.config.file=`).
    async fn serve(&self, web: Option<&str>) -> Served {
        let flag = match web {
            Some(text) => format!("--web.config.file={}", self.write(text).display()),
            None => "--web.config.file=".to_string(),
        };
        self.serve_flag(flag).await
    }

    async fn serve_flag(&self, flag: String) -> Served {
        let port = free_port();
        let child = tokio::process::Command::new(BIN)
            .arg(format!("--config.file={}", self.ws.config().display()))
            .arg(flag)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Served {
                    _child: child,
                    port,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the exporter did not listen");
    }

    /// Asserts that the binary refuses `text`, both when starting and with --config.check,
    /// exiting 2 with a message containing `expected`.
    fn refuses(&self, text: &str, expected: &str) {
        let web = self.write(text);
        for check in [false, true] {
            let mut command = std::process::Command::new(BIN);
            command
                .arg(format!("--config.file={}", self.ws.config().display()))
                .arg(format!("--web.config.file={}", web.display()))
                .arg("--web.listen-address=127.0.0.1:0");
            if check {
                command.arg("--config.check");
            }
            let out = command.output().unwrap();
            let printed = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{text}\n{printed}");
            assert!(
                printed.contains(expected),
                "{text}\n{printed:?} lacks {expected:?}"
            );
        }
    }

    /// Asserts that the binary accepts `text` with --config.check.
    fn accepts(&self, text: &str) {
        let out = std::process::Command::new(BIN)
            .arg(format!("--config.file={}", self.ws.config().display()))
            .arg(format!("--web.config.file={}", self.write(text).display()))
            .arg("--config.check")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

struct Served {
    _child: tokio::process::Child,
    port: u16,
}

struct Identity(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Go's test client, as far as each case sets it.
#[derive(Default)]
struct Client {
    tls12_only: bool,
    suites: Option<Vec<SupportedCipherSuite>>,
    groups: Option<Vec<&'static dyn SupportedKxGroup>>,
    identity: Option<Identity>,
    auth: Option<(&'static str, &'static str)>,
    /// Offer `h2` besides `http/1.1` (ALPN); the reply is then only the negotiation.
    offer_h2: bool,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    suite: Option<CipherSuite>,
    alpn: Option<Vec<u8>>,
}

fn request(auth: Option<(&str, &str)>) -> Vec<u8> {
    use base64::Engine;
    let mut text = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_string();
    if let Some((user, password)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        text.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

fn parse(bytes: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {text:?}"))?;
    Ok((status, head))
}

/// `GET /` over TLS as `client`; an error for a refused handshake or no HTTP answer.
async fn https(site: &Site, port: u16, client: Client) -> Result<Reply, String> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if let Some(suites) = client.suites {
        provider.cipher_suites = suites;
    }
    if let Some(groups) = client.groups {
        provider.kx_groups = groups;
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if client.tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(site.ca.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client.identity {
        Some(Identity(certs, key)) => builder.with_client_auth_cert(certs, key).unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if client.offer_h2 {
        config.alpn_protocols.insert(0, b"h2".to_vec());
    }
    let exchange = async {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let (_, connection) = tls.get_ref();
        let suite = connection.negotiated_cipher_suite().map(|s| s.suite());
        let alpn = connection.alpn_protocol().map(<[u8]>::to_vec);
        if alpn.as_deref() == Some(b"h2") {
            return Ok(Reply {
                status: 0,
                suite,
                alpn,
            });
        }
        tls.write_all(&request(client.auth))
            .await
            .map_err(|e| format!("TLS write: {e}"))?;
        let mut bytes = Vec::new();
        let read = tls.read_to_end(&mut bytes).await;
        if bytes.is_empty() {
            return Err(format!("no answer: {read:?}"));
        }
        let (status, _) = parse(&bytes)?;
        Ok(Reply {
            status,
            suite,
            alpn,
        })
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .map_err(|_| "timed out".to_string())?
}

/// `GET /` over plain HTTP.
async fn http(port: u16, auth: Option<(&str, &str)>) -> Result<(u16, String), String> {
    let exchange = async {
        let mut tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| e.to_string())?;
        tcp.write_all(&request(auth))
            .await
            .map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        let _ = tcp.read_to_end(&mut bytes).await;
        parse(&bytes)
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .map_err(|_| "timed out".to_string())?
}

/// A ClientHello rustls cannot send: `version` and `suites` as given. Returns the alert
/// description the server answers with, if it answers with an alert.
async fn raw_hello(port: u16, version: u16, suites: &[u16], extensions: &[u8]) -> Option<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([7u8; 32]);
    body.push(0);
    body.extend(u16::try_from(suites.len() * 2).unwrap().to_be_bytes());
    suites.iter().for_each(|s| body.extend(s.to_be_bytes()));
    body.extend([1, 0]);
    if !extensions.is_empty() {
        body.extend(u16::try_from(extensions.len()).unwrap().to_be_bytes());
        body.extend(extensions);
    }
    let mut handshake = vec![1];
    handshake.extend(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend(u16::try_from(handshake.len()).unwrap().to_be_bytes());
    record.extend(handshake);
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.write_all(&record).await.unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut reply)).await;
    (reply.len() >= 7 && reply[0] == 0x15).then(|| reply[6])
}

/// supported_groups (x25519, secp256r1), ec_point_formats, signature_algorithms.
const TLS12_EXTENSIONS: &[u8] = &[
    0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, //
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, //
    0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x08, 0x04, 0x04, 0x01, 0x04, 0x03,
];
const ALERT_HANDSHAKE_FAILURE: u8 = 40;
const ALERT_PROTOCOL_VERSION: u8 = 70;

const SERVER: &str = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";
const VERIFY_IF_GIVEN: &str = "  client_auth_type: VerifyClientCertIfGiven\n";

fn tls12(suites: &[SupportedCipherSuite]) -> Client {
    Client {
        tls12_only: true,
        suites: Some(suites.to_vec()),
        ..Client::default()
    }
}

// TestYAMLFiles, through the binary: each case at start (`run/`) and with --config.check
// (`validate/`).
#[tokio::test]
async fn yaml_files_run_and_validate() {
    let site = Site::new().await;
    let missing = "No such file";
    for (text, expected) in [
        ("tls_server_config:\n  cert_filse: server.crt\n".to_string(), "unknown field `cert_filse`"),
        ("hWkNKCp3fvIx3jKn\nTuEjdwNS8A2vYdFb\n".to_string(), "invalid type"),
        ("tls_server_config:\n  cert_file: \"\"\n  key_file: server.key\n".to_string(), "missing one of cert or cert_file"),
        ("tls_server_config:\n  cert: \"\"\n  key_file: server.key\n".to_string(), "missing one of cert or cert_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: \"\"\n".to_string(), "missing one of key or key_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key: \"\"\n".to_string(), "missing one of key or key_file"),
        (
            "tls_server_config:\n  cert_file: \"\"\n  key_file: \"\"\n  client_auth_type: x\n".to_string(),
            "missing one of cert or cert_file",
        ),
        ("tls_server_config:\n  cert_file: somefile\n  key_file: server.key\n".to_string(), missing),
        ("tls_server_config:\n  cert_file: server.cert\n  key_file: somefile\n".to_string(), missing),
        ("tls_server_config:\n  cert_file: somefile\n  key_file: somefile\n".to_string(), missing),
        (format!("{SERVER}  client_ca_file: /dev/null\n"), "configured without a Client Auth Policy"),
        (format!("{SERVER}  client_ca_file: somefile\n"), missing),
        (format!("{SERVER}basic_auth_users:\n  john: doe\n"), "basic_auth_users.john: is not a bcrypt hash"),
        (
            format!("{SERVER}{VERIFY_IF_GIVEN}  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n"),
            "unknown cipher",
        ),
        (format!("{SERVER}{VERIFY_IF_GIVEN}  curve_preferences:\n    - CurveP257\n"), "unknown curve"),
        (format!("{SERVER}{VERIFY_IF_GIVEN}  min_version: TLS111\n"), "unknown TLS version"),
    ] {
        site.refuses(&text, expected);
    }
    // The path does not exist.
    let out = std::process::Command::new(BIN)
        .arg(format!("--config.file={}", site.ws.config().display()))
        .arg("--web.config.file=somefile")
        .arg("--config.check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(missing));
    // An empty file: no TLS, no auth.
    site.accepts("");
    let served = site.serve(Some("")).await;
    assert_eq!(http(served.port, None).await.unwrap().0, 200);
}

#[tokio::test]
async fn no_web_config_path_serves_plain_http() {
    let site = Site::new().await;
    let served = site.serve(None).await;
    assert_eq!(http(served.port, None).await.unwrap().0, 200);
    let tls = https(&site, served.port, Client::default()).await;
    assert!(
        tls.unwrap_err().starts_with("TLS handshake"),
        "a TLS client gets no TLS"
    );
}

#[tokio::test]
async fn verify_if_given_without_a_client_ca_and_a_plain_or_tls_client() {
    let site = Site::new().await;
    let served = site
        .serve(Some(&format!("{SERVER}{VERIFY_IF_GIVEN}")))
        .await;
    assert!(
        http(served.port, None).await.is_err(),
        "plain HTTP to the TLS port"
    );
    let reply = https(&site, served.port, Client::default()).await.unwrap();
    assert_eq!(reply.status, 200);
    // A TLS 1.1 client: refused. With signature_algorithms (which Go's TLS 1.1 client does
    // not send) rustls gets as far as the version and answers protocol_version; without, it
    // finds no certificate to sign with first and answers handshake_failure.
    let tls11 = [0xc013, 0x002f];
    let alert = raw_hello(served.port, 0x0302, &tls11, TLS12_EXTENSIONS).await;
    assert_eq!(alert, Some(ALERT_PROTOCOL_VERSION));
    let alert = raw_hello(served.port, 0x0302, &tls11, &[]).await;
    assert_eq!(alert, Some(ALERT_HANDSHAKE_FAILURE));
}

#[tokio::test]
async fn cert_and_key_inline() {
    let site = Site::new().await;
    let text = format!(
        "tls_server_config:\n  cert: |\n    {}\n  key: |\n    {}\n",
        site.inline("server.crt"),
        site.inline("server.key")
    );
    let served = site.serve(Some(&text)).await;
    assert_eq!(
        https(&site, served.port, Client::default())
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test]
async fn cipher_suites() {
    let site = Site::new().await;
    let all = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    ];
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("  - {n}\n"))
            .collect::<String>()
    };
    // All of Go's secure suites: refused by name, for the CBC ones rustls lacks.
    site.refuses(
        &format!("{SERVER}{VERIFY_IF_GIVEN}  cipher_suites:\n{}", list(&all)),
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA is not supported: rustls implements no CBC",
    );
    // ... and served without them.
    let served = site
        .serve(Some(&format!(
            "{SERVER}{VERIFY_IF_GIVEN}  cipher_suites:\n{}",
            list(&all[..9])
        )))
        .await;
    assert_eq!(
        https(&site, served.port, Client::default())
            .await
            .unwrap()
            .status,
        200
    );

    let (aes128, aes256) = (
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    );
    let tls12_only = "  min_version: TLS12\n  max_version: TLS12\n";
    let some = format!(
        "{SERVER}{VERIFY_IF_GIVEN}  cipher_suites:\n{}{tls12_only}",
        list(&all[2..4])
    );
    let served = site.serve(Some(&some)).await;
    let reply = https(&site, served.port, tls12(&[aes128])).await.unwrap();
    assert_eq!((reply.status, reply.suite), (200, Some(aes128.suite())));
    // No common cipher: the client offers only TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA.
    let alert = raw_hello(served.port, 0x0303, &[0xc014], TLS12_EXTENSIONS).await;
    assert_eq!(alert, Some(ALERT_HANDSHAKE_FAILURE));
    // Several client ciphers: the client's first that the server has.
    let reply = https(&site, served.port, tls12(&[aes128, aes256]))
        .await
        .unwrap();
    assert_eq!(reply.suite, Some(aes128.suite()));
    // The server's list in the other order, prefer_server_cipher_suites false (a no-op in
    // Go, and here): the same choice.
    let no_order = format!(
        "{SERVER}{VERIFY_IF_GIVEN}  cipher_suites:\n  - {}\n  - {}\n  prefer_server_cipher_suites: false\n{tls12_only}",
        all[3], all[2]
    );
    let served = site.serve(Some(&no_order)).await;
    let reply = https(&site, served.port, tls12(&[aes128, aes256]))
        .await
        .unwrap();
    assert_eq!((reply.status, reply.suite), (200, Some(aes128.suite())));
}

#[tokio::test]
async fn curve_preferences() {
    let site = Site::new().await;
    let curves = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("    - {n}\n"))
            .collect::<String>()
    };
    let p521 = "CurveP521 is not supported: rustls (with aws-lc-rs) has no P-521";
    site.refuses(
        &format!(
            "{SERVER}{VERIFY_IF_GIVEN}  curve_preferences:\n{}",
            curves(&["CurveP256", "CurveP384", "CurveP521", "X25519"])
        ),
        p521,
    );
    site.refuses(
        &format!(
            "{SERVER}{VERIFY_IF_GIVEN}  min_version: TLS13\n  curve_preferences:\n{}",
            curves(&["CurveP521"])
        ),
        p521,
    );
    // The same cases with the curves rustls has.
    let served = site
        .serve(Some(&format!(
            "{SERVER}{VERIFY_IF_GIVEN}  curve_preferences:\n{}",
            curves(&["CurveP256", "CurveP384", "X25519"])
        )))
        .await;
    assert_eq!(
        https(&site, served.port, Client::default())
            .await
            .unwrap()
            .status,
        200
    );
    let served = site
        .serve(Some(&format!(
            "{SERVER}{VERIFY_IF_GIVEN}  min_version: TLS13\n  curve_preferences:\n{}",
            curves(&["CurveP384"])
        )))
        .await;
    let only = |group: &'static dyn SupportedKxGroup| Client {
        groups: Some(vec![group]),
        ..Client::default()
    };
    assert_eq!(
        https(&site, served.port, only(kx_group::SECP384R1))
            .await
            .unwrap()
            .status,
        200
    );
    let no_common = https(&site, served.port, only(kx_group::SECP256R1))
        .await
        .unwrap_err();
    assert!(no_common.contains("HandshakeFailure"), "{no_common}");
}

#[tokio::test]
async fn http2_off_and_the_http2_cipher() {
    let site = Site::new().await;
    let only_256 =
        "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n  max_version: TLS12\n";
    let served = site
        .serve(Some(&format!(
            "{SERVER}{VERIFY_IF_GIVEN}{only_256}http_server_config:\n  http2: false\n"
        )))
        .await;
    let h2 = || Client {
        offer_h2: true,
        ..Client::default()
    };
    let reply = https(&site, served.port, h2()).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.alpn.as_deref(),
        Some(&b"http/1.1"[..]),
        "h2 is not offered"
    );
    assert_eq!(
        reply.suite,
        Some(CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
    );
    site.refuses(
        &format!("{SERVER}{VERIFY_IF_GIVEN}{only_256}"),
        "lacks the AES_128_GCM_SHA256 suite HTTP/2 requires",
    );
    // With HTTP/2 on (the default), h2 is negotiated.
    let served = site.serve(Some(SERVER)).await;
    let reply = https(&site, served.port, h2()).await.unwrap();
    assert_eq!(reply.alpn.as_deref(), Some(&b"h2"[..]));
}

#[tokio::test]
async fn http_headers() {
    let site = Site::new().await;
    let served = site
        .serve(Some(
            "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    \
             Strict-Transport-Security: max-age=31536000; includeSubDomains\n    \
             X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n    \
             Content-Security-Policy: \"default-src 'self' *.test.example.net\"\n",
        ))
        .await;
    let (status, head) = http(served.port, None).await.unwrap();
    assert_eq!(status, 200);
    for header in [
        "strict-transport-security: max-age=31536000; includeSubDomains",
        "x-frame-options: deny",
        "x-content-type-options: nosniff",
        "x-xss-protection: 1",
        "content-security-policy: default-src 'self' *.test.example.net",
    ] {
        assert!(
            head.to_ascii_lowercase()
                .contains(&header.to_ascii_lowercase()),
            "{head} lacks {header}"
        );
    }
    site.refuses(
        "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
        "invalid value \"sniff\"",
    );
    site.refuses(
        "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
        "invalid value \"foo\"",
    );
    site.refuses(
        "http_server_config:\n  headers:\n    Content-Type: foo\n",
        "HTTP header \"Content-Type\" can not be configured",
    );
}

#[tokio::test]
async fn client_certificates() {
    let site = Site::new().await;
    let with = |name: &str| Client {
        identity: Some(site.identity(name)),
        ..Client::default()
    };
    // RequireAnyClientCert: any certificate, not verified; none is refused.
    let any = format!("{SERVER}  client_auth_type: RequireAnyClientCert\n");
    let served = site.serve(Some(&any)).await;
    assert_eq!(
        https(&site, served.port, with("client_selfsigned"))
            .await
            .unwrap()
            .status,
        200
    );
    let none = https(&site, served.port, Client::default()).await;
    assert!(none.unwrap_err().contains("CertificateRequired"));
    // The same with the certificate from a file and the key inline.
    let key_inline = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key: |\n    {}\n  client_auth_type: RequireAnyClientCert\n",
        site.inline("server.key")
    );
    let served = site.serve(Some(&key_inline)).await;
    assert_eq!(
        https(&site, served.port, with("client_selfsigned"))
            .await
            .unwrap()
            .status,
        200
    );
    // RequireAndVerifyClientCert with the self-signed client certificate as the CA: trusted
    // as it is, as Go trusts a certificate in its pool.
    let verify = format!("{SERVER}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client_selfsigned.pem\n");
    let served = site.serve(Some(&verify)).await;
    assert_eq!(
        https(&site, served.port, with("client_selfsigned"))
            .await
            .unwrap()
            .status,
        200
    );
    assert!(
        https(&site, served.port, with("client2_selfsigned"))
            .await
            .is_err(),
        "not in the CA file"
    );
    let none = https(&site, served.port, Client::default()).await;
    assert!(none.unwrap_err().contains("CertificateRequired"));
    // client_allowed_sans: test3 is among them; "bad" is not.
    let sans = |list: &str| {
        format!(
            "{SERVER}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client2_selfsigned.pem\n  \
             client_allowed_sans:\n{list}"
        )
    };
    let served = site
        .serve(Some(&sans("    - one\n    - test3\n    - two\n")))
        .await;
    assert_eq!(
        https(&site, served.port, with("client2_selfsigned"))
            .await
            .unwrap()
            .status,
        200
    );
    let served = site.serve(Some(&sans("    - bad\n"))).await;
    let refused = https(&site, served.port, with("client2_selfsigned"))
        .await
        .unwrap_err();
    assert!(refused.contains("BadCertificate"), "{refused}");
}

#[tokio::test]
async fn rate_limit() {
    let site = Site::new().await;
    let served = site
        .serve(Some("rate_limit:\n  interval: 0\n  burst: 0\n"))
        .await;
    for _ in 0..=10 {
        assert_eq!(http(served.port, None).await.unwrap().0, 200);
    }
    let served = site
        .serve(Some("rate_limit:\n  interval: \"1s\"\n  burst: 0\n"))
        .await;
    assert_eq!(http(served.port, None).await.unwrap().0, 429);
}

// TestConfigReloading: a config that refuses the client, replaced by one that takes it.
#[tokio::test]
async fn config_reloading() {
    let site = Site::new().await;
    let web = site.write(&format!(
        "{SERVER}  client_auth_type: RequireAndVerifyClientCert\n"
    ));
    let served = site
        .serve_flag(format!("--web.config.file={}", web.display()))
        .await;
    assert!(
        https(&site, served.port, Client::default())
            .await
            .unwrap_err()
            .contains("CertificateRequired"),
        "no client certificate"
    );
    std::fs::write(&web, format!("{SERVER}{VERIFY_IF_GIVEN}")).unwrap();
    assert_eq!(
        https(&site, served.port, Client::default())
            .await
            .unwrap()
            .status,
        200
    );
}

fn users() -> String {
    let mut text = "basic_auth_users:\n".to_string();
    for user in ["alice", "bob", "carol", "dave"] {
        let hash = bcrypt::hash(format!("{user}123"), 4).unwrap();
        text.push_str(&format!("  {user}: {hash}\n"));
    }
    text
}

// TestUsers.
#[tokio::test]
async fn users_with_and_without_tls() {
    let site = Site::new().await;
    let plain = site.serve(Some(&users())).await;
    assert_eq!(http(plain.port, None).await.unwrap().0, 401);
    assert_eq!(
        http(plain.port, Some(("dave", "dave123"))).await.unwrap().0,
        200
    );
    let tls = site.serve(Some(&format!("{SERVER}{}", users()))).await;
    let as_user = |auth| Client {
        auth,
        ..Client::default()
    };
    for (auth, status) in [
        (None, 401),
        (Some(("dave", "dave123")), 200),
        (Some(("carol", "carol123")), 200),
        (Some(("dave", "bad")), 401),
        (Some(("nonexistent", "nonexistent")), 401),
    ] {
        assert_eq!(
            https(&site, tls.port, as_user(auth)).await.unwrap().status,
            status,
            "{auth:?}"
        );
    }
}

// handler_test.go: TestBasicAuthCache, TestBasicAuthWithFakepassword, TestByPassBasicAuthVuln.
#[tokio::test]
async fn basic_auth_cache_fake_password_and_cache_poisoning() {
    let site = Site::new().await;
    let users = users();
    let served = site.serve(Some(&users)).await;
    let port = served.port;
    assert_eq!(
        http(port, Some(("alice", "alice123"))).await.unwrap().0,
        200
    );
    assert_eq!(
        http(port, Some(("alice", "alice1234"))).await.unwrap().0,
        401
    );
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..150 {
        logins.spawn(async move { (http(port, Some(("alice", "alice123"))).await, 200) });
        logins.spawn(async move { (http(port, Some(("alice", "alice1234"))).await, 401) });
    }
    while let Some(done) = logins.join_next().await {
        let (reply, expected) = done.unwrap();
        assert_eq!(reply.unwrap().0, expected);
    }
    // The hash unknown users are checked against is not a password for "fakeuser".
    for _ in 0..2 {
        assert_eq!(
            http(port, Some(("fakeuser", "fakepassword")))
                .await
                .unwrap()
                .0,
            401
        );
    }
    // CVE-2022-46146: a user name ending in a hash, then a password starting with one, must
    // not meet in the cache.
    let alice_hash = users
        .lines()
        .find_map(|l| l.trim().strip_prefix("alice: "))
        .unwrap();
    let poisoned = format!("alice{alice_hash}");
    assert_eq!(
        http(port, Some((&poisoned, "fakepassword")))
            .await
            .unwrap()
            .0,
        401
    );
    let dummy = format!("{}fakepassword", bcrypt::hash("fakepassword", 4).unwrap());
    assert_eq!(http(port, Some(("alice", &dummy))).await.unwrap().0, 401);
}
