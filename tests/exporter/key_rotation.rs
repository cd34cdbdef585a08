//! Rotating the API key: the exporter follows its file however it changes, without a restart.

use std::path::{Path, PathBuf};

use crate::support::{sample, simulator, Exporter, Workspace, KEY};

const ROTATED: &str = "it-rotated-key-5d21e8";
const ROTATED_AGAIN: &str = "it-rotated-key-9b04c3";

/// A Secret volume as Kubernetes' AtomicWriter keeps it: `api-key` → `..data/api-key`,
/// `..data` → a timestamped directory; an update writes a new directory, points a new
/// `..data_tmp` link at it and renames that over `..data`.
struct SecretVolume {
    root: PathBuf,
    version: u32,
}

impl SecretVolume {
    fn new(root: &Path, key: &str) -> Self {
        std::fs::create_dir(root).unwrap();
        let mut volume = Self {
            root: root.to_path_buf(),
            version: 0,
        };
        volume.update(key);
        std::os::unix::fs::symlink("..data/api-key", root.join("api-key")).unwrap();
        volume
    }

    fn key_file(&self) -> PathBuf {
        self.root.join("api-key")
    }

    fn update(&mut self, key: &str) {
        self.version += 1;
        let stamped = format!(
            "..2026_12_01_10_0{}_00.{}",
            self.version,
            4000 + self.version
        );
        std::fs::create_dir(self.root.join(&stamped)).unwrap();
        std::fs::write(self.root.join(&stamped).join("api-key"), format!("{key}\n")).unwrap();
        std::os::unix::fs::symlink(&stamped, self.root.join("..data_tmp")).unwrap();
        std::fs::rename(self.root.join("..data_tmp"), self.root.join("..data")).unwrap();
    }
}

/// The workspace's configuration with `braze.api_key_file` pointing at `key_file`.
fn point_key_file_at(ws: &Workspace, key_file: &Path) {
    let text = std::fs::read_to_string(ws.config()).unwrap().replace(
        &ws.dir.path().join("api-key").display().to_string(),
        &key_file.display().to_string(),
    );
    std::fs::write(ws.config(), text).unwrap();
}

fn unauthorized(text: &str) -> f64 {
    sample(
        text,
        r#"braze_api_request_failures_total{reason="unauthorized"}"#,
    )
    .unwrap_or(0.0)
}

const ALL_UP: &str = r#"braze_up{kind="sessions",app_name="all",segment_name="all",unit="hour"}"#;
const VALUE: &str = r#"braze_sessions{app_name="all",segment_name="all",unit="hour"}"#;

fn key_reload(text: &str) -> Option<f64> {
    sample(text, "braze_api_key_last_reload_successful")
}

