//! The bytes a scraper sends on one connection.
//! The checks are braze_exporter::fuzzing::scrape's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::scrape(data));
