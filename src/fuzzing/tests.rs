//! Every committed corpus input and every regression input of `fuzz/` through its target's
//! checks: the promises hold in the normal test suite, without libFuzzer.

use std::path::Path;

/// Runs `check` on every file under `fuzz/corpus/<target>` and `fuzz/regressions/<target>`.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for set in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(set).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable directory").path();
            let input = std::fs::read(&path).expect("a readable input");
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
            assert!(
                outcome.is_ok(),
                "{target}: {} breaks a promise",
                path.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed > 0, "{target}: no input to replay");
}

#[test]
fn braze_answers() {
    replay("braze_answer", super::braze_answer);
}

#[test]
fn configs() {
    replay("config", super::config);
}

#[test]
fn web_configs() {
    replay("web_config", super::web_config);
}

#[test]
fn braze_times() {
    replay("braze_time", super::braze_time);
}

#[test]
fn rate_limits() {
    replay("rate_limit", super::rate_limit);
}

#[test]
fn scrapes() {
    replay("scrape", super::scrape);
}

#[test]
fn expositions() {
    replay("exposition", |data| {
        assert!(!super::exposition(data).is_empty());
    });
}
