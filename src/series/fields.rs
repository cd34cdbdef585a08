//! The field tables of the messaging answers, and the metric families every kind exports.
//!
//! A field Braze adds is one row here. A number under a key no table knows is ignored (and
//! logged once): dynamic keys such as `carousel_slide_3_Sale_click` never become metric names.
//! Field names and meanings are from Braze's reference pages and report-metrics glossary
//! (`../shared/braze/MESSAGING-NOTES.md`).

use std::sync::OnceLock;

use super::{FieldSpec, KindSpec, Shape, Value, KINDS};

const fn count(field: &'static str, help: &'static str) -> FieldSpec {
    FieldSpec {
        field,
        metric: field,
        value: Value::Count,
        help,
    }
}

const fn amount(field: &'static str, help: &'static str) -> FieldSpec {
    FieldSpec {
        field,
        metric: field,
        value: Value::Amount,
        help,
    }
}

/// The fields `field` names for conversion events A–D (`{n}` is the event's number), exported
/// as `metric{conversion_event="A"}`…
const fn conversions(field: &'static str, metric: &'static str, help: &'static str) -> FieldSpec {
    FieldSpec {
        field,
        metric,
        value: Value::Count,
        help,
    }
}

const CONVERSIONS: &str = "Conversions of the conversion event (A–D), on the day they happened.";
const BY_SEND_TIME: &str = "Conversions of the conversion event (A–D), on the day of the send.";
const BY_ENTRY_TIME: &str =
    "Conversions of the conversion event (A–D), on the day of the Canvas entry.";
const REVENUE: &str = "Revenue attributed, in the workspace's currency.";
const UNIQUE_RECIPIENTS: &str =
    "Unique recipients of the day (unique per day: never sum over days as people).";

/// The numbers of one variation's object under `messages.<channel>[]` (campaigns, sends,
/// Canvas steps): every channel's fields in one table, since a field means the same on every
/// channel that carries it.
pub static MESSAGE_FIELDS: [FieldSpec; 35] = [
    count("sent", "Messages sent."),
    count("delivered", "Messages delivered."),
    count("undelivered", "Messages not delivered (API sends, push)."),
    count("opens", "Opens (email; Canvas push steps: direct opens)."),
    count("unique_opens", "Unique opens (email; tracked over 7 days)."),
    count("clicks", "Clicks."),
    count("unique_clicks", "Unique clicks (tracked over 7 days)."),
    count("bounces", "Bounces (email, push)."),
    count("unsubscribes", "Unsubscribes (email)."),
    count("reported_spam", "Spam complaints (email)."),
    count("direct_opens", "Direct opens (push)."),
    count("total_opens", "Total opens, direct and influenced (push)."),
    count(
        "influenced_opens",
        "Canvas push steps: the total of direct and influenced opens (Braze's legacy naming).",
    ),
    count("body_clicks", "Body clicks (push)."),
    count("errors", "Errors (webhooks)."),
    count("sent_to_carrier", "Messages sent to the carrier (SMS)."),
    count("rejected", "Messages rejected (SMS)."),
    count("delivery_failed", "Delivery failures (SMS, push sends)."),
    count("opt_out", "Opt-outs (SMS)."),
    count("help", "HELP keyword replies (SMS)."),
    count("failed", "Messages failed (WhatsApp)."),
    count("read", "Messages read (WhatsApp)."),
    count("impressions", "Impressions (in-app messages)."),
    count("total_impressions", "Total impressions (Content Cards)."),
    count("unique_impressions", "Unique impressions (Content Cards)."),
    count("total_clicks", "Total clicks (Content Cards)."),
    count("total_dismissals", "Total dismissals (Content Cards)."),
    count("unique_dismissals", "Unique dismissals (Content Cards)."),
    count(
        "first_button_clicks",
        "First button clicks (in-app messages).",
    ),
    count(
        "second_button_clicks",
        "Second button clicks (in-app messages).",
    ),
    count("enrolled", "Users enrolled in the control group."),
    amount("revenue", REVENUE),
    count("unique_recipients", UNIQUE_RECIPIENTS),
    conversions("conversions{n}", "conversions", CONVERSIONS),
    conversions(
        "conversions{n}_by_send_time",
        "conversions_by_send_time",
        BY_SEND_TIME,
    ),
];

/// The day's own numbers of `/campaigns/data_series`.
pub static CAMPAIGN_FIELDS: [FieldSpec; 4] = [
    count("unique_recipients", UNIQUE_RECIPIENTS),
    amount("revenue", REVENUE),
    conversions("conversions{n}", "conversions", CONVERSIONS),
    conversions(
        "conversions{n}_by_send_time",
        "conversions_by_send_time",
        BY_SEND_TIME,
    ),
];

/// The day's own numbers of `/sends/data_series`: a campaign's.
pub static SEND_FIELDS: &[FieldSpec; 4] = &CAMPAIGN_FIELDS;

