//! The messaging shapes: campaign and send days (`data[]` with `messages.<channel>[]`) and
//! Canvas days (`data.stats[]` with total, variant and step stats), read into samples by the
//! kind's field tables.
//!
//! Lenient where Braze's pages are: a number under a key no table knows is skipped (and
//! logged once per kind and key), as is a known field that is `null`; a known field whose
//! value is not a number of its kind makes the answer malformed, naming where. Labels are
//! Braze's names, made unique deterministically: a variation named like an earlier one of the
//! same channel gets ` (2)`, ` (3)`…; a Canvas variant or step named like another gets
//! `name (id)`, all but the one with the smallest id (and any named `all`, the total's label).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;
use serde_json::{Map, Value as Json};
use tracing::info;

use super::response::{clip, number, point_start, Point};
use crate::samples::{label_text, Sample, Values};
use crate::series::{families, Families, FieldSpec, KindSpec, Level, Shape, ALL};

/// One campaign or send day: the day's own fields, then every variation of every channel.
pub(super) fn day(
    mut point: Map<String, Json>,
    spec: &KindSpec,
    levels: &[Level; 2],
) -> Result<Values, String> {
    let mut reader = Reader::new(spec);
    let messages = point.remove("messages");
    reader.fields(0, &levels[0], &point, &[], "")?;
    match messages {
        Some(Json::Object(channels)) => {
            for (channel, variations) in &channels {
                let at = format!("messages.{channel}");
                let variations = array(variations, &at)?;
                let mut taken = Vec::new();
                for (i, variation) in variations.iter().enumerate() {
                    let at = format!("{at}[{i}]");
                    let variation = object(variation, &at)?;
                    let name =
                        unique_variation(spec, channel, variation_name(variation, i), &mut taken);
                    let labels = [("channel", channel.as_str()), ("variation", name.as_str())];
                    reader.fields(1, &levels[1], variation, &labels, &at)?;
                }
            }
        }
        Some(Json::Null) | None => {}
        Some(other) => {
            return Err(format!(
                "\"messages\" is not an object: {}",
                clip(&other.to_string())
            ))
        }
    }
    Ok(Values::many(reader.samples))
}

/// Every day of a Canvas answer's `data.stats`.
pub(super) fn canvas(
    stats: Vec<Json>,
    spec: &KindSpec,
    time_zone: &TimeZone,
) -> Result<Vec<Point>, String> {
    let Shape::CanvasStats(levels) = &spec.shape else {
        return Err(format!("{} is not read as Canvas stats", spec.name));
    };
    stats
        .into_iter()
        .enumerate()
        .map(|(i, day)| {
            let at = format!("data.stats[{i}]");
            let mut day = match day {
                Json::Object(day) => day,
                other => return Err(format!("{at}: not an object: {}", clip(&other.to_string()))),
            };
            let start = point_start(&mut day, time_zone).map_err(|why| format!("{at}: {why}"))?;
            let values = canvas_day(&day, spec, levels).map_err(|why| format!("{at}.{why}"))?;
            Ok(Point { start, values })
        })
        .collect()
}

fn canvas_day(
    day: &Map<String, Json>,
    spec: &KindSpec,
    levels: &[Level; 3],
) -> Result<Values, String> {
    let mut reader = Reader::new(spec);
    if let Some(total) = present(day, "total_stats") {
        reader.fields(
            0,
            &levels[0],
            object(total, "total_stats")?,
            &[("variant", ALL)],
            "total_stats",
        )?;
    }
    if let Some(variants) = present(day, "variant_stats") {
        let variants = object(variants, "variant_stats")?;
        for (id, name, variant) in named_entries(spec, variants, "variant_stats")? {
            let at = format!("variant_stats.{id}");
            reader.fields(0, &levels[0], variant, &[("variant", &name)], &at)?;
        }
    }
    if let Some(steps) = present(day, "step_stats") {
        let steps = object(steps, "step_stats")?;
        for (id, name, step) in named_entries(spec, steps, "step_stats")? {
            let at = format!("step_stats.{id}");
            reader.fields(1, &levels[1], step, &[("step", &name)], &at)?;
            let Some(channels) = present(step, "messages") else {
                continue;
            };
            for (channel, messages) in object(channels, &format!("{at}.messages"))? {
                let at = format!("{at}.messages.{channel}");
                for (i, message) in array(messages, &at)?.iter().enumerate() {
                    let at = format!("{at}[{i}]");
                    let labels = [("step", name.as_str()), ("channel", channel.as_str())];
                    reader.fields(2, &levels[2], object(message, &at)?, &labels, &at)?;
                }
            }
        }
    }
    Ok(Values::many(reader.samples))
}

