//! The entry points of the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer): one function per
//! input the exporter reads from outside, each running the exporter's own parser on arbitrary
//! bytes and checking what that parser promises: a value that says what the input says, or an
//! error of the documented kind that names the field, never a panic. A broken promise panics
//! here, so libFuzzer keeps and minimises the input like any crash.
//!
//! Compiled with the feature `fuzzing` (off by default, so the exporter's modules stay private
//! and unused code is still reported) and for the tests, which replay every committed corpus
//! input and every regression input through the same functions (`tests.rs`).

mod answer;
mod config;
mod exposition;
mod rate_limit;
mod scrape;
mod time;
mod web_config;

pub use answer::braze_answer;
pub use config::config;
pub use exposition::{exposition, Exposition, Sample, HELP_FAMILY};
pub use rate_limit::rate_limit;
pub use scrape::scrape;
pub use time::braze_time;
pub use web_config::web_config;

#[cfg(test)]
mod tests;

/// The longest error a parser of Braze's answers may return: one log line, whatever Braze sent
/// (a body may be 1 MiB).
const MAX_ERROR_CHARS: usize = 1024;

/// Checks that `message` is one bounded, non-empty log line: `what` names the parser.
fn assert_one_line(what: &str, message: &str) {
    assert!(!message.is_empty(), "{what}: an empty error");
    assert!(
        !message.chars().any(char::is_control),
        "{what}: a control character in the error {message:?}"
    );
    let chars = message.chars().count();
    assert!(
        chars <= MAX_ERROR_CHARS,
        "{what}: an error of {chars} characters (at most {MAX_ERROR_CHARS}): {}…",
        message.chars().take(200).collect::<String>()
    );
}
