//! What one bucket of one series holds: a single number (the kinds of one field, such as
//! sessions), or the many samples of a messaging answer (per channel, variation, variant, step
//! and conversion event).
//!
//! A sample names its metric by an index into its kind's families ([`crate::series::Families`])
//! and carries its own labels as the text format writes them (`channel="email",variation="A"`),
//! escaped once when the answer is read. Samples of one channel and variation share that text.

use std::sync::Arc;

/// One number of a messaging answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The position of its metric in the kind's families.
    pub family: u16,
    /// Its labels beyond the series' own, written between braces; empty for none.
    pub labels: Arc<str>,
    pub value: f64,
}

/// The values of one bucket.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// The one value of a kind read from one field (family 0, no labels of its own).
    One(f64),
    /// The samples of a messaging answer, sorted by family then labels, so a family's samples
    /// are one run ([`Values::of_family`]).
    Many(Arc<[Sample]>),
}

impl Values {
    /// Samples in any order; sorted here, so two answers with the same numbers are equal.
    /// Samples of one family and labels become one, their sum: a Canvas step may list several
    /// message objects for one channel, and the step's channel total is what its labels name.
    pub fn many(mut samples: Vec<Sample>) -> Self {
        samples.sort_by(|a, b| (a.family, &a.labels).cmp(&(b.family, &b.labels)));
        samples.dedup_by(|later, kept| {
            let same = later.family == kept.family && later.labels == kept.labels;
            if same {
                kept.value += later.value;
            }
            same
        });
        Values::Many(samples.into())
    }

    /// The samples of family `family`: `(labels, value)`.
    pub fn of_family(&self, family: u16) -> impl Iterator<Item = (&str, f64)> {
        let (one, many): (Option<f64>, &[Sample]) = match self {
            Values::One(value) => ((family == 0).then_some(*value), &[]),
            Values::Many(samples) => {
                let start = samples.partition_point(|s| s.family < family);
                let end = samples.partition_point(|s| s.family <= family);
                (None, &samples[start..end])
            }
        };
        one.map(|v| ("", v))
            .into_iter()
            .chain(many.iter().map(|s| (&*s.labels, s.value)))
    }

    /// The single value of a one-field kind.
    #[cfg(test)]
    pub fn one(&self) -> Option<f64> {
        match self {
            Values::One(value) => Some(*value),
            Values::Many(_) => None,
        }
    }
}

/// `name="value",…` as the text format writes labels: values with backslash, quote and newline
/// escaped.
pub fn label_text<'a>(labels: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = String::new();
    for (i, (name, value)) in labels.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(name);
        text.push_str("=\"");
        escape_into(&mut text, value);
        text.push('"');
    }
    text
}

/// Label values as the text format wants them: backslash, quote and newline escaped.
pub fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(family: u16, labels: &str, value: f64) -> Sample {
        Sample {
            family,
            labels: labels.into(),
            value,
        }
    }

    #[test]
    fn a_family_is_one_run_whatever_the_order_given() {
        let values = Values::many(vec![
            sample(2, "b", 3.0),
            sample(0, "", 1.0),
            sample(2, "a", 2.0),
            sample(5, "", 9.0),
        ]);
        let of = |f| values.of_family(f).collect::<Vec<_>>();
        assert_eq!(of(2), [("a", 2.0), ("b", 3.0)]);
        assert_eq!(of(0), [("", 1.0)]);
        assert_eq!(of(1), []);
        assert_eq!(of(5), [("", 9.0)]);
        assert_eq!(of(6), []);
    }

    #[test]
    fn samples_of_one_label_set_are_summed() {
        let values = Values::many(vec![sample(1, "a", 2.0), sample(1, "a", 3.5)]);
        assert_eq!(values.of_family(1).collect::<Vec<_>>(), [("a", 5.5)]);
    }

    #[test]
    fn one_value_is_family_zero() {
        let one = Values::One(4.0);
        assert_eq!(one.of_family(0).collect::<Vec<_>>(), [("", 4.0)]);
        assert_eq!(one.of_family(1).count(), 0);
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            label_text([("variation", "say \"hi\"\\\n"), ("channel", "sms")]),
            r#"variation="say \"hi\"\\\n",channel="sms""#
        );
        assert_eq!(label_text([]), "");
    }
}
