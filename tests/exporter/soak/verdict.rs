//! What the soak measured, and its verdict.

use super::{Settings, BUDGET_PER_HOUR, CAMPAIGN_BUDGET_PER_MINUTE, WORKSPACES};

/// One reading of the exporter process.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub(super) minutes: f64,
    pub(super) rss_kib: u64,
    pub(super) hwm_kib: u64,
    /// User and system CPU time of the exporter so far.
    pub(super) cpu_seconds: f64,
    pub(super) threads: u64,
    pub(super) fds: u64,
    /// Requests to the simulators, in all and to campaign analytics (the rest is the shared
    /// pool's, but for discovery's few of the lists pool).
    pub(super) requests: u64,
    pub(super) campaign_requests: u64,
    pub(super) reloads: u64,
    pub(super) scrapes: u64,
}

impl Sample {
    pub(super) const CSV_HEADER: &str =
        "minutes,rss_kib,hwm_kib,cpu_seconds,threads,fds,requests,campaign_requests,reloads,scrapes";

    pub(super) fn csv(&self) -> String {
        format!(
            "{:.2},{},{},{:.2},{},{},{},{},{},{}",
            self.minutes,
            self.rss_kib,
            self.hwm_kib,
            self.cpu_seconds,
            self.threads,
            self.fds,
            self.requests,
            self.campaign_requests,
            self.reloads,
            self.scrapes
        )
    }
}

