//! `--web.config.file`: TLS (with rotation and client certificates) and basic auth.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
};

use crate::support::{free_port, simulator, Workspace, BIN};

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self {
            ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn ca_pem(&self) -> String {
        self.ca.as_ref().pem()
    }

    /// A certificate and key signed by the CA, written to `dir/name.crt` and `dir/name.key`.
    fn issue(&self, dir: &Path, name: &str, purpose: ExtendedKeyUsagePurpose) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.extended_key_usages = vec![purpose];
        let cert = params.signed_by(&key, &self.ca).unwrap();
        std::fs::write(dir.join(format!("{name}.crt")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

struct TlsExporter {
    child: tokio::process::Child,
    port: u16,
    ca: reqwest::Certificate,
}

impl TlsExporter {
    async fn start(config: &Path, web_config: &Path, ca_pem: &str) -> Self {
        let exporter = Self::start_unchecked(config, web_config, ca_pem).await;
        for _ in 0..300 {
            if exporter.get("/-/healthy", None, None).await.is_ok() {
                return exporter;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the TLS exporter did not come up");
    }

    /// A fresh client (no pooled connection), trusting only the test CA.
    fn client(&self, identity: Option<reqwest::Identity>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([self.ca.clone()])
            .tls_info(true)
            .resolve("localhost", ([127, 0, 0, 1], self.port).into());
        if let Some(identity) = identity {
            builder = builder.identity(identity);
        }
        builder.build().unwrap()
    }

    async fn get(
        &self,
        path: &str,
        auth: Option<(&str, &str)>,
        identity: Option<reqwest::Identity>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .client(identity)
            .get(format!("https://localhost:{}{path}", self.port));
        if let Some((user, password)) = auth {
            request = request.basic_auth(user, Some(password));
        }
        request.send().await
    }

    async fn peer_certificate(&self) -> Vec<u8> {
        let response = self.get("/-/healthy", None, None).await.unwrap();
        let info = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .unwrap();
        info.peer_certificate().unwrap().to_vec()
    }
}

fn web_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let text = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n{extra}\
         basic_auth_users:\n  prometheus: {hash}\n"
    );
    let path = dir.join("web.yml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn tls_with_basic_auth_on_everything_but_the_probes() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let pki = Pki::new();
    pki.issue(ws.dir.path(), "server", ExtendedKeyUsagePurpose::ServerAuth);
    let web = web_config(ws.dir.path(), "");
    let exporter = TlsExporter::start(&ws.config(), &web, &pki.ca_pem()).await;

    let anonymous = exporter.get("/metrics", None, None).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    assert_eq!(
        exporter
            .get("/metrics", Some(("prometheus", "wrong")), None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        exporter
            .get("/metrics", Some(("nobody", "s3cret")), None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(exporter.get("/", None, None).await.unwrap().status(), 401);
    let allowed = exporter
        .get("/metrics", Some(("prometheus", "s3cret")), None)
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(allowed
        .text()
        .await
        .unwrap()
        .contains("braze_exporter_build_info"));
    assert_eq!(
        exporter
            .get("/-/healthy", None, None)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        exporter.get("/-/ready", None, None).await.unwrap().status(),
        200
    );

    // Plain HTTP to the TLS port gets no metrics.
    let plain = reqwest::get(format!("http://127.0.0.1:{}/metrics", exporter.port)).await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);

    // A rotated certificate is served to new connections without a restart.
    let before = exporter.peer_certificate().await;
    pki.issue(ws.dir.path(), "server", ExtendedKeyUsagePurpose::ServerAuth);
    let after = exporter.peer_certificate().await;
    assert_ne!(before, after, "the new certificate should be served");
    drop(exporter.child);
}

#[tokio::test]
async fn client_certificates_are_required_when_configured() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let pki = Pki::new();
    pki.issue(ws.dir.path(), "server", ExtendedKeyUsagePurpose::ServerAuth);
    pki.issue(ws.dir.path(), "client", ExtendedKeyUsagePurpose::ClientAuth);
    std::fs::write(ws.dir.path().join("ca.crt"), pki.ca_pem()).unwrap();
    let web = web_config(
        ws.dir.path(),
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS13\n",
    );
    let exporter = TlsExporter::start_unchecked(&ws.config(), &web, &pki.ca_pem()).await;
    assert!(
        exporter.get("/-/healthy", None, None).await.is_err(),
        "no client certificate, no connection"
    );
    let identity = || {
        let mut pem = std::fs::read(ws.dir.path().join("client.crt")).unwrap();
        pem.extend(std::fs::read(ws.dir.path().join("client.key")).unwrap());
        reqwest::Identity::from_pem(&pem).unwrap()
    };
    let response = exporter
        .get("/metrics", Some(("prometheus", "s3cret")), Some(identity()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(exporter.child);
}

#[tokio::test]
async fn a_bad_web_config_is_refused_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    let ws = Workspace::new("https://rest.iad-01.braze.com", "");
    for (text, expected) in [
        (
            "basic_auth_users:\n  bob: plain-password\n",
            "basic_auth_users.bob: is not a bcrypt hash",
        ),
        (
            "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n",
            "tls_server_config.cert_file: cannot read",
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n",
            "tls_server_config",
        ),
        (
            "tls_server_config:\n  cipher_suites: [x]\n",
            // Refused by name before (unknown field); supported now, and the name checked.
            "tls_server_config.cipher_suites: unknown cipher \"x\"",
        ),
    ] {
        std::fs::write(&web, text).unwrap();
        let out = std::process::Command::new(BIN)
            .arg(format!("--config.file={}", ws.config().display()))
            .arg(format!("--web.config.file={}", web.display()))
            .arg("--web.listen-address=127.0.0.1:0")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{printed}");
        assert!(printed.contains(expected), "{printed:?} lacks {expected:?}");
    }
}

impl TlsExporter {
    /// Starts without waiting on a health check that needs a client certificate.
    async fn start_unchecked(config: &Path, web_config: &Path, ca_pem: &str) -> Self {
        let port = free_port();
        let child = tokio::process::Command::new(BIN)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.config.file={}", web_config.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Self {
            child,
            port,
            ca: reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap(),
        }
    }
}
