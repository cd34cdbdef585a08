//! A configuration file, loaded and described as `--config.check` does.
//! The checks are braze_exporter::fuzzing::config's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::config(data));
