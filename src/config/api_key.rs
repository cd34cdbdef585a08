//! The Braze REST API key: read from a file or the environment, and never shown.
//!
//! The key only ever leaves this type as the value of an `Authorization` header marked
//! sensitive. It has no `Display`, and its `Debug` prints a placeholder, so a log line, an
//! error or a page that formats a config cannot carry it by accident.

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::header::HeaderValue;

use super::KeyNeed;

/// The environment variable read when `braze.api_key_file` is not set; when both are given,
/// the file wins and the variable is not read.
pub const API_KEY_ENV: &str = "BRAZE_API_KEY";

/// The most a key file (or the variable) may hold: a Braze REST API key is a 36-character
/// UUID, so this leaves room for a newline and any future format, and nothing near a memory
/// or header-size problem.
pub const MAX_KEY_BYTES: u64 = 1024;

/// A key that could not be had, with the place to fix it: `braze.api_key_file` (its file, or
/// no key at all) or the environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// The configuration field to name, or "" when the problem is in the environment.
    pub field: &'static str,
    pub message: String,
}

impl KeyError {
    fn file(message: String) -> Self {
        Self {
            field: "braze.api_key_file",
            message,
        }
    }

    fn env(why: String) -> Self {
        Self {
            field: "",
            message: format!("the environment variable {API_KEY_ENV} {why}"),
        }
    }
}

/// A key, and the file it was read from (to read again when it changes; see
/// [`super::KeySource`]). Two keys are equal when their text is, wherever they came from.
#[derive(Clone)]
pub struct ApiKey {
    key: String,
    file: Option<PathBuf>,
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for ApiKey {}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// Checks a key as given; the error never contains the key.
    pub fn new(raw: &str) -> Result<Self, String> {
        // A UTF-8 byte-order mark, as some Windows editors write: not part of the key.
        let key = raw.trim_start_matches('\u{feff}').trim();
        if key.len() as u64 > MAX_KEY_BYTES {
            return Err(format!(
                "is longer than {MAX_KEY_BYTES} bytes; a Braze REST API key is a 36-character UUID"
            ));
        }
        if key.is_empty() {
            return Err("is empty".into());
        }
        let quoted = |q: char| key.len() >= 2 && key.starts_with(q) && key.ends_with(q);
        if quoted('"') || quoted('\'') {
            return Err("is wrapped in quotes; give the key without them (Braze answers 401 to a quoted key)".into());
        }
        if key.to_ascii_lowercase().starts_with("bearer ") {
            return Err(
                "starts with \"Bearer \"; give only the key, the exporter adds the scheme".into(),
            );
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains white space or control characters".into());
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "contains characters other than visible ASCII (Braze would answer 401)".into(),
            );
        }
        Ok(Self {
            key: key.to_string(),
            file: None,
        })
    }

    /// The file the key was read from (`braze.api_key_file`), `None` for the environment.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// A stand-in for a key that could not be read, so `--config.check` can go on checking the
    /// rest; never sent anywhere.
    pub fn placeholder() -> Self {
        Self {
            key: "unread-key".into(),
            file: None,
        }
    }

    /// The `Authorization` header value, marked sensitive so HTTP layers do not print it.
    pub fn authorization(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.key))
            .expect("checked in ApiKey::new: visible ASCII without white space");
        value.set_sensitive(true);
        value
    }

    /// `text` with every occurrence of the key replaced: for text that came from elsewhere.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.key, "<redacted>")
    }

    /// Whether `text` contains this key: for tests that prove it leaks nowhere.
    #[cfg(test)]
    pub fn appears_in(&self, text: &str) -> bool {
        text.contains(&self.key)
    }
}

/// What a workspace's key is needed for, and what to say when there is none.
pub(super) struct KeyRequest {
    /// The value of [`API_KEY_ENV`], if set.
    pub env: Option<String>,
    pub need: KeyNeed,
    /// The permissions of every kind the workspace exports, named when no key is given.
    pub permissions: Vec<&'static str>,
}

impl KeyRequest {
    /// The key at `file` (or the environment's) as [`KeyRequest::need`] asks: read, read with a
    /// placeholder and a warning in place of an error (`--config.check`), or not read at all (a
    /// workspace this process does not run).
    pub fn key(&self, file: Option<&Path>) -> Result<(ApiKey, Option<KeyError>), KeyError> {
        if self.need == KeyNeed::NotRun {
            return Ok((ApiKey::placeholder(), None));
        }
        match (
            resolve(file, self.env.clone(), &self.permissions),
            self.need,
        ) {
            (Ok(key), _) => Ok((key, None)),
            (Err(why), KeyNeed::WarnIfUnreadable) => Ok((ApiKey::placeholder(), Some(why))),
            (Err(why), _) => Err(why),
        }
    }
}

