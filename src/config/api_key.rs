//! The Braze REST API key: read from a file or the environment, and never shown.
//!
//! The key only ever leaves this type as the value of an `Authorization` header marked
//! sensitive. It has no `Display`, and its `Debug` prints a placeholder, so a log line, an
//! error or a page that formats a config cannot carry it by accident.

use std::fmt;
use std::path::Path;

use reqwest::header::HeaderValue;

/// The environment variable read when `braze.api_key_file` is not set.
pub const API_KEY_ENV: &str = "BRAZE_API_KEY";

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// Checks a key as given; the error never contains the key.
    pub fn new(raw: &str) -> Result<Self, String> {
        let key = raw.trim();
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
        Ok(Self(key.to_string()))
    }

    /// A stand-in for a key that could not be read, so `--config.check` can go on checking the
    /// rest; never sent anywhere.
    pub fn placeholder() -> Self {
        Self("unread-key".into())
    }

    /// The `Authorization` header value, marked sensitive so HTTP layers do not print it.
    pub fn authorization(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0))
            .expect("checked in ApiKey::new: visible ASCII without white space");
        value.set_sensitive(true);
        value
    }

    /// `text` with every occurrence of the key replaced: for text that came from elsewhere.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "<redacted>")
    }

    /// Whether `text` contains this key: for tests that prove it leaks nowhere.
    pub fn appears_in(&self, text: &str) -> bool {
        text.contains(&self.0)
    }
}

/// Where the key comes from: `braze.api_key_file` when set, else the environment variable.
/// The `Err` names the source and says how to give a key.
pub fn resolve(file: Option<&Path>, env_value: Option<String>) -> Result<ApiKey, String> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            ApiKey::new(&text).map_err(|why| format!("the key in {} {why}", path.display()))
        }
        None => match env_value {
            Some(value) => ApiKey::new(&value).map_err(|why| format!("{API_KEY_ENV} {why}")),
            None => Err(format!(
                "no Braze REST API key: set braze.api_key_file to a file that holds it, \
                 or the environment variable {API_KEY_ENV} (the key needs the \
                 sessions.data_series permission)"
            )),
        },
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
        let err = resolve(None, None).unwrap_err();
        assert!(err.contains("braze.api_key_file"), "{err}");
        assert!(err.contains(API_KEY_ENV), "{err}");
    }

    #[test]
    fn file_wins_over_environment_and_is_trimmed() {
        let dir = std::env::temp_dir().join(format!("braze-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api-key");
        std::fs::write(&path, format!("{SECRET}\n")).unwrap();
        let key = resolve(Some(&path), Some("other".into())).unwrap();
        assert_eq!(key, ApiKey::new(SECRET).unwrap());
        let missing = resolve(Some(&dir.join("nope")), None).unwrap_err();
        assert!(
            missing.contains("cannot read") && missing.contains("nope"),
            "{missing}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
