//! `braze-exporter backfill`: the history a new Prometheus lacks, as OpenMetrics text for
//! `promtool tsdb create-blocks-from openmetrics`.
//!
//! For every series of every workspace (or the `--workspace`s given): the configured ones and
//! those one listing of `discover:` adds. It writes, every `--step` within `[--start, --end]`, what a scrape of the live
//! exporter would have shown: the latest complete bucket's value and its
//! `_bucket_timestamp_seconds` ([`plan`]), and `braze_up 1`, with the `workspace` label as the
//! exporter serves it. Braze is read a page of up to 100 buckets at a time ([`fetch`]), every
//! workspace at once within its own budget; a series that cannot be read is left out of the
//! file entirely and named on standard error (exit 1): nothing is guessed.
//! The same range gives the same file ([`write`]).
//!
//! Exit codes: 0 every series written; 1 some series missing (or the file cannot be
//! written); 2 bad flags or a bad configuration.

mod fetch;
mod plan;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::braze::BrazeClient;
use crate::buckets::BucketRules;
use crate::config::{Config, Settings, API_KEY_ENV};
use crate::samples::Values;
use crate::series::{Filter, Pool, Series, Unit};
use crate::snapshot::Labels;
use plan::{SamplePlan, Window};

/// `--step` when not given.
const DEFAULT_STEP: &str = "60s";

/// Labels a `--label` may not set: the exporter's own.
const RESERVED_LABELS: [&str; 2] = ["kind", "unit"];

/// The flags of `braze-exporter backfill`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Path to the exporter's YAML configuration file (the series, Braze and its budget);
    /// by default the one given before `backfill`, else braze-exporter.yml.
    #[arg(long = "config.file")]
    pub config_file: Option<PathBuf>,
    /// The first instant: a date (midnight in the company time zone), an RFC 3339 time, or a
    /// duration back from now (30d).
    #[arg(long)]
    pub start: String,
    /// The last instant, in the same forms as --start; now by default.
    #[arg(long)]
    pub end: Option<String>,
    /// The time between two samples, as Prometheus would scrape.
    #[arg(long, default_value = DEFAULT_STEP)]
    pub step: String,
    /// The OpenMetrics file to write (replaced only once everything is read).
    #[arg(long)]
    pub output: PathBuf,
    /// NAME=VALUE added to every sample, repeatable: the labels Prometheus adds when it scrapes
    /// the exporter (job, instance), so the history joins the live series.
    #[arg(long = "label", value_name = "NAME=VALUE")]
    pub labels: Vec<String>,
    /// Only this workspace of a `workspaces:` configuration (repeatable), as the exporter's own
    /// `--workspace`; every workspace by default, all written into the one file.
    #[arg(long = "workspace", value_name = "NAME")]
    pub workspaces: Vec<String>,
}

/// The checked request.
#[derive(Debug)]
struct Request {
    window: Window,
    /// Written after each series' own labels, already escaped: `,job="braze",...`.
    extra_labels: String,
    /// The workspace's label value, in the `workspaces:` form.
    workspace: Option<String>,
}

/// One workspace to read: its configuration, its own client (and so its own budget), and the
/// request checked in its own time zone.
struct Source {
    config: Config,
    client: BrazeClient,
    request: Request,
}

impl Source {
    /// `workspace eu: ` before its progress and summary lines; nothing in the single form.
    fn whose(&self) -> String {
        match &self.request.workspace {
            Some(name) => format!("workspace {name}: "),
            None => String::new(),
        }
    }
}