/// Where the key comes from: `braze.api_key_file` when set (the environment variable is then
/// not read), else the environment variable. The error names the source, says how to give a
/// key and which `permissions` it needs, and when the file fails while the variable is set,
/// that the variable was not used.
pub fn resolve(
    file: Option<&Path>,
    env_value: Option<String>,
    permissions: &[&str],
) -> Result<ApiKey, KeyError> {
    match (file, env_value) {
        (Some(path), env_value) => read_key(path).map_err(|why| match env_value {
            Some(_) => KeyError::file(format!(
                "{why} ({API_KEY_ENV} is set but not used: braze.api_key_file wins when both are given)"
            )),
            None => KeyError::file(why),
        }),
        (None, Some(value)) => ApiKey::new(&value).map_err(KeyError::env),
        (None, None) => Err(KeyError::file(format!(
            "no Braze REST API key: set braze.api_key_file to a file that holds it, \
             or the environment variable {API_KEY_ENV} (the key needs {})",
            needed(permissions)
        ))),
    }
}

/// "the permission a", "the permissions a, b and c".
fn needed(permissions: &[&str]) -> String {
    match permissions {
        [] => "the permission of each exported kind".into(),
        [one] => format!("the permission {one}"),
        [first @ .., last] => format!("the permissions {} and {last}", first.join(", ")),
    }
}

/// Reads and checks the key in a file, at start, on reload and when the file changes: the one
/// reader of key files. The error names the file and never contains the key.
pub(super) fn read_key(path: &Path) -> Result<ApiKey, String> {
    let text = read_key_file(path)?;
    let mut key =
        ApiKey::new(&text).map_err(|why| format!("the key in {} {why}", path.display()))?;
    key.file = Some(path.to_path_buf());
    Ok(key)
}

