//! Log setup: `--log.level` and `--log.format` (logfmt or json), to standard error, in the
//! shape Prometheus and its exporters write: `time`, `level` (lower case), `source`
//! (file:line), `msg`, then the event's own fields.
//!
//! ```text
//! time=2026-01-01T00:00:00.000Z level=info source=src/cli.rs:120 msg="braze-exporter started" address=[::]:9887
//! {"time":"2026-01-01T00:00:00.000Z","level":"info","source":"src/cli.rs:120","msg":"braze-exporter started","address":"[::]:9887"}
//! ```
//!
//! With `--log.format=json` every line on standard error is JSON, the refusals before start
//! included ([`report`]); with logfmt those stay plain lines for the person who ran it.
//!
//! Only this crate logs at the chosen level; dependencies log warnings and errors only, so a
//! debug run does not print HTTP internals. Nothing logged anywhere carries the API key: the
//! key lives in a type that cannot be formatted (see `config::api_key`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

impl LogLevel {
    fn directive(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Installs the global logger; call once, before anything logs. With json, a panic is logged
/// as a JSON line too.
pub fn init(level: LogLevel, format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter = EnvFilter::new(format!("warn,braze_exporter={}", level.directive()));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(Lines { format })
        .try_init();
    if format == LogFormat::Json {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(panic = %info, at, "panicked");
        }));
    }
}

/// Tells the user why the exporter stops before it runs: each line as an error log line in
/// json, or printed as it is otherwise (`path: field: what is wrong` reads best plain).
pub fn report(level: Level, lines: &str) {
    match FORMAT.get() {
        Some(LogFormat::Json) => {
            for line in lines.lines() {
                if level == Level::WARN {
                    tracing::warn!("{line}");
                } else {
                    tracing::error!("{line}");
                }
            }
        }
        _ => eprintln!("{lines}"),
    }
}

/// Whether `args` ask for JSON logs: for an error found before the flags are parsed.
pub fn json_requested<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> bool {
    let args: Vec<&str> = args.iter().filter_map(|a| a.as_ref().to_str()).collect();
    let split = args
        .windows(2)
        .any(|pair| pair[0] == "--log.format" && pair[1] == "json");
    split || args.contains(&"--log.format=json")
}

/// Writes every event as one line in `format`.
struct Lines {
    format: LogFormat,
}

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = render(self.format, event);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// One event's line, ending in a newline.
fn render(format: LogFormat, event: &Event<'_>) -> String {
    let meta = event.metadata();
    let mut fields = Fields::default();
    event.record(&mut fields);
    let time = format!("{:.3}", jiff::Timestamp::now());
    let level = meta.level().as_str().to_ascii_lowercase();
    let source = match (meta.file(), meta.line()) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        _ => meta.target().to_string(),
    };
    let head = [
        ("time", Value::Text(time)),
        ("level", Value::Text(level)),
        ("source", Value::Text(source)),
        ("msg", Value::Text(fields.message.unwrap_or_default())),
    ];
    let all = head.into_iter().chain(fields.rest);
    let mut out = String::new();
    match format {
        LogFormat::Logfmt => {
            for (i, (key, value)) in all.enumerate() {
                let sep = if i == 0 { "" } else { " " };
                let _ = write!(out, "{sep}{key}={}", value.logfmt());
            }
        }
        LogFormat::Json => {
            out.push('{');
            for (i, (key, value)) in all.enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(out, "{sep}{}:{}", json_string(key), value.json());
            }
            out.push('}');
        }
    }
    out.push('\n');
    out
}

enum Value {
    Text(String),
    /// A number or a boolean, written bare in both formats.
    Bare(String),
}

