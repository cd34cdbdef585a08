//! `--demo` in a build without the simulator (`--no-default-features`): the mode says plainly
//! that it is missing. The same interface as `demo.rs`, which `lib.rs` picks instead by feature.

/// Exit code when the demo cannot run: the build is fine, the mode is missing.
pub const UNAVAILABLE_EXIT: u8 = 2;

/// The simulator this build does not have: no value of it exists.
#[derive(Debug)]
pub enum Never {}

impl Never {
    pub async fn shutdown(self) {
        match self {}
    }
}

pub async fn start(
    _: crate::clock::SharedClock,
) -> Result<(crate::config::Settings, Never), String> {
    Err(
        "this build has no Braze simulator (it was built without the `demo` feature); \
         use a default build, or run with --config.file"
            .into(),
    )
}

pub fn announce(_: &str, _: &str, never: &Never) {
    match *never {}
}
