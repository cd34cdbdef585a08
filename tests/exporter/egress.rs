//! Egress: the exporter behind a CONNECT proxy, and Braze (or a TLS-inspecting proxy) with a
//! certificate of a private authority.

use std::path::Path;
use std::sync::Arc;

use braze_simulator::{Simulator, SimulatorConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_rustls::rustls;

use crate::proxy::Proxy;
use crate::support::{sample, Exporter, Workspace, KEY};

const ALL_UP: &str = r#"braze_up{kind="sessions",app_name="all",segment_name="all",unit="hour"}"#;

fn failures(text: &str, reason: &str) -> f64 {
    sample(
        text,
        &format!(r#"braze_api_request_failures_total{{reason="{reason}"}}"#),
    )
    .unwrap_or(0.0)
}

/// A test certificate authority, written to `dir/ca.pem`, and a simulator serving HTTPS with
/// a certificate for `localhost` it signed.
async fn tls_simulator(dir: &Path) -> Simulator {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.as_ref().pem()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start_tls(SimulatorConfig::demo(KEY), listener, Arc::new(tls))
        .await
        .unwrap()
}

/// The proxy variables as given, every other spelling of them cleared, so the machine's own
/// settings play no part.
fn proxy_env<'a>(https: &'a str, http: &'a str, no_proxy: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("HTTPS_PROXY", https),
        ("https_proxy", https),
        ("HTTP_PROXY", http),
        ("http_proxy", http),
        ("ALL_PROXY", ""),
        ("all_proxy", ""),
        ("NO_PROXY", no_proxy),
        ("no_proxy", no_proxy),
    ]
}

async fn run_until_up(ws: &Workspace, env: &[(&str, &str)]) -> String {
    let exporter = Exporter::start_with_env(&ws.config(), &[], env).await;
    exporter
        .wait_for_metrics("the workspace series up", |t| {
            sample(t, ALL_UP) == Some(1.0)
        })
        .await;
    let (_, output) = exporter.terminate().await;
    assert!(!output.contains(KEY), "the key leaked:\n{output}");
    output
}

#[tokio::test]
async fn https_goes_through_the_proxy_and_no_proxy_bypasses_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = tls_simulator(dir.path()).await;
    let ca_file = dir.path().join("ca.pem");
    let ws = Workspace::new(&sim.url(), &format!("  ca_file: {}\n", ca_file.display()));
    let proxy = Proxy::start().await;
    // NO_PROXY empty: loopback is not exempt, so every request must use the tunnel.
    run_until_up(&ws, &proxy_env(&proxy.url(), "", "")).await;
    let tunnels = proxy.connects();
    assert!(tunnels >= 1, "no CONNECT reached the proxy");
    let port = sim.addr().port();
    assert!(
        proxy
            .targets()
            .iter()
            .all(|t| *t == format!("localhost:{port}")),
        "{:?}",
        proxy.targets()
    );
    let received = sim.requests_received();
    assert!(received >= 6, "{received}");

    // NO_PROXY naming the host: straight to it, the proxy sees nothing more.
    run_until_up(&ws, &proxy_env(&proxy.url(), "", "localhost")).await;
    assert_eq!(proxy.connects(), tunnels, "a request used the proxy");
    assert!(sim.requests_received() > received);
}

#[tokio::test]
async fn plain_http_goes_through_http_proxy() {
    let sim = crate::support::simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "");
    let proxy = Proxy::start().await;
    run_until_up(&ws, &proxy_env("", &proxy.url(), "")).await;
    assert!(proxy.forwarded() >= 1, "no request reached the proxy");
    assert_eq!(proxy.connects(), 0);
}

#[tokio::test]
async fn a_private_ca_is_refused_without_ca_file_and_accepted_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = tls_simulator(dir.path()).await;
    let proxy = Proxy::start().await;
    let proxy_url = proxy.url();
    let env = proxy_env(&proxy_url, "", "");

    let ws = Workspace::new(&sim.url(), "");
    let exporter = Exporter::start_with_env(&ws.config(), &[], &env).await;
    let text = exporter
        .wait_for_metrics("a certificate refused", |t| {
            failures(t, "tls") >= 1.0 && sample(t, ALL_UP).is_some()
        })
        .await;
    assert_eq!(sample(&text, ALL_UP), Some(0.0));
    assert_eq!(failures(&text, "connection"), 0.0, "its own reason");
    let (_, output) = exporter.terminate().await;
    let line = output
        .lines()
        .find(|l| l.contains("reason=tls"))
        .unwrap_or_else(|| panic!("no TLS failure logged:\n{output}"));
    eprintln!("{line}");
    assert!(
        line.contains("the TLS certificate of localhost did not verify")
            && line.contains("UnknownIssuer")
            && line.contains("braze.ca_file"),
        "the log says which host and why: {line}"
    );
    assert!(!output.contains(KEY));
    assert_eq!(
        sim.requests_received(),
        0,
        "nothing was sent to an unverified host"
    );

    let ws = Workspace::new(
        &sim.url(),
        &format!("  ca_file: {}\n", dir.path().join("ca.pem").display()),
    );
    run_until_up(&ws, &env).await;
}
