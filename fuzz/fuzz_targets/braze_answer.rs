//! A 2xx body of Braze's, decoded as the answer of every kind of the kinds table.
//! The checks are braze_exporter::fuzzing::braze_answer's.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| braze_exporter::fuzzing::braze_answer(data));