/// Reads a key file: a regular file (after symlinks, so a mounted Secret's links work) of at
/// most [`MAX_KEY_BYTES`], in UTF-8. A FIFO, a device like /dev/zero or a directory is
/// refused without reading it, so nothing can block or grow without bound.
fn read_key_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Opening a FIFO for reading would wait for a writer; non-blocking, it does not.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !metadata.is_file() {
        return Err(format!(
            "{shown} is not a regular file ({}); give the file that holds the key",
            kind(&metadata)
        ));
    }
    if metadata.len() > MAX_KEY_BYTES {
        return Err(format!(
            "{shown} holds {} bytes, more than {MAX_KEY_BYTES}; a Braze REST API key is a 36-character UUID",
            metadata.len()
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_KEY_BYTES {
        return Err(format!("{shown} holds more than {MAX_KEY_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

fn kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a directory"
    } else {
        "not a plain file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123abcd-secret-key";

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new(SECRET).unwrap();
        assert!(!format!("{key:?}").contains(SECRET));
        assert!(key.appears_in(&format!("x{SECRET}y")));
        assert_eq!(key.redact(&format!("x{SECRET}y")), "x<redacted>y");
    }

    #[test]
    fn authorization_header_is_bearer_and_sensitive() {
        let value = ApiKey::new(&format!(" {SECRET}\n"))
            .unwrap()
            .authorization();
        assert_eq!(value.to_str().unwrap(), format!("Bearer {SECRET}"));
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains(SECRET));
    }

    #[test]
    fn refuses_keys_braze_would_refuse_without_echoing_them() {
        for bad in ["", "  \n", "\"abc\"", "'abc'", "Bearer abc", "ab c"] {
            let err = ApiKey::new(bad).unwrap_err();
            assert!(bad.trim().is_empty() || !err.contains(bad.trim()), "{err}");
        }
        assert!(ApiKey::new("\"abc\"").unwrap_err().contains("quotes"));
    }

    #[test]
    fn missing_key_says_how_to_give_one() {
        let err = resolve(None, None, &[]).unwrap_err().message;
        assert!(err.contains("braze.api_key_file"), "{err}");
        assert!(err.contains(API_KEY_ENV), "{err}");
    }

    #[test]
    fn file_wins_over_environment_and_is_trimmed() {
        let dir = std::env::temp_dir().join(format!("braze-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api-key");
        std::fs::write(&path, format!("{SECRET}\n")).unwrap();
        let key = resolve(Some(&path), Some("other".into()), &[]).unwrap();
        assert_eq!(key, ApiKey::new(SECRET).unwrap());
        let missing = resolve(Some(&dir.join("nope")), None, &[])
            .unwrap_err()
            .message;
        assert!(
            missing.contains("cannot read") && missing.contains("nope"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn only_a_small_regular_file_is_read() {
        for special in ["/dev/zero", "/dev/null"] {
            let err = resolve(Some(Path::new(special)), None, &[]).unwrap_err();
            assert_eq!(err.field, "braze.api_key_file");
            assert!(err.message.contains("not a regular file"), "{err:?}");
        }
        let dir = temp();
        let err = resolve(Some(dir.path()), None, &[]).unwrap_err();
        assert!(err.message.contains("a directory"), "{err:?}");
        let big = dir.path().join("big");
        std::fs::write(&big, "a".repeat(10 * 1024 * 1024)).unwrap();
        let err = resolve(Some(&big), None, &[]).unwrap_err();
        assert!(err.message.contains("more than 1024"), "{err:?}");
        assert!(err.message.len() < 300, "the file is not echoed");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = temp();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path in our own temporary directory.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = resolve(Some(&fifo), None, &[]).unwrap_err();
        assert!(err.message.contains("a FIFO"), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_key_file_is_followed() {
        let dir = temp();
        let target = dir.path().join("..data-key");
        std::fs::write(&target, SECRET).unwrap();
        let link = dir.path().join("api-key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(
            resolve(Some(&link), None, &[]),
            Ok(ApiKey::new(SECRET).unwrap())
        );
    }

    #[test]
    fn a_byte_order_mark_is_stripped_and_other_non_ascii_refused() {
        let dir = temp();
        let path = dir.path().join("api-key");
        std::fs::write(&path, format!("\u{feff}{SECRET}\r\n")).unwrap();
        let key = resolve(Some(&path), None, &[]).unwrap();
        assert_eq!(key, ApiKey::new(SECRET).unwrap());
        assert_eq!(
            key.authorization().to_str().unwrap(),
            format!("Bearer {SECRET}")
        );
        let err = ApiKey::new(&format!("{SECRET}\u{e9}")).unwrap_err();
        assert!(
            err.contains("visible ASCII") && !err.contains(SECRET),
            "{err}"
        );
        std::fs::write(&path, [0xff, 0xfe, b'a']).unwrap();
        assert!(resolve(Some(&path), None, &[])
            .unwrap_err()
            .message
            .contains("not UTF-8"));
    }

    #[test]
    fn errors_name_the_source_that_is_wrong() {
        let env = resolve(None, Some("\"quoted\"".into()), &[]).unwrap_err();
        assert_eq!(env.field, "");
        assert!(
            env.message
                .starts_with("the environment variable BRAZE_API_KEY "),
            "{env:?}"
        );
        let long = resolve(None, Some("k".repeat(5000)), &[]).unwrap_err();
        assert!(
            long.message.contains("BRAZE_API_KEY is longer than 1024"),
            "{long:?}"
        );
        let dir = temp();
        let path = dir.path().join("api-key");
        std::fs::write(&path, "").unwrap();
        let file = resolve(Some(&path), None, &[]).unwrap_err();
        assert_eq!(file.field, "braze.api_key_file");
        assert!(!file.message.contains(API_KEY_ENV), "{file:?}");
    }

    #[test]
    fn a_file_that_fails_says_the_environment_variable_was_not_used() {
        let dir = temp();
        let missing = dir.path().join("api-key");
        let err = resolve(Some(&missing), Some(SECRET.into()), &[]).unwrap_err();
        assert_eq!(err.field, "braze.api_key_file");
        assert!(err.message.contains("cannot read"), "{err:?}");
        assert!(
            err.message
                .contains("BRAZE_API_KEY is set but not used: braze.api_key_file wins"),
            "{err:?}"
        );
        assert!(!err.message.contains(SECRET), "{err:?}");
    }

    #[test]
    fn a_missing_key_names_the_permission_of_every_exported_kind() {
        let one = resolve(None, None, &["sessions.data_series"]).unwrap_err();
        assert!(
            one.message
                .ends_with("(the key needs the permission sessions.data_series)"),
            "{one:?}"
        );
        let three = resolve(None, None, &["a.x", "b.y", "c.z"]).unwrap_err();
        assert!(
            three
                .message
                .ends_with("(the key needs the permissions a.x, b.y and c.z)"),
            "{three:?}"
        );
    }

    #[test]
    fn a_workspace_not_run_reads_no_file() {
        let request = KeyRequest {
            env: None,
            need: KeyNeed::NotRun,
            permissions: vec![],
        };
        let (key, warning) = request.key(Some(Path::new("/dev/zero"))).unwrap();
        assert_eq!(key, ApiKey::placeholder());
        assert!(warning.is_none());
    }
}