/// What a run measured and how it ended.
pub(super) struct Outcome {
    pub(super) settings: Settings,
    pub(super) samples: Vec<Sample>,
    pub(super) scrapes: u64,
    pub(super) scrape_failures: u64,
    /// Scrapes checked for the messaging kinds ([`super::workload::MESSAGING_SHOWN`]) from
    /// the first minute on, and how many of them lacked each.
    pub(super) messaging_checks: u64,
    pub(super) messaging_absent: Vec<(&'static str, u64)>,
    pub(super) exited_cleanly: bool,
    /// The exporter's log lines that report a panic.
    pub(super) panics: Vec<String>,
}

pub(super) fn print_progress(s: &Sample) {
    eprintln!(
        "soak: {:6.1} min  rss {:7.1} MiB  hwm {:7.1} MiB  threads {:3}  fds {:4}  requests {:9} (campaigns {:8})  reloads {:5}  scrapes {:7}",
        s.minutes,
        s.rss_kib as f64 / 1024.0,
        s.hwm_kib as f64 / 1024.0,
        s.threads,
        s.fds,
        s.requests,
        s.campaign_requests,
        s.reloads,
        s.scrapes
    );
}

/// The figures BENCHMARKS.md reports.
pub(super) fn summarize(outcome: &Outcome) {
    let (samples, scrapes, scrape_failures) =
        (&outcome.samples, outcome.scrapes, outcome.scrape_failures);
    let mib = |s: &Sample| s.rss_kib as f64 / 1024.0;
    let at = |minute: f64| samples.iter().find(|s| s.minutes >= minute);
    let (first, last) = (samples[0], *samples.last().expect("sampled"));
    for (name, sample) in [
        ("first sample", Some(&first)),
        ("1 min", at(1.0)),
        ("60 min", at(60.0)),
    ] {
        if let Some(s) = sample {
            eprintln!(
                "soak: rss at {name} ({:.1} min): {:.1} MiB",
                s.minutes,
                mib(s)
            );
        }
    }
    eprintln!(
        "soak: messaging kinds lacking in {} scrapes checked: {:?}",
        outcome.messaging_checks, outcome.messaging_absent
    );
    let cpu_per_request =
        (last.cpu_seconds - first.cpu_seconds) / (last.requests - first.requests) as f64;
    eprintln!(
        "soak: {:.1} min, {} requests to Braze ({} to campaign analytics), {} reloads, {scrapes} scrapes ({scrape_failures} failed); \
         rss at the end {:.1} MiB, peak {:.1} MiB; exporter CPU {:.0} s ({:.0} µs per request, scrapes included)",
        last.minutes,
        last.requests,
        last.campaign_requests,
        last.reloads,
        mib(&last),
        last.hwm_kib as f64 / 1024.0,
        last.cpu_seconds,
        cpu_per_request * 1e6
    );
}

/// A messaging kind missing from more than half the checks (or no check at all): one instant
/// may fall between a reload and the next refresh, but a kind starved for good misses them all.
fn messaging_problems(checks: u64, absent: &[(&str, u64)]) -> Vec<String> {
    if checks == 0 {
        return vec!["no scrape was checked for the messaging kinds".into()];
    }
    absent
        .iter()
        .filter(|(_, n)| 2 * n > checks)
        .map(|(shown, n)| format!("{n} of {checks} scrapes lacked {shown:?}"))
        .collect()
}

/// The verdict on the run: failures, each a sentence.
pub(super) fn judge(outcome: &Outcome) -> Vec<String> {
    let mut problems = memory_problems(&outcome.settings, &outcome.samples);
    problems.extend(below_budget(&outcome.samples));
    problems.extend(messaging_problems(
        outcome.messaging_checks,
        &outcome.messaging_absent,
    ));
    if outcome.scrape_failures > 0 {
        problems.push(format!("{} scrapes failed", outcome.scrape_failures));
    }
    if !outcome.exited_cleanly {
        problems.push("the exporter did not exit 0 within 30 s of SIGTERM".into());
    }
    if !outcome.panics.is_empty() {
        problems.push(format!(
            "the exporter panicked:\n{}",
            outcome.panics.join("\n")
        ));
    }
    problems
}

/// Memory, fds and threads after the first window, against what it saw.
pub(super) fn memory_problems(settings: &Settings, samples: &[Sample]) -> Vec<String> {
    let after = settings.settled_minutes;
    let (window, settled): (Vec<Sample>, Vec<Sample>) =
        samples.iter().partition(|s| s.minutes < after);
    if settled.len() < 10 {
        return vec![format!(
            "only {} samples after minute {after}: run longer than that",
            settled.len()
        )];
    }
    [
        still_growing(&settled, settings),
        // Connections to Braze and from scrapers come and go (13 to 38 fds in one sample or
        // another): medians, so that a count that stays up shows and one busy sample does not.
        rose("fds", &window, &settled, |s| s.fds, 4),
        rose("threads", &window, &settled, |s| s.threads, 1),
    ]
    .into_iter()
    .flatten()
    .map(|problem| format!("{problem} (judged from minute {after})"))
    .collect()
}

/// Resident memory's least-squares slope over the settled samples, if over the limit.
pub(super) fn still_growing(settled: &[Sample], settings: &Settings) -> Option<String> {
    let points: Vec<(f64, f64)> = settled
        .iter()
        .map(|s| (s.minutes / 60.0, s.rss_kib as f64 / 1024.0))
        .collect();
    let mib_per_hour = slope(&points);
    eprintln!(
        "soak: rss from minute {}: {mib_per_hour:+.3} MiB per hour (least squares over {} samples)",
        settings.settled_minutes,
        points.len()
    );
    (mib_per_hour > settings.max_growth_mib_per_hour).then(|| {
        format!(
            "resident memory still grows: {mib_per_hour:.3} MiB per hour, over {}",
            settings.max_growth_mib_per_hour
        )
    })
}

/// A count whose median over the settled samples is above its median over the first window, by
/// more than `margin`.
pub(super) fn rose(
    what: &str,
    window: &[Sample],
    settled: &[Sample],
    of: fn(&Sample) -> u64,
    margin: u64,
) -> Option<String> {
    let median = |samples: &[Sample]| {
        let mut counts: Vec<u64> = samples.iter().map(of).collect();
        counts.sort_unstable();
        counts.get(counts.len() / 2).copied().unwrap_or(0)
    };
    let (before, after) = (median(window), median(settled));
    (after > before + margin).then(|| {
        format!("{what} rose: a median of {after}, against {before} before (margin {margin})")
    })
}

/// A paced rate-limit pool: the requests the samples count in it, and the exporter's budget.
struct PacedPool {
    name: &'static str,
    sent: fn(&Sample) -> u64,
    budget_per_hour: u64,
}

const PACED_POOLS: [PacedPool; 2] = [
    PacedPool {
        name: "shared",
        sent: |s| s.requests - s.campaign_requests,
        budget_per_hour: BUDGET_PER_HOUR,
    },
    PacedPool {
        name: "campaign_analytics",
        sent: |s| s.campaign_requests,
        budget_per_hour: CAMPAIGN_BUDGET_PER_MINUTE * 60,
    },
];

/// The workspaces' pace in each paced pool, if well under its budget: the soak is meant to
/// run at them.
pub(super) fn below_budget(samples: &[Sample]) -> Vec<String> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Vec::new();
    };
    let hours = (last.minutes - first.minutes) / 60.0;
    PACED_POOLS
        .iter()
        .filter_map(|pool| {
            let (name, budget) = (pool.name, pool.budget_per_hour);
            let sent = ((pool.sent)(last) - (pool.sent)(first)) as f64
                / hours
                / WORKSPACES.len() as f64;
            eprintln!(
                "soak: pool {name}: {sent:.0} requests per workspace per hour (budget {budget}, {:.2} of it)",
                sent / budget as f64
            );
            (sent < 0.8 * budget as f64).then(|| {
                format!("the workspaces sent {sent:.0} requests an hour each to the {name} pool, not near its budget's {budget}")
            })
        })
        .collect()
}

/// The least-squares slope of `y` over `x`.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(sxy, sxx), (x, y)| {
        (sxy + (x - mx) * (y - my), sxx + (x - mx) * (x - mx))
    });
    sxy / sxx
}

#[test]
fn a_messaging_kind_fails_the_run_when_missing_from_most_checks() {
    let absent = [("\nbraze_canvas_step_", 3), ("\nbraze_send_", 6)];
    assert_eq!(
        messaging_problems(10, &absent),
        ["6 of 10 scrapes lacked \"\\nbraze_send_\""]
    );
    assert!(messaging_problems(12, &absent).is_empty());
    assert_eq!(messaging_problems(0, &[]).len(), 1, "no check is a failure");
}
