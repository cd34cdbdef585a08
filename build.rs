//! Records the git revision for `braze_exporter_build_info`, when built from a checkout.
use std::process::Command;

fn main() {
    let revision = std::env::var("BRAZE_EXPORTER_REVISION").ok().or_else(|| {
        let out = Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    println!(
        "cargo:rustc-env=BRAZE_EXPORTER_REVISION={}",
        revision.unwrap_or_else(|| "unknown".into())
    );
    println!("cargo:rerun-if-env-changed=BRAZE_EXPORTER_REVISION");
    println!("cargo:rerun-if-changed=.git/HEAD");
}
