//! One day of a Canvas's analytics (`/canvas/data_series`), with every variant and step; the
//! model is [`super::numbers`]' documentation.

use super::day::Seen;
use super::model::{
    conversions, get, make, report, Attribution, Numbers, Work, BY_ENTRY_TIME, CONVERSIONS,
};
use super::{Canvas, CanvasStep, CanvasVariant, Channel};
use crate::counts::{noise, Fnv};

/// One step's numbers in `step_stats`.
#[derive(Debug, Clone)]
pub(crate) struct StepDay<'a> {
    pub(crate) step: &'a CanvasStep,
    pub(crate) numbers: Numbers,
    pub(crate) messages: Vec<(Channel, Numbers)>,
}

/// One day of `/canvas/data_series`, with every variant and step.
#[derive(Debug, Clone)]
pub(crate) struct CanvasDay<'a> {
    pub(crate) totals: Numbers,
    pub(crate) variants: Vec<(&'a CanvasVariant, Numbers)>,
    pub(crate) steps: Vec<StepDay<'a>>,
}

/// The conversion numbers of a Canvas level, in Braze's order after `lead`.
fn canvas_order(lead: &[&'static str], events: usize, tail: &[&'static str]) -> Vec<&'static str> {
    lead.iter()
        .copied()
        .chain(
            CONVERSIONS
                .into_iter()
                .zip(BY_ENTRY_TIME)
                .take(events)
                .flat_map(|(c, b)| [c, b]),
        )
        .chain(tail.iter().copied())
        .collect()
}

/// One day of a Canvas's analytics.
pub(crate) fn canvas_day<'a>(canvas: &'a Canvas, seen: &Seen) -> CanvasDay<'a> {
    let key = Fnv::new().str("canvas").str(&canvas.id);
    let entries = match seen.active(canvas.activity) {
        true => {
            (500 + key.str("base").finish() % 19_501) * noise(key.str("entries").i64(seen.number))
                / 1_000
        }
        false => 0,
    };
    let levels = Levels {
        key,
        seen,
        attribution: Attribution::new(key, canvas.conversion_count(), &BY_ENTRY_TIME),
    };
    let (totals, variants) = levels.variants(canvas, entries);
    let steps = canvas
        .steps
        .iter()
        .enumerate()
        .map(|(k, step)| {
            let reach_per_mille = 900u64.saturating_sub(80 * k as u64).max(100);
            levels.step(step, entries * reach_per_mille / 1_000)
        })
        .collect();
    CanvasDay {
        totals,
        variants,
        steps,
    }
}

/// What the numbers of a Canvas's day are made from.
struct Levels<'s> {
    key: Fnv,
    seen: &'s Seen,
    attribution: Attribution,
}

impl Levels<'_> {
    /// Entries, revenue and conversions of `entries` people.
    fn level(&self, key: Fnv, entries: u64) -> Work {
        let mut work = vec![("entries", entries)];
        conversions(key, entries, self.seen.number, &self.attribution, &mut work);
        work
    }

    /// `total_stats`, and each variant's numbers: `entries` shared by weight, the total their
    /// sum and that of variants since removed.
    fn variants<'a>(
        &self,
        canvas: &'a Canvas,
        entries: u64,
    ) -> (Numbers, Vec<(&'a CanvasVariant, Numbers)>) {
        let weights: Vec<u64> = canvas
            .variants
            .iter()
            .map(|v| 500 + self.key.str("weight").str(&v.id).finish() % 1_001)
            .collect();
        let weight_sum = weights.iter().sum::<u64>().max(1);
        let works: Vec<Work> = canvas
            .variants
            .iter()
            .zip(&weights)
            .map(|(variant, weight)| {
                let key = self.key.str("variant").str(&variant.id);
                self.level(key, entries * weight / weight_sum)
            })
            .collect();
        let listed: u64 = works.iter().map(|work| get(work, "entries")).sum();
        let removed = match listed {
            0 => 0,
            _ => 1 + listed * (10 + self.key.str("removed").finish() % 41) / 1_000,
        };
        let mut total = self.level(self.key.str("removed"), removed);
        for work in &works {
            for (field, value) in total.iter_mut() {
                *value += get(work, field);
            }
        }
        let order = canvas_order(&["revenue"], self.attribution.events, &["entries"]);
        let variants = canvas
            .variants
            .iter()
            .zip(&works)
            .map(|(variant, work)| (variant, report(work, order.iter().copied(), self.seen)))
            .collect();
        (report(&total, order.iter().copied(), self.seen), variants)
    }

    /// A step reaching `reached` people: its conversions, and one object per channel.
    fn step<'a>(&self, step: &'a CanvasStep, reached: u64) -> StepDay<'a> {
        let key = self.key.str("step").str(&step.id);
        let order = canvas_order(&["revenue"], self.attribution.events, &[]);
        let numbers = report(&self.level(key, reached), order, self.seen);
        let messages = step
            .channels
            .iter()
            .map(|&channel| {
                let channel_key = key.str(channel.key());
                let channel_share = 300 + channel_key.finish() % 701;
                let rules = channel.step_rules();
                let mut work = Work::new();
                let audience = reached * channel_share / 1_000;
                make(rules, audience, channel_key, self.seen.number, 0, &mut work);
                (
                    channel,
                    report(&work, rules.order.iter().copied(), self.seen),
                )
            })
            .collect();
        StepDay {
            step,
            numbers,
            messages,
        }
    }
}
