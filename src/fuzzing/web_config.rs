//! `--web.config.file`, as exporter-toolkit writes it: read from a file beside the certificates
//! and key it may name, as a real one is.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::http::web_config::WebSettings;

/// The top-level fields; every error names one, or is about the YAML itself.
const FIELDS: [&str; 4] = [
    "tls_server_config",
    "http_server_config",
    "rate_limit",
    "basic_auth_users",
];

/// exporter-toolkit's test certificates (its `web/testdata`), which its web configs name.
const FILES: [(&str, &str); 4] = [
    ("server.crt", include_str!("testdata/server.crt")),
    ("server.key", include_str!("testdata/server.key")),
    (
        "client_selfsigned.pem",
        include_str!("testdata/client_selfsigned.pem"),
    ),
    (
        "client2_selfsigned.pem",
        include_str!("testdata/client2_selfsigned.pem"),
    ),
];

/// Loads the input as the web config file; an error names the file, then the field.
pub fn web_config(data: &[u8]) {
    // One file per thread: the tests replay inputs on several at once.
    let thread = format!("{:?}", std::thread::current().id());
    let path = directory().join(format!(
        "web-{}.yml",
        thread.trim_matches(|c: char| !c.is_ascii_digit())
    ));
    std::fs::write(&path, data).expect("the fuzz directory is writable");
    let Err(why) = WebSettings::load(&path) else {
        return;
    };
    let prefix = format!("{}: ", path.display());
    let rest = why
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{why:?} does not start with the file"));
    assert!(!rest.trim().is_empty(), "{why:?} says nothing");
    // `field: …` or `field.setting: …` names a field of the file; anything else is about the
    // file as a whole (the YAML's syntax, a field that is no setting, not a mapping).
    let word_end = rest
        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .unwrap_or(rest.len());
    if rest[word_end..].starts_with(['.', ':']) {
        let field = &rest[..word_end];
        assert!(
            FIELDS.contains(&field),
            "{why:?} names no field of the file"
        );
    }
}

/// This process's directory, with the files a web config may name.
fn directory() -> &'static Path {
    static DIRECTORY: OnceLock<PathBuf> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("braze-fuzz-web-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a fuzz directory");
        for (name, text) in FILES {
            std::fs::write(dir.join(name), text).expect("the fuzz directory is writable");
        }
        dir
    })
}