/// Collects the samples of one day.
struct Reader<'a> {
    spec: &'a KindSpec,
    families: &'static Families,
    samples: Vec<Sample>,
}

impl<'a> Reader<'a> {
    fn new(spec: &'a KindSpec) -> Self {
        Self {
            spec,
            families: families(spec),
            samples: Vec::new(),
        }
    }

    /// The numbers of `object` that `level` knows, each labelled `labels` (and its
    /// conversion event); `at` names the object in errors.
    fn fields(
        &mut self,
        level_index: usize,
        level: &Level,
        object: &Map<String, Json>,
        labels: &[(&str, &str)],
        at: &str,
    ) -> Result<(), String> {
        let base: Arc<str> = label_text(labels.iter().copied()).into();
        let mut by_event: HashMap<&str, Arc<str>> = HashMap::new();
        for (key, raw) in object {
            let found = level
                .fields
                .iter()
                .enumerate()
                .find_map(|(i, f)| Some((i, f.matches(key)?)));
            let Some((i, event)) = found else {
                if raw.is_number() {
                    note_once(
                        self.spec,
                        "field",
                        key,
                        "a number Braze sent under a key this exporter does not know is ignored",
                    );
                }
                continue;
            };
            if raw.is_null() {
                continue;
            }
            let field: &FieldSpec = &level.fields[i];
            let value = number(key, raw, field.value).map_err(|why| match at {
                "" => why,
                at => format!("{at}: {why}"),
            })?;
            let labels = match event {
                None => base.clone(),
                Some(event) => by_event
                    .entry(event)
                    .or_insert_with(|| with_event(&base, event))
                    .clone(),
            };
            self.samples.push(Sample {
                family: self.families.of_field(level_index, i),
                labels,
                value,
            });
        }
        Ok(())
    }
}

fn with_event(base: &str, event: &str) -> Arc<str> {
    let event = label_text([("conversion_event", event)]);
    match base {
        "" => event.into(),
        base => format!("{base},{event}").into(),
    }
}

/// A variation's label: its name when Braze gives one, else its API id, else its position.
fn variation_name(variation: &Map<String, Json>, index: usize) -> String {
    ["variation_name", "variation_api_id"]
        .iter()
        .filter_map(|key| variation.get(*key)?.as_str())
        .find(|name| !name.trim().is_empty())
        .map_or_else(|| format!("variation {}", index + 1), str::to_string)
}

/// `name`, or `name (2)`, `name (3)`… when an earlier variation of the channel has it.
fn unique_variation(
    spec: &KindSpec,
    channel: &str,
    name: String,
    taken: &mut Vec<String>,
) -> String {
    let mut unique = name.clone();
    let mut n = 1;
    while taken.contains(&unique) {
        n += 1;
        unique = format!("{name} ({n})");
    }
    if n > 1 {
        note_once(
            spec,
            "variation",
            &format!("{channel}/{name}"),
            "two variations of one channel share a name; the later ones are labelled \"name (2)\"…",
        );
    }
    taken.push(unique.clone());
    unique
}

/// An entry of `variant_stats` or `step_stats`: its id, its label and its numbers.
type Named<'m> = (&'m str, String, &'m Map<String, Json>);

/// The entries of `variant_stats` or `step_stats` (keyed by id, each with a `name`) with
/// unique labels: the name, or `name (id)` for all but the smallest id of a shared name.
fn named_entries<'m>(
    spec: &KindSpec,
    entries: &'m Map<String, Json>,
    at: &str,
) -> Result<Vec<Named<'m>>, String> {
    let mut read = Vec::with_capacity(entries.len());
    for (id, entry) in entries {
        let entry = object(entry, &format!("{at}.{id}"))?;
        let name = entry
            .get("name")
            .and_then(Json::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(id);
        read.push((id.as_str(), name, entry));
    }
    read.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    let mut taken: HashSet<&str> = HashSet::from([ALL]);
    Ok(read
        .into_iter()
        .map(|(id, name, entry)| {
            let label = match taken.insert(name) {
                true => name.to_string(),
                false => {
                    note_once(
                        spec,
                        at,
                        name,
                        "two share this name; all but the smallest id are labelled \"name (id)\"",
                    );
                    format!("{name} ({id})")
                }
            };
            (id, label, entry)
        })
        .collect())
}

/// `map[key]` unless absent or `null` (Braze leaves breakdowns out unless asked).
fn present<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m Json> {
    map.get(key).filter(|v| !v.is_null())
}

fn object<'j>(value: &'j Json, at: &str) -> Result<&'j Map<String, Json>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{at}: not an object: {}", clip(&value.to_string())))
}

fn array<'j>(value: &'j Json, at: &str) -> Result<&'j Vec<Json>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{at}: not an array: {}", clip(&value.to_string())))
}

