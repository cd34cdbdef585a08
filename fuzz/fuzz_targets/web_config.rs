//! A `--web.config.file` (exporter-toolkit's format).
//! The checks are braze_exporter::fuzzing::web_config's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::web_config(data));
