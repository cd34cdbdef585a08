//! Starting the simulator and the exporter binary, scraping, and stopping them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use braze_simulator::{Simulator, SimulatorConfig};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_braze-exporter");
pub const KEY: &str = "it-secret-key-7f3a9c";

/// How long to wait for the first refresh to show up: generous, since this is a bound on a
/// wait, not a speed target.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub async fn simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut config = SimulatorConfig::demo(KEY);
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(config, listener).await.unwrap()
}

/// A temporary directory holding a key file and a configuration for `url`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new(url: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("api-key"), format!("{KEY}\n")).unwrap();
        let config = format!(
            "braze:\n  url: {url}\n  api_key_file: {key}\n  timeout: 2s\n  max_requests_per_hour: 250000\n{extra}\
             apps:\n  - name: ios\n    id: demo-app-ios\n  - name: android\n    id: demo-app-android\n\
             segments:\n  - name: paying\n    id: demo-seg-paying\n",
            key = dir.path().join("api-key").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        Self { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config.yml")
    }
}

/// A free loopback port (released just before the exporter binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Exporter {
    pub child: Child,
    pub base: String,
}

impl Exporter {
    pub async fn start(config: &Path, extra_args: &[&str]) -> Exporter {
        Self::start_with_env(config, extra_args, &[]).await
    }

    /// As [`Exporter::start`], with these environment variables set (or, when empty, set
    /// empty) for the exporter.
    pub async fn start_with_env(
        config: &Path,
        extra_args: &[&str],
        env: &[(&str, &str)],
    ) -> Exporter {
        let port = free_port();
        let child = Command::new(BIN)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(extra_args)
            .envs(env.iter().copied())
            .env_remove("BRAZE_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let exporter = Exporter {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        exporter
            .wait_until(|| async { exporter.get("/-/healthy").await.is_some() })
            .await;
        exporter
    }

    pub async fn get(&self, path: &str) -> Option<reqwest::Response> {
        client()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()
    }

    pub async fn metrics(&self) -> String {
        let response = self.get("/metrics").await.expect("scrape");
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Polls `ready` every 100 ms until it holds, failing the test after [`PATIENCE`].
    pub async fn wait_until<F, Fut>(&self, ready: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !ready().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting after {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM; returns the exit code and everything the process printed.
    pub async fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("stops within a few seconds of SIGTERM")
            .unwrap();
        (exit.code(), self.output().await)
    }

    async fn output(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut text).await.unwrap();
        }
        if let Some(mut err) = self.child.stderr.take() {
            err.read_to_string(&mut text).await.unwrap();
        }
        text
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The value of the sample written exactly as `series` (name and labels), if present.
/// A sessions series' label set as `braze_up` and `braze_last_success_timestamp_seconds`
/// carry it: with `kind="sessions"` first.
pub fn sessions_kind(labels: &str) -> String {
    labels.replacen('{', "{kind=\"sessions\",", 1)
}

pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

/// Runs `promtool check metrics` on `text`; fails the test with promtool's words if it objects.
pub fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "promtool is needed: run scripts/test.sh, which installs Debian's prometheus package",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Exporter {
    pub async fn post(&self, path: &str) -> reqwest::Response {
        client()
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .expect("POST")
    }

    /// Polls /metrics until `check` holds for its text, failing after [`PATIENCE`].
    pub async fn wait_for_metrics(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let text = self.metrics().await;
            if check(&text) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting for {what}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}