/// Braze accepts only `key` from now on; waits for the exporter's 401s, then for the file to
/// be updated by `rotate` and every series to answer again; the values stay throughout.
async fn rotate_and_recover(
    exporter: &Exporter,
    sim: &braze_simulator::Simulator,
    key: &str,
    rotate: impl FnOnce(),
) {
    sim.set_api_key(key);
    let refused = exporter
        .wait_for_metrics("a 401 for the old key", |t| {
            unauthorized(t) >= 1.0 && sample(t, ALL_UP) == Some(0.0)
        })
        .await;
    assert!(
        sample(&refused, VALUE).is_some(),
        "the series keep their values"
    );
    rotate();
    let recovered = exporter
        .wait_for_metrics("the new key in use", |t| sample(t, ALL_UP) == Some(1.0))
        .await;
    assert_eq!(key_reload(&recovered), Some(1.0));
    assert!(sample(&recovered, VALUE).is_some());
    let after = unauthorized(&recovered);
    let later = exporter
        .wait_for_metrics("two more refreshes", |t| {
            sample(t, r#"braze_refreshes_total{export="sessions"}"#)
                > sample(&recovered, r#"braze_refreshes_total{export="sessions"}"#).map(|n| n + 1.0)
        })
        .await;
    assert_eq!(
        unauthorized(&later),
        after,
        "no 401 once the new key is read"
    );
}

#[tokio::test]
async fn a_kubernetes_secret_update_is_followed_without_a_restart() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "refresh:\n  interval: 1s\n  stale_after: 1h\n");
    let mut volume = SecretVolume::new(&ws.dir.path().join("secret"), KEY);
    point_key_file_at(&ws, &volume.key_file());
    let exporter = Exporter::start(&ws.config(), &[]).await;
    let first = exporter
        .wait_for_metrics("every series up", |t| sample(t, ALL_UP) == Some(1.0))
        .await;
    assert_eq!(key_reload(&first), Some(1.0));
    let started_at = sample(
        &first,
        "braze_api_key_last_reload_success_timestamp_seconds",
    )
    .unwrap();

    rotate_and_recover(&exporter, &sim, ROTATED, || volume.update(ROTATED)).await;

    // An update that empties the key: the rotated key stays in use, and it says so.
    volume.update("");
    let kept = exporter
        .wait_for_metrics("the failed read exposed", |t| key_reload(t) == Some(0.0))
        .await;
    assert!(
        sample(&kept, "braze_api_key_last_reload_success_timestamp_seconds").unwrap() >= started_at
    );
    let refreshes = sample(&kept, r#"braze_refreshes_total{export="sessions"}"#).unwrap();
    let still = exporter
        .wait_for_metrics("a refresh with the kept key", |t| {
            sample(t, r#"braze_refreshes_total{export="sessions"}"#) > Some(refreshes + 1.0)
        })
        .await;
    assert_eq!(
        sample(&still, ALL_UP),
        Some(1.0),
        "the kept key still works"
    );
    assert_eq!(unauthorized(&still), unauthorized(&kept));

    rotate_and_recover(&exporter, &sim, ROTATED_AGAIN, || {
        volume.update(ROTATED_AGAIN)
    })
    .await;

    let text = exporter.metrics().await;
    let (_, output) = exporter.terminate().await;
    for key in [KEY, ROTATED, ROTATED_AGAIN] {
        assert!(
            !output.contains(key),
            "a key leaked into the log:\n{output}"
        );
        assert!(!text.contains(key), "a key leaked into /metrics");
    }
    assert!(
        output.contains("the API key file changed: the new key is used"),
        "{output}"
    );
    let warning = output
        .lines()
        .find(|l| l.contains("cannot be used; keeping the key in use"))
        .unwrap_or_else(|| panic!("the failed read is logged:\n{output}"));
    assert!(warning.contains("is empty"), "{warning}");
}

#[tokio::test]
async fn a_key_file_renamed_over_or_rewritten_in_place_is_followed() {
    let sim = simulator(|_| {}).await;
    let ws = Workspace::new(&sim.url(), "refresh:\n  interval: 1s\n  stale_after: 1h\n");
    let key_file = ws.dir.path().join("api-key");
    let exporter = Exporter::start(&ws.config(), &[]).await;
    exporter
        .wait_for_metrics("every series up", |t| sample(t, ALL_UP) == Some(1.0))
        .await;

    rotate_and_recover(&exporter, &sim, ROTATED, || {
        let staged = ws.dir.path().join(".api-key.new");
        std::fs::write(&staged, format!("{ROTATED}\n")).unwrap();
        std::fs::rename(&staged, &key_file).unwrap();
    })
    .await;

    // The same length, the same inode.
    assert_eq!(ROTATED.len(), ROTATED_AGAIN.len());
    rotate_and_recover(&exporter, &sim, ROTATED_AGAIN, || {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&key_file)
            .unwrap();
        file.write_all(format!("{ROTATED_AGAIN}\n").as_bytes())
            .unwrap();
    })
    .await;

    let (_, output) = exporter.terminate().await;
    for key in [KEY, ROTATED, ROTATED_AGAIN] {
        assert!(
            !output.contains(key),
            "a key leaked into the log:\n{output}"
        );
    }
}
