//! The key each request sends, read again when its file changes.
//!
//! Kubernetes updates a mounted Secret by swapping the volume's `..data` symlink to a new
//! timestamped directory (its AtomicWriter), not by writing the file, and sends no signal;
//! other tools rename a new file over the old one, or rewrite it in place. All three change
//! the identity of the file the path resolves to (device, inode, modification and change
//! times, length, through every symlink), so before each request the source looks at that
//! identity (one `stat`, negligible beside an HTTPS request) and, when it changed, reads the
//! file again with the same rules as at start ([`super::api_key::read_key`]). The next request
//! carries the new key; nothing else restarts, and the series keep their values.
//!
//! File times have a coarse granularity: a rewrite in place of the same length within one tick
//! of the previous write leaves the identity as it was. As git does for its index ("racy
//! git"), a file modified less than [`SETTLE`] ago is read again at every request until it is
//! older, so no write goes unseen.
//!
//! A changed file that cannot be used (empty, unreadable, gone, not a valid key) leaves the
//! key in use as it is: the reason is logged once per change, and reported (for
//! `braze_api_key_last_reload_successful`). The key itself is in no message.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::header::HeaderValue;
use tracing::{debug, info, warn};

use super::api_key::{read_key, ApiKey};

/// Told the outcome of every read of the key file after the first: `true` when the key in
/// use is the file's, `false` when the changed file could not be used.
pub type KeyReports = Arc<dyn Fn(bool) + Send + Sync>;

/// A file modified this recently is read again at each request, whatever its identity.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Keys that have been in use are redacted from text too: an answer to a request sent just
/// before a rotation may echo the old one. The newest few are kept.
const REDACTED_KEYS: usize = 4;

/// The key in use, shared by every clone of a client.
#[derive(Clone)]
pub struct KeySource {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    reports: Mutex<Option<KeyReports>>,
}

struct State {
    /// The newest first: `keys[0]` is in use.
    keys: Vec<ApiKey>,
    header: HeaderValue,
    /// The file as last seen; `Unknown` until the first request looks, so a change between
    /// reading the configuration and that request is not missed.
    seen: Seen,
    /// Why the file as last read could not be used: logged once, not at every request.
    failing: Option<String>,
}

/// What the key file's path resolved to when last looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Unknown,
    Missing(std::io::ErrorKind),
    File(Identity),
}

/// What tells one version of a file from another without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
    modified: Option<std::time::SystemTime>,
    changed: (i64, i64),
    len: u64,
}

impl Seen {
    fn of(path: &Path) -> Seen {
        match std::fs::metadata(path) {
            Ok(metadata) => Seen::File(Identity::of(&metadata)),
            Err(e) => Seen::Missing(e.kind()),
        }
    }

    /// Whether a write within the same tick could still go unseen (see the module's notes).
    fn unsettled(&self) -> bool {
        match self {
            Seen::File(Identity {
                modified: Some(modified),
                ..
            }) => modified
                .elapsed()
                // A time in the future (a skewed clock) would mean a read at every request.
                .is_ok_and(|age| age < SETTLE),
            _ => false,
        }
    }
}

impl Identity {
    #[cfg(unix)]
    fn of(metadata: &std::fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            device: metadata.dev(),
            inode: metadata.ino(),
            modified: metadata.modified().ok(),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
            len: metadata.len(),
        }
    }

    #[cfg(not(unix))]
    fn of(metadata: &std::fs::Metadata) -> Identity {
        Identity {
            device: 0,
            inode: 0,
            modified: metadata.modified().ok(),
            changed: (0, 0),
            len: metadata.len(),
        }
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySource(<redacted>)")
    }
}