/// The numbers of `total_stats` and of each `variant_stats` entry of `/canvas/data_series`.
pub static CANVAS_FIELDS: [FieldSpec; 4] = [
    count("entries", "Entries into the Canvas (or variant)."),
    amount("revenue", REVENUE),
    conversions("conversions{n}", "conversions", CONVERSIONS),
    conversions(
        "conversions{n}_by_entry_time",
        "conversions_by_entry_time",
        BY_ENTRY_TIME,
    ),
];

/// The numbers of each `step_stats` entry (beside its `messages`): a variant's, without
/// entries.
pub static CANVAS_STEP_FIELDS: &[FieldSpec] = CANVAS_FIELDS.split_at(1).1;

/// One metric family of a kind: its name and help text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub name: String,
    pub help: String,
}

/// Every metric family of a kind, and where each field of each level of its answer goes.
#[derive(Debug)]
pub struct Families {
    pub list: Vec<Family>,
    /// `by_level[level][i]`: the family of the level's `fields[i]`.
    by_level: Vec<Vec<u16>>,
}

impl Families {
    /// The family index of the `field_index`th field of `level`.
    pub fn of_field(&self, level: usize, field_index: usize) -> u16 {
        self.by_level[level][field_index]
    }

    fn of(spec: &KindSpec) -> Self {
        let levels = match &spec.shape {
            Shape::Field { .. } => {
                return Self {
                    list: vec![Family {
                        name: spec.metric.to_string(),
                        help: spec.help.to_string(),
                    }],
                    by_level: Vec::new(),
                }
            }
            Shape::Messages(levels) => &levels[..],
            Shape::CanvasStats(levels) => &levels[..],
        };
        let mut list: Vec<Family> = Vec::new();
        let by_level = levels
            .iter()
            .map(|level| {
                level
                    .fields
                    .iter()
                    .map(|field| {
                        let name = format!("{}_{}{}", spec.metric, level.prefix, field.metric);
                        let index = list.iter().position(|f| f.name == name).unwrap_or_else(|| {
                            list.push(Family {
                                help: format!("{} {}", field.help, spec.help),
                                name,
                            });
                            list.len() - 1
                        });
                        index as u16
                    })
                    .collect()
            })
            .collect();
        Self { list, by_level }
    }
}

/// The families of every kind, in the order of [`KINDS`], built once.
pub fn families(spec: &KindSpec) -> &'static Families {
    static ALL: OnceLock<Vec<Families>> = OnceLock::new();
    &ALL.get_or_init(|| KINDS.iter().map(Families::of).collect())[spec.kind as usize]
}

#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::*;

    fn names(kind: Kind) -> Vec<String> {
        families(kind.spec())
            .list
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    #[test]
    fn a_one_field_kind_has_its_metric_only() {
        assert_eq!(names(Kind::Sessions), ["braze_sessions"]);
        assert_eq!(names(Kind::PurchaseRevenue), ["braze_purchase_revenue"]);
    }

    #[test]
    fn conversion_fields_share_a_family_and_levels_their_prefix() {
        let campaign = names(Kind::Campaign);
        assert_eq!(
            campaign[..4],
            [
                "braze_campaign_unique_recipients",
                "braze_campaign_revenue",
                "braze_campaign_conversions",
                "braze_campaign_conversions_by_send_time"
            ]
        );
        assert!(campaign.contains(&"braze_campaign_message_reported_spam".to_string()));
        let families = families(Kind::Campaign.spec());
        assert_eq!(families.of_field(0, 2), 2);
        assert_eq!(families.of_field(0, 3), 3);
        let canvas = names(Kind::Canvas);
        for name in [
            "braze_canvas_entries",
            "braze_canvas_step_revenue",
            "braze_canvas_step_conversions",
            "braze_canvas_step_message_sent",
        ] {
            assert!(canvas.contains(&name.to_string()), "{name}");
        }
        assert!(!canvas.contains(&"braze_canvas_step_entries".to_string()));
    }

    #[test]
    fn family_names_are_unique_and_valid_metric_names() {
        for spec in &KINDS {
            let list = &families(spec).list;
            for (i, family) in list.iter().enumerate() {
                assert!(
                    family
                        .name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{}",
                    family.name
                );
                assert!(!list[..i].contains(family), "{} twice", family.name);
            }
        }
    }

    #[test]
    fn every_field_of_a_level_is_listed_once() {
        for table in [
            &MESSAGE_FIELDS[..],
            &CAMPAIGN_FIELDS[..],
            &CANVAS_FIELDS[..],
            CANVAS_STEP_FIELDS,
        ] {
            for (i, field) in table.iter().enumerate() {
                assert!(
                    !table[..i].iter().any(|f| f.field == field.field),
                    "{}",
                    field.field
                );
            }
        }
    }
}
