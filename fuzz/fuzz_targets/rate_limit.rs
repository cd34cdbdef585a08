//! Braze's `X-RateLimit-*` headers and a gateway's `Retry-After`.
//! The checks are braze_exporter::fuzzing::rate_limit's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::rate_limit(data));