impl Value {
    fn logfmt(&self) -> String {
        match self {
            Value::Bare(v) => v.clone(),
            Value::Text(v) => {
                let plain = !v.is_empty()
                    && v.chars()
                        .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '=' | '"'));
                if plain {
                    v.clone()
                } else {
                    let mut quoted = String::with_capacity(v.len() + 2);
                    quoted.push('"');
                    for c in v.chars() {
                        match c {
                            '"' => quoted.push_str("\\\""),
                            '\\' => quoted.push_str("\\\\"),
                            '\n' => quoted.push_str("\\n"),
                            '\r' => quoted.push_str("\\r"),
                            '\t' => quoted.push_str("\\t"),
                            c if c.is_control() => {
                                let _ = write!(quoted, "\\u{{{:x}}}", c as u32);
                            }
                            c => quoted.push(c),
                        }
                    }
                    quoted.push('"');
                    quoted
                }
            }
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Bare(v) => v.clone(),
            Value::Text(v) => json_string(v),
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// An event's message and its other fields, in the order they were written.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: Vec<(&'static str, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::Text(v) | Value::Bare(v) => v,
            });
        } else {
            self.rest.push((field.name(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::Text(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::Text(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::Bare(value.to_string()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::Bare(value.to_string()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bare(value.to_string()));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let bare = value.is_finite();
        self.put(
            field,
            if bare {
                Value::Bare(value.to_string())
            } else {
                Value::Text(value.to_string())
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Captures what [`Lines`] renders for events logged inside `log`.
    fn capture(format: LogFormat, log: impl FnOnce()) -> Vec<String> {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<String>>>);
        struct Capture(LogFormat, Sink);
        impl<S: Subscriber> Layer<S> for Capture {
            fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
                self.1 .0.lock().unwrap().push(render(self.0, event));
            }
        }
        let sink = Sink::default();
        let subscriber = tracing_subscriber::registry().with(Capture(format, sink.clone()));
        tracing::subscriber::with_default(subscriber, log);
        let lines = sink.0.lock().unwrap().clone();
        lines
    }

    #[test]
    fn logfmt_has_time_level_source_msg_then_fields() {
        let lines = capture(LogFormat::Logfmt, || {
            tracing::info!(address = "[::]:9887", series = 6, "braze-exporter started");
        });
        let line = lines[0].trim_end();
        let keys: Vec<&str> = line
            .split(' ')
            .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
            .filter(|k| !k.contains('"'))
            .collect();
        assert_eq!(
            keys,
            ["time", "level", "source", "msg", "address", "series"],
            "{line}"
        );
        assert!(line.contains(" level=info "), "{line}");
        assert!(line.contains(" msg=\"braze-exporter started\" "), "{line}");
        assert!(line.contains(" address=[::]:9887 series=6"), "{line}");
        assert!(line.contains(" source=src/logging.rs:"), "{line}");
        let time = line
            .strip_prefix("time=")
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        assert!(time.parse::<jiff::Timestamp>().is_ok(), "{time}");
    }

    #[test]
    fn logfmt_quotes_what_needs_quoting() {
        let lines = capture(LogFormat::Logfmt, || {
            tracing::warn!(error = "a \"b\"\nc=d", empty = "", "x");
        });
        assert!(
            lines[0].contains(r#" level=warn "#)
                && lines[0].contains(r#" msg=x error="a \"b\"\nc=d" empty="""#),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn json_lines_are_objects_with_the_same_keys() {
        let lines = capture(LogFormat::Json, || {
            tracing::error!(error = %"port taken", series = 6u64, ok = true, "cannot start");
        });
        let value: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(value["level"], "error");
        assert_eq!(value["msg"], "cannot start");
        assert_eq!(value["error"], "port taken");
        assert_eq!(value["series"], 6);
        assert_eq!(value["ok"], true);
        assert!(value["source"]
            .as_str()
            .unwrap()
            .starts_with("src/logging.rs:"));
        assert!(value["time"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok());
        assert!(lines[0].starts_with("{\"time\":"), "{}", lines[0]);
    }

    #[test]
    fn json_is_found_in_the_arguments() {
        assert!(json_requested(&["x", "--log.format=json"]));
        assert!(json_requested(&["x", "--log.format", "json"]));
        assert!(!json_requested(&["x", "--log.format=logfmt"]));
        assert!(!json_requested(&["x", "--log.format"]));
    }
}