/// How many distinct notes are logged at most: dynamic keys (`carousel_slide_3_Sale_click`)
/// are unbounded, the memory of what was logged must not be.
const MAX_NOTES: usize = 1_000;

/// Logs `why` once per kind, topic and name.
fn note_once(spec: &KindSpec, topic: &str, name: &str, why: &str) {
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!("{}/{topic}/{name}", spec.name);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashSet::new);
    if seen.len() < MAX_NOTES && seen.insert(key) {
        info!(kind = spec.name, topic, name = %clip(name), "{why}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::response::parse_points;
    use super::*;
    use crate::series::Kind;

    /// Every sample of a day as `metric{labels} value`, sorted.
    fn samples(kind: Kind, body: &str) -> Result<Vec<String>, String> {
        let spec = kind.spec();
        let points = parse_points(body.as_bytes(), spec, &TimeZone::UTC)?;
        let families = &families(spec).list;
        let mut out = Vec::new();
        for point in points {
            for (f, family) in families.iter().enumerate() {
                for (labels, value) in point.values.of_family(f as u16) {
                    out.push(format!(
                        "{} {}{{{labels}}} {value}",
                        point.start, family.name
                    ));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The documented campaign shape, both variation forms, a control group, a dynamic key.
    const CAMPAIGN: &str = r#"{"message":"success","data":[{"time":"2026-11-30",
        "unique_recipients":10,"revenue":"12.5","conversions":1,"conversions1":2,"conversions2":0,"conversions3":4,
        "conversions_by_send_time":3,"conversions1_by_send_time":0,"conversions2_by_send_time":0,"conversions3_by_send_time":0,
        "messages":{
          "email":[{"variation_api_id":"v-1","sent":100,"delivered":98,"bounces":2,"reported_spam":1}],
          "ios_push":[{"variation_name":"Variant A","sent":5,"direct_opens":1,"carousel_slide_3_Sale_click":7}],
          "trigger_in_app_message":[{"variation_name":"Control Group","enrolled":3,"revenue":0.5,"conversions":1}]}}]}"#;

    #[test]
    fn a_campaign_day_becomes_samples_per_channel_and_variation() {
        let got = samples(Kind::Campaign, CAMPAIGN).unwrap();
        let day = "2026-11-30T00:00:00Z";
        for expected in [
            "braze_campaign_unique_recipients{} 10",
            "braze_campaign_revenue{} 12.5",
            r#"braze_campaign_conversions{conversion_event="A"} 1"#,
            r#"braze_campaign_conversions{conversion_event="D"} 4"#,
            r#"braze_campaign_conversions_by_send_time{conversion_event="A"} 3"#,
            r#"braze_campaign_message_sent{channel="email",variation="v-1"} 100"#,
            r#"braze_campaign_message_reported_spam{channel="email",variation="v-1"} 1"#,
            r#"braze_campaign_message_direct_opens{channel="ios_push",variation="Variant A"} 1"#,
            r#"braze_campaign_message_enrolled{channel="trigger_in_app_message",variation="Control Group"} 3"#,
            r#"braze_campaign_message_conversions{channel="trigger_in_app_message",variation="Control Group",conversion_event="A"} 1"#,
        ] {
            let line = format!("{day} {expected}");
            assert!(got.contains(&line), "{line} missing from {got:#?}");
        }
        assert!(
            !got.iter().any(|l| l.contains("carousel")),
            "a dynamic key never becomes a metric"
        );
        assert_eq!(got.len(), 10 + 4 + 2 + 3, "{got:#?}");
    }

    #[test]
    fn a_send_is_read_as_a_campaign() {
        let got = samples(Kind::Send, CAMPAIGN).unwrap();
        assert!(got.contains(
            &r#"2026-11-30T00:00:00Z braze_send_message_sent{channel="email",variation="v-1"} 100"#
                .to_string()
        ));
        assert!(got.contains(&"2026-11-30T00:00:00Z braze_send_unique_recipients{} 10".to_string()));
    }

    #[test]
    fn variations_of_one_name_are_told_apart_in_braze_order() {
        let body = r#"{"data":[{"time":"2026-11-30","messages":{"sms":[
            {"variation_name":"A","sent":1},{"variation_name":"A","sent":2},{"sent":3},{"variation_name":"","variation_api_id":"id-9","sent":4}]}}]}"#;
        let got = samples(Kind::Campaign, body).unwrap();
        let sent: Vec<&str> = got.iter().map(|l| l.split_once(' ').unwrap().1).collect();
        assert_eq!(
            sent,
            [
                r#"braze_campaign_message_sent{channel="sms",variation="A (2)"} 2"#,
                r#"braze_campaign_message_sent{channel="sms",variation="A"} 1"#,
                r#"braze_campaign_message_sent{channel="sms",variation="id-9"} 4"#,
                r#"braze_campaign_message_sent{channel="sms",variation="variation 3"} 3"#,
            ]
        );
    }

    #[test]
    fn a_wrong_number_in_a_known_field_is_malformed_naming_where() {
        let bad = r#"{"data":[{"time":"2026-11-30","messages":{"email":[{"variation_api_id":"v","sent":-1}]}}]}"#;
        assert_eq!(
            samples(Kind::Campaign, bad).unwrap_err(),
            "data[0]: messages.email[0]: \"sent\" is not a whole number ≥ 0: -1"
        );
        let bad = r#"{"data":[{"time":"2026-11-30","revenue":"lots"}]}"#;
        assert_eq!(
            samples(Kind::Campaign, bad).unwrap_err(),
            "data[0]: \"revenue\" is not a finite number: \"lots\""
        );
        let bad = r#"{"data":[{"time":"2026-11-30","messages":{"email":{}}}]}"#;
        assert!(samples(Kind::Campaign, bad)
            .unwrap_err()
            .contains("messages.email: not an array"));
        // Lenient where Braze's pages are: null fields, no messages, strings beside numbers.
        let lenient = r#"{"data":[{"time":"2026-11-30","sent":null,"unique_recipients":null,"messages":null,"note":"x"}]}"#;
        assert_eq!(samples(Kind::Campaign, lenient), Ok(vec![]));
    }

    /// The documented Canvas shape with variants and steps; two steps share a name.
    const CANVAS: &str = r#"{"message":"success","data":{"name":"Welcome journey","stats":[{"time":"2026-11-30",
        "total_stats":{"revenue":1.5,"conversions":3,"conversions_by_entry_time":2,"entries":40},
        "variant_stats":{"var-2":{"name":"Variant 1","revenue":1.0,"conversions":2,"conversions_by_entry_time":1,"entries":25},
                         "var-1":{"name":"all","entries":15}},
        "step_stats":{"st-2":{"name":"Day 1 email","revenue":0.5,"conversions":1,"conversions1":1,
                         "messages":{"email":[{"sent":30,"opens":9,"unique_opens":8,"clicks":1}],
                                     "android_push":[{"sent":4,"influenced_opens":2},{"sent":6,"influenced_opens":1}]}},
                      "st-1":{"name":"Day 1 email","messages":{"webhook":[{"sent":2,"errors":1}]}}}}]}}"#;

    #[test]
    fn a_canvas_day_becomes_total_variant_and_step_samples() {
        let got = samples(Kind::Canvas, CANVAS).unwrap();
        let day = "2026-11-30T00:00:00Z";
        for expected in [
            r#"braze_canvas_entries{variant="all"} 40"#,
            r#"braze_canvas_entries{variant="Variant 1"} 25"#,
            r#"braze_canvas_entries{variant="all (var-1)"} 15"#,
            r#"braze_canvas_conversions{variant="all",conversion_event="A"} 3"#,
            r#"braze_canvas_conversions_by_entry_time{variant="Variant 1",conversion_event="A"} 1"#,
            r#"braze_canvas_step_revenue{step="Day 1 email (st-2)"} 0.5"#,
            r#"braze_canvas_step_conversions{step="Day 1 email (st-2)",conversion_event="B"} 1"#,
            r#"braze_canvas_step_message_sent{step="Day 1 email (st-2)",channel="email"} 30"#,
            r#"braze_canvas_step_message_influenced_opens{step="Day 1 email (st-2)",channel="android_push"} 3"#,
            r#"braze_canvas_step_message_sent{step="Day 1 email (st-2)",channel="android_push"} 10"#,
            r#"braze_canvas_step_message_errors{step="Day 1 email",channel="webhook"} 1"#,
        ] {
            let line = format!("{day} {expected}");
            assert!(got.contains(&line), "{line} missing from {got:#?}");
        }
    }

    #[test]
    fn a_canvas_answer_is_under_data_stats() {
        let flat = r#"{"data":[{"time":"2026-11-30","entries":1}]}"#;
        assert!(samples(Kind::Canvas, flat)
            .unwrap_err()
            .starts_with("no \"data\" object"));
        let no_stats = r#"{"data":{"name":"x"}}"#;
        assert_eq!(samples(Kind::Canvas, no_stats), Ok(vec![]));
        let bad_step = r#"{"data":{"stats":[{"time":"2026-11-30","step_stats":{"s":{"name":"x","revenue":"?"}}}]}}"#;
        assert_eq!(
            samples(Kind::Canvas, bad_step).unwrap_err(),
            "data.stats[0].step_stats.s: \"revenue\" is not a finite number: \"?\""
        );
    }
}
