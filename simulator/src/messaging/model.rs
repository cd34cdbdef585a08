//! How a day's numbers are made: from an audience, by a channel's rules; conversions and
//! revenue from recipients; then reported as seen at an instant ([`Seen`]).

use super::channels::{Derive, Rules};
use super::day::Seen;
use crate::counts::{noise, Fnv};

/// A number as Braze writes it: a count, or dollars with cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Number {
    Count(u64),
    Cents(u64),
}

impl Number {
    pub(crate) fn value(self) -> f64 {
        match self {
            Number::Count(n) => n as f64,
            Number::Cents(cents) => cents as f64 / 100.0,
        }
    }
}

/// Named numbers in the order they are written.
pub(crate) type Numbers = Vec<(&'static str, Number)>;

pub(super) fn find(numbers: &Numbers, field: &str) -> Option<f64> {
    numbers
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, n)| n.value())
}

pub(super) const CONVERSIONS: [&str; 4] = [
    "conversions",
    "conversions1",
    "conversions2",
    "conversions3",
];
pub(super) const BY_SEND_TIME: [&str; 4] = [
    "conversions_by_send_time",
    "conversions1_by_send_time",
    "conversions2_by_send_time",
    "conversions3_by_send_time",
];
pub(super) const BY_ENTRY_TIME: [&str; 4] = [
    "conversions_by_entry_time",
    "conversions1_by_entry_time",
    "conversions2_by_entry_time",
    "conversions3_by_entry_time",
];

fn number(field: &'static str, units: u64) -> (&'static str, Number) {
    if field == "revenue" {
        (field, Number::Cents(units))
    } else {
        (field, Number::Count(units))
    }
}

/// Full-day values of one object, in the order they were made.
pub(super) type Work = Vec<(&'static str, u64)>;

pub(super) fn get(work: &Work, field: &str) -> u64 {
    work.iter()
        .find(|(name, _)| *name == field)
        .map_or(0, |(_, v)| *v)
}

/// `value × (low + hash % spread) / 1000`, ±10% per day.
pub(super) fn scaled(value: u64, key: Fnv, low: u64, spread: u64, day: i64) -> u64 {
    let rate = low + key.finish() % spread.max(1);
    value * rate * noise(key.i64(day)) / 1_000_000
}

/// Makes `rules`' numbers for an object reaching `audience`, after what `work` already holds.
pub(super) fn make(
    rules: &Rules,
    audience: u64,
    key: Fnv,
    day: i64,
    bounce_surge: u64,
    work: &mut Work,
) {
    for rule in rules.make {
        let value = match rule.derive {
            Derive::Audience => audience,
            Derive::Share { of, low, spread } => {
                let rate_key = key.str(rule.field);
                let base = low + rate_key.finish() % spread.max(1);
                let rate = if rule.field == "bounces" {
                    (base + bounce_surge).min(300)
                } else {
                    base
                };
                get(work, of) * rate * noise(rate_key.i64(day)) / 1_000_000
            }
            Derive::Difference { of, minus } => get(work, of).saturating_sub(get(work, minus)),
        };
        work.push((rule.field, value));
    }
}

/// How an owner's (a campaign's, send's or Canvas's) conversions are counted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attribution {
    /// Conversion events reported (1 to 4).
    pub(super) events: usize,
    /// `conversions*_by_send_time` or `conversions*_by_entry_time`.
    by_time: &'static [&'static str; 4],
    /// The price of a conversion of event A: $5.00 to $49.99 (hash of the owner).
    price_cents: u64,
}

impl Attribution {
    pub(super) fn new(owner: Fnv, events: usize, by_time: &'static [&'static str; 4]) -> Self {
        Self {
            events,
            by_time,
            price_cents: 500 + owner.str("price").finish() % 4_500,
        }
    }
}

/// Revenue and conversions of `recipients`, as `(revenue, conversions, by_time, conversions1,
/// by_time1, …)`.
pub(super) fn conversions(
    key: Fnv,
    recipients: u64,
    day: i64,
    attribution: &Attribution,
    work: &mut Work,
) {
    let mut previous = recipients;
    let mut first = 0;
    let mut made = Vec::with_capacity(attribution.events * 2);
    for (event, (name, by_time)) in CONVERSIONS
        .into_iter()
        .zip(attribution.by_time.iter().copied())
        .take(attribution.events)
        .enumerate()
    {
        let count = if event == 0 {
            scaled(previous, key.str(name), 30, 51, day)
        } else {
            scaled(previous, key.str(name), 300, 401, day)
        };
        if event == 0 {
            first = count;
        }
        made.push((name, count));
        made.push((by_time, scaled(count, key.str(by_time), 850, 301, day)));
        previous = count;
    }
    let noise = noise(key.str("revenue").i64(day));
    work.push(("revenue", first * attribution.price_cents * noise / 1_000));
    work.extend(made);
}

/// The numbers of `fields` in that order, as reported.
pub(super) fn report(
    work: &Work,
    fields: impl IntoIterator<Item = &'static str>,
    seen: &Seen,
) -> Numbers {
    fields
        .into_iter()
        .filter_map(|field| {
            work.iter()
                .find(|(name, _)| *name == field)
                .map(|(_, full)| number(field, seen.reported(field, *full)))
        })
        .collect()
}