impl KeySource {
    /// Starts from `key` as the configuration read it; a key read from a file follows it.
    pub fn new(key: &ApiKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    header: key.authorization(),
                    keys: vec![key.clone()],
                    seen: Seen::Unknown,
                    failing: None,
                }),
                reports: Mutex::new(None),
            }),
        }
    }

    /// Where reads of the key file are reported; told `true` at once, for the key in use was
    /// read when the configuration was.
    pub fn report_to(&self, reports: KeyReports) {
        reports(true);
        *self.inner.reports.lock().unwrap_or_else(|e| e.into_inner()) = Some(reports);
    }

    /// The `Authorization` header for the next request: the file's key if it changed and can
    /// be used, the key in use otherwise.
    pub fn authorization(&self) -> HeaderValue {
        let file = self.state().keys[0].file().map(Path::to_path_buf);
        let Some(path) = file else {
            return self.state().header.clone();
        };
        let seen = Seen::of(&path);
        let mut state = self.state();
        let changed = state.seen != seen;
        if changed || seen.unsettled() {
            let first_look = state.seen == Seen::Unknown;
            state.seen = seen;
            let outcome = Self::read_again(&mut state, &path);
            let header = state.header.clone();
            drop(state);
            let report = match outcome {
                Outcome::Same => changed && !first_look,
                Outcome::NewKey | Outcome::NewFailure => true,
                Outcome::SameFailure => false,
            };
            if report {
                self.report(!matches!(outcome, Outcome::NewFailure));
            }
            return header;
        }
        state.header.clone()
    }

    /// `text` with every key that has been in use replaced.
    pub fn redact(&self, text: &str) -> String {
        self.state()
            .keys
            .iter()
            .fold(text.to_string(), |text, key| key.redact(&text))
    }

    /// Reads the file after its identity changed (or while it settles), and logs what
    /// changed: a new key, or a reason it cannot be used (each once).
    fn read_again(state: &mut State, path: &Path) -> Outcome {
        let shown = path.display();
        match read_key(path) {
            Ok(key) if key == state.keys[0] => {
                if state.failing.take().is_some() {
                    info!(file = %shown, "the API key file can be used again; its key is the one in use");
                    return Outcome::NewKey;
                }
                debug!(file = %shown, "the API key file was read again; its key is the one in use");
                Outcome::Same
            }
            Ok(key) => {
                info!(file = %shown, "the API key file changed: the new key is used from the next request on");
                state.failing = None;
                state.header = key.authorization();
                state.keys.retain(|k| *k != key);
                state.keys.insert(0, key);
                state.keys.truncate(REDACTED_KEYS);
                Outcome::NewKey
            }
            Err(why) if state.failing.as_ref() == Some(&why) => Outcome::SameFailure,
            Err(why) => {
                warn!(file = %shown, error = %why, "the API key file changed but cannot be used; keeping the key in use");
                state.failing = Some(why);
                Outcome::NewFailure
            }
        }
    }

    fn report(&self, ok: bool) {
        let reports = self
            .inner
            .reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(reports) = reports {
            reports(ok);
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What reading the key file again came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The key in use, as before.
    Same,
    /// A new key, or the key in use after the file could not be used.
    NewKey,
    /// The file cannot be used, for a new reason.
    NewFailure,
    /// The file cannot be used, for the reason already logged.
    SameFailure,
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::sync::atomic::{AtomicI64, Ordering};

    const OLD: &str = "old-key-0123";
    const NEW: &str = "new-key-4567";

    fn bearer(source: &KeySource) -> String {
        source.authorization().to_str().unwrap().to_string()
    }

    /// A source following `path`, and the last report (1 ok, 0 failed, -1 none yet).
    fn following(path: &Path) -> (KeySource, Arc<AtomicI64>) {
        let source = KeySource::new(&read_key(path).unwrap());
        let last = Arc::new(AtomicI64::new(-1));
        let seen = last.clone();
        source.report_to(Arc::new(move |ok| {
            seen.store(i64::from(ok), Ordering::SeqCst)
        }));
        (source, last)
    }

    /// What Kubernetes' AtomicWriter makes of a Secret: `api-key` → `..data/api-key`,
    /// `..data` → a timestamped directory; an update writes a new directory and renames a new
    /// `..data` link over the old one.
    struct SecretVolume {
        dir: tempfile::TempDir,
        version: u32,
    }

    impl SecretVolume {
        fn new(key: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let mut volume = Self { dir, version: 0 };
            volume.update(key);
            symlink("..data/api-key", volume.dir.path().join("api-key")).unwrap();
            volume
        }

        fn path(&self) -> std::path::PathBuf {
            self.dir.path().join("api-key")
        }

        fn update(&mut self, key: &str) {
            self.version += 1;
            let stamped = format!(
                "..2026_12_01_10_00_0{}.{}",
                self.version,
                1000 + self.version
            );
            let root = self.dir.path();
            std::fs::create_dir(root.join(&stamped)).unwrap();
            std::fs::write(root.join(&stamped).join("api-key"), key).unwrap();
            symlink(&stamped, root.join("..data_tmp")).unwrap();
            std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        }
    }

    #[test]
    fn a_kubernetes_symlink_swap_is_followed() {
        let mut volume = SecretVolume::new(OLD);
        let (source, last) = following(&volume.path());
        assert_eq!(bearer(&source), format!("Bearer {OLD}"));
        assert_eq!(last.load(Ordering::SeqCst), 1, "the key read at start");
        volume.update(NEW);
        assert_eq!(bearer(&source), format!("Bearer {NEW}"));
        assert_eq!(last.load(Ordering::SeqCst), 1);
        assert_eq!(
            source.redact(&format!("{OLD} {NEW}")),
            "<redacted> <redacted>",
            "both keys are redacted"
        );
    }

    #[test]
    fn a_rename_and_a_rewrite_in_place_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api-key");
        std::fs::write(&path, OLD).unwrap();
        let (source, _) = following(&path);
        assert_eq!(bearer(&source), format!("Bearer {OLD}"));
        let staged = dir.path().join("api-key.new");
        std::fs::write(&staged, NEW).unwrap();
        std::fs::rename(&staged, &path).unwrap();
        assert_eq!(bearer(&source), format!("Bearer {NEW}"));
        // Same length, same inode: the modification and change times tell.
        std::fs::write(&path, "new-key-8910").unwrap();
        assert_eq!(bearer(&source), "Bearer new-key-8910");
    }

    #[test]
    fn a_changed_file_that_cannot_be_used_keeps_the_key_in_use() {
        let mut volume = SecretVolume::new(OLD);
        let (source, last) = following(&volume.path());
        assert_eq!(bearer(&source), format!("Bearer {OLD}"));
        for bad in ["", "\"quoted-key\"", "two words"] {
            volume.update(bad);
            assert_eq!(bearer(&source), format!("Bearer {OLD}"), "{bad:?}");
            assert_eq!(last.load(Ordering::SeqCst), 0, "{bad:?}");
        }
        std::fs::remove_dir_all(volume.dir.path().join(format!(
            "..2026_12_01_10_00_0{}.{}",
            volume.version,
            1000 + volume.version
        )))
        .unwrap();
        assert_eq!(bearer(&source), format!("Bearer {OLD}"), "a dangling link");
        assert_eq!(last.load(Ordering::SeqCst), 0);
        volume.update(NEW);
        assert_eq!(bearer(&source), format!("Bearer {NEW}"));
        assert_eq!(last.load(Ordering::SeqCst), 1, "recovered");
    }

    #[test]
    fn a_key_from_the_environment_stays() {
        let source = KeySource::new(&ApiKey::new(OLD).unwrap());
        assert_eq!(bearer(&source), format!("Bearer {OLD}"));
        assert!(!format!("{source:?}").contains(OLD));
    }
}
