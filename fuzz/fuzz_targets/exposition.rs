//! The round trip: label values and a help text from the input, rendered by the snapshot's
//! encoder (braze_exporter::fuzzing::exposition, which also counts the text's lines), read back
//! by openmetrics-parser, a parser of the text format this project did not write: every sample
//! with the same labels and value, none lost or added, and the same help text.
#![no_main]

use braze_exporter::fuzzing::{exposition, Exposition, Sample, HELP_FAMILY};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for rendered in exposition(data) {
        read_back(&rendered);
    }
});

fn read_back(rendered: &Exposition) {
    // openmetrics-parser ends a line at a lone CR too (pest's NEWLINE), which the text format
    // does not: a CR in a label value or help text is valid there, and Prometheus reads it.
    // Such texts are checked by the line count alone.
    if rendered.text.contains('\r') {
        return;
    }
    let parsed = parse_prometheus(&rendered.text)
        .unwrap_or_else(|e| panic!("not read back: {e:?}\n{}", rendered.text));
    let mut read = samples(&parsed);
    let mut expected = rendered.samples.clone();
    let order = |a: &Sample, b: &Sample| (&a.metric, &a.labels).cmp(&(&b.metric, &b.labels));
    read.sort_by(order);
    expected.sort_by(order);
    assert_eq!(read, expected, "read back otherwise\n{}", rendered.text);
    let help = &parsed.families[HELP_FAMILY].help;
    assert_eq!(help, &rendered.help, "the help text read back otherwise");
}

fn samples(parsed: &MetricsExposition<PrometheusType, PrometheusValue>) -> Vec<Sample> {
    let mut samples = Vec::new();
    for family in parsed.families.values() {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().expect("labels read back");
            let mut labels: Vec<(String, String)> = labels
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            labels.sort();
            let value = match &sample.value {
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                other => panic!("{}: not a gauge: {other:?}", family.family_name),
            };
            samples.push(Sample {
                metric: family.family_name.clone(),
                labels,
                value,
            });
        }
    }
    samples
}