/// Runs the backfill; what the process exits with. `config_file` is the top-level
/// `--config.file`, used when `backfill` is not given one of its own; `workspaces` the
/// top-level `--workspace`s, joined by those given after `backfill`.
pub fn main(args: Args, config_file: PathBuf, workspaces: Vec<String>) -> ExitCode {
    let config_file = args.config_file.clone().unwrap_or(config_file);
    let names: Vec<String> = workspaces
        .into_iter()
        .chain(args.workspaces.iter().cloned())
        .collect();
    let settings = match Settings::load(&config_file, std::env::var(API_KEY_ENV).ok(), &names) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("braze-exporter backfill: the configuration is not valid; nothing was read");
            return ExitCode::from(2);
        }
    };
    // One instant for every workspace, so a duration back from now means one range.
    let now = Timestamp::now();
    let mut sources = Vec::new();
    for config in settings.workspaces {
        let request = match check(&args, &config.braze.time_zone, now) {
            Ok(request) => Request {
                workspace: config.workspace.clone(),
                ..request
            },
            Err(why) => {
                eprintln!("braze-exporter backfill: {why}");
                return ExitCode::from(2);
            }
        };
        let client = match BrazeClient::new(&config.braze) {
            Ok(client) => client,
            Err(why) => {
                eprintln!("braze-exporter backfill: {why}");
                return ExitCode::from(1);
            }
        };
        sources.push(Source {
            config,
            client,
            request,
        });
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("braze-exporter backfill: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run(&sources, &args.output))
}

/// Reads every workspace at once (each within its own budget) and writes them into one file.
async fn run(sources: &[Source], output: &Path) -> ExitCode {
    let read = futures_util::future::join_all(sources.iter().map(read_source)).await;
    let mut written = Vec::new();
    let mut missing = Vec::new();
    let mut absent_buckets = 0usize;
    let mut discovery_failed = Vec::new();
    for (source, read) in sources.iter().zip(read) {
        discovery_failed.extend(read.discovery_failed.iter().map(|list| (source, *list)));
        written.extend(read.written);
        absent_buckets += read.absent_buckets;
        missing.extend(
            read.missing
                .into_iter()
                .map(|(series, error)| (source, series, error)),
        );
    }
    let samples = match write_file(output, &written) {
        Ok(samples) => samples,
        Err(e) => {
            eprintln!(
                "braze-exporter backfill: cannot write {}: {e}",
                output.display()
            );
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "braze-exporter backfill: wrote {samples} samples of {} series to {}",
        written.len(),
        output.display()
    );
    if absent_buckets > 0 {
        eprintln!(
            "braze-exporter backfill: {absent_buckets} buckets were not in Braze's answers; \
             their samples are left out (nothing is guessed)"
        );
    }
    for (source, list) in &discovery_failed {
        eprintln!(
            "braze-exporter backfill: {}discovery could not read Braze's {list}; the series it \
             would add are not written (run again)",
            source.whose()
        );
    }
    if !missing.is_empty() {
        eprintln!(
            "braze-exporter backfill: {} series missing (not written):",
            missing.len()
        );
    }
    for (source, series, error) in &missing {
        let workspace = match &source.request.workspace {
            Some(name) => format!("workspace={name} "),
            None => String::new(),
        };
        eprintln!(
            "  {workspace}kind={} {series}: {error}",
            series.kind.spec().name
        );
    }
    if missing.is_empty() && discovery_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What one workspace gave: the series to write, those Braze did not give, how many planned
/// buckets its answers lacked, and the lists discovery could not read.
struct Read {
    written: Vec<write::Written>,
    missing: Vec<(Series, String)>,
    absent_buckets: usize,
    discovery_failed: Vec<&'static str>,
}

/// The series of one workspace: the configured ones and, with `discover:`, those one listing
/// of Braze's lists adds (as the live exporter's first listing would), within `max_series`.
/// Also the lists that could not be read: their series are unknown, so not written.
async fn series_of(source: &Source, whose: &str) -> (Vec<Series>, Vec<&'static str>) {
    let config = &source.config;
    if config.discover.is_some() {
        eprintln!(
            "braze-exporter backfill: {whose}reading Braze's lists for discover: (at most {} \
             requests an hour, as the exporter)",
            crate::discovery::LIST_SHARE_PER_HOUR
        );
    }
    let Some(found) = crate::discovery::list_once(config, &source.client).await else {
        return (config.series(), Vec::new());
    };
    for (list, items) in &found.kept {
        eprintln!("braze-exporter backfill: {whose}discovery keeps {items} {list}");
    }
    let plan = config.plan(&found.lists);
    if plan.dropped > 0 {
        eprintln!(
            "braze-exporter backfill: {whose}{} series past max_series ({}) are not written",
            plan.dropped,
            plan.series.len()
        );
    }
    (plan.series, found.failed)
}

async fn read_source(source: &Source) -> Read {
    let (config, request) = (&source.config, &source.request);
    let whose = source.whose();
    let (series, discovery_failed) = series_of(source, &whose).await;
    // One plan per schedule (unit and delay) and page size, shared by its series.
    let mut shared: HashMap<(Unit, Duration, u32), Arc<SamplePlan>> = HashMap::new();
    let plans: Vec<(Series, BucketRules, Arc<SamplePlan>)> = series
        .into_iter()
        .map(|s| {
            let schedule = config.schedule_of(s.kind);
            let rules = BucketRules {
                unit: schedule.unit,
                time_zone: config.braze.time_zone.clone(),
                delay: schedule.delay,
            };
            let max_length = s.kind.spec().export.max_length();
            let plan = shared
                .entry((rules.unit, rules.delay, max_length))
                .or_insert_with(|| Arc::new(SamplePlan::new(&rules, &request.window, max_length)))
                .clone();
            (s, rules, plan)
        })
        .collect();
    let wanted: Vec<fetch::Wanted> = plans
        .iter()
        .map(|(series, rules, plan)| fetch::Wanted {
            series: series.clone(),
            unit: rules.unit,
            steps: config.export_of(series.kind).is_some_and(|e| e.steps),
            pages: plan.pages.clone(),
        })
        .collect();
    let requests: usize = wanted.iter().map(|w| w.pages.len()).sum();
    let budget = config.budget();
    // Each pool's budget is its own, as in the exporter (discovery's lists pool aside).
    let limits: Vec<String> = budget
        .pools()
        .filter(|pool| *pool != Pool::Lists)
        .map(|pool| {
            format!(
                "{} in the {} pool",
                budget.max_per_hour(pool),
                pool.as_str()
            )
        })
        .collect();
    eprintln!(
        "braze-exporter backfill: {whose}{} series from {} to {} every {}: {requests} requests \
         (an hour at most: {})",
        plans.len(),
        request.window.start,
        request.window.end,
        humantime::format_duration(request.window.step),
        limits.join(", "),
    );
    let outcomes = fetch::fetch_all(
        &source.client,
        &wanted,
        |pool| budget.per_window(pool),
        config.braze.max_concurrency,
        &whose,
    )
    .await;
    let mut read = Read {
        written: Vec::new(),
        missing: Vec::new(),
        absent_buckets: 0,
        discovery_failed,
    };
    for ((series, rules, plan), outcome) in plans.into_iter().zip(outcomes) {
        match outcome {
            Ok(values) => {
                read.absent_buckets += plan
                    .buckets
                    .iter()
                    .filter(|b| !values.contains_key(b))
                    .count();
                read.written
                    .push(written_series(&series, &rules, &plan, values, request));
            }
            Err(error) => read.missing.push((series, error.to_string())),
        }
    }
    read
}

/// A series to write: its labels, its plan and what Braze returned.
fn written_series(
    series: &Series,
    rules: &BucketRules,
    plan: &Arc<SamplePlan>,
    values: BTreeMap<Timestamp, Values>,
    request: &Request,
) -> write::Written {
    let labels = format!(
        "{}{}",
        Labels::new(series, rules.unit, request.workspace.as_deref()).text(),
        request.extra_labels
    );
    write::Written {
        kind: series.kind,
        labels,
        plan: plan.clone(),
        values,
    }
}

/// Writes beside `output`, then renames: a reader never sees half a file.
fn write_file(output: &Path, series: &[write::Written]) -> std::io::Result<u64> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backfill".into());
    let partial = output.with_file_name(format!(".{name}.partial"));
    let file = std::fs::File::create(&partial)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let samples = write::write(&mut out, series)?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&partial, output)?;
    Ok(samples)
}

/// Checks the flags against the company time zone and `now`.
fn check(args: &Args, time_zone: &TimeZone, now: Timestamp) -> Result<Request, String> {
    let start = parse_instant(&args.start, time_zone, now).map_err(|e| format!("--start: {e}"))?;
    let end = match &args.end {
        Some(text) => parse_instant(text, time_zone, now).map_err(|e| format!("--end: {e}"))?,
        None => now,
    };
    if end > now {
        return Err(format!("--end: {end} is in the future (now is {now})"));
    }
    if start >= end {
        return Err(format!("--start ({start}) must be before --end ({end})"));
    }
    let step = crate::config::duration::parse(&args.step).map_err(|e| format!("--step: {e}"))?;
    if step < Duration::from_secs(1) || step.subsec_nanos() != 0 {
        return Err(format!(
            "--step: must be a whole number of seconds, at least 1s, got {:?}",
            args.step
        ));
    }
    let extra_labels = extra_labels(&args.labels)?;
    Ok(Request {
        window: Window { start, end, step },
        extra_labels,
        workspace: None,
    })
}

/// A date (midnight in the company time zone), an RFC 3339 time, or a duration back from now.
fn parse_instant(text: &str, time_zone: &TimeZone, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(date) = text.parse::<Date>() {
        return date
            .to_zoned(time_zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("{text:?} has no midnight in the company time zone: {e}"));
    }
    let back = crate::config::duration::parse(text).map_err(|_| {
        format!("{text:?} is not a date (2026-11-01), an RFC 3339 time (2026-11-01T00:00:00Z) or a duration back from now (30d)")
    })?;
    SignedDuration::try_from(back)
        .ok()
        .and_then(|back| now.checked_sub(back).ok())
        .ok_or_else(|| format!("{text:?} is too far back"))
}

/// `--label NAME=VALUE`s as label text, each after a comma.
fn extra_labels(labels: &[String]) -> Result<String, String> {
    let own: Vec<&str> = crate::series::KINDS
        .iter()
        .flat_map(|k| k.filters.iter().map(|f: &Filter| f.label()))
        .chain(RESERVED_LABELS)
        .collect();
    let mut seen = Vec::new();
    let mut text = String::new();
    for label in labels {
        let (name, value) = label
            .split_once('=')
            .ok_or_else(|| format!("--label: {label:?} is not NAME=VALUE"))?;
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with("__");
        if !valid {
            return Err(format!("--label: {name:?} is not a label name"));
        }
        if own.contains(&name) {
            return Err(format!(
                "--label: {name:?} is a label of the exporter's own"
            ));
        }
        if seen.contains(&name) {
            return Err(format!("--label: {name:?} is given twice"));
        }
        seen.push(name);
        text.push_str(&format!(",{name}=\""));
        crate::samples::escape_into(&mut text, value);
        text.push('"');
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
