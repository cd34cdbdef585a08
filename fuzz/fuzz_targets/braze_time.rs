//! A time in a Braze answer, in a company time zone; `ending_at` read back.
//! The checks are braze_exporter::fuzzing::braze_time's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::braze_time(data));
