#!/usr/bin/env python3
"""Write a week of synthetic history for the exporter's session, DAU, revenue and Canvas entry
gauges, as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`, so that the e2e
test's `offset 1w` queries (braze:sessions:last_week, braze:dau:last_week,
braze:purchase_revenue:last_week, braze:canvas_entries:last_week, the change ratios, the hour in
progress last week) return series.

The series are those the running exporter serves now (read from its /metrics), with the
labels Prometheus will add when scraping it (job, instance). For a sample at time s:
  <kind>_bucket_timestamp_seconds = start of s's hour + (exporter's current bucket -
      start of the current hour), i.e. the same lag as the exporter shows now;
  <kind> = the exporter's current value, +-3 % over the day (never a 30 % drop);
  <kind>_in_progress_bucket_timestamp_seconds = start of s's hour;
  <kind>_in_progress = the current in-progress value scaled by the minute of the hour.
for <kind> in braze_sessions, braze_dau, braze_purchase_revenue; and braze_canvas_entries with
its Canvas's one bucket timestamp, braze_canvas_bucket_timestamp_seconds (no in-progress twin).
Samples every --step s, every 30 s within 3 h of one week ago.
History ends at --end (keep it an hour before the scrapes start, so nothing the test reads at
"now" can come from this file). Standard library only.
"""
import argparse
import math
import re
import sys
import time
import urllib.request

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)\s*$')
KINDS = ("braze_sessions", "braze_dau", "braze_purchase_revenue")
SUFFIXES = ("", "_bucket_timestamp_seconds", "_in_progress", "_in_progress_bucket_timestamp_seconds")
# Messaging: (value family, the bucket timestamp family of its series), labels of their own.
MESSAGING = (("braze_canvas_entries", "braze_canvas_bucket_timestamp_seconds"),)
GAUGES = tuple(k + s for k in KINDS for s in SUFFIXES) + tuple(f for pair in MESSAGING for f in pair)


def parse(text):
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and m.group(1) in GAUGES:
            out.setdefault(m.group(1), {})[m.group(2) or "{}"] = float(m.group(3))
    return out


def wobble(value, s):
    """The exporter's current value, +-3 % over the day (never a drop an alert pages on)."""
    return round(value * (1 + 0.03 * math.sin(2 * math.pi * s / 86400)), 2)


def write_day_family(f, family, by_labels, times, extra, value_at):
    """Writes `family` for each of its label sets (the exporter's) at `times`: value_at(its
    current value, time). Returns the number of samples."""
    f.write(f"# TYPE {family} gauge\n")
    for lbl, current in sorted(by_labels.items()):
        labels = "{" + extra + ("," + lbl[1:-1] if lbl != "{}" else "") + "}"
        for s in times:
            f.write(f"{family}{labels} {value_at(current, s)} {s}\n")
    return len(by_labels) * len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metrics-url", required=True)
    ap.add_argument("--job", default="braze")
    ap.add_argument("--instance", required=True)
    ap.add_argument("--now", type=float, default=None, help="the exporter's 'now' (default: time.time())")
    ap.add_argument("--end", type=float, required=True, help="last sample time (Unix s)")
    ap.add_argument("--days", type=float, default=8)
    ap.add_argument("--step", type=int, default=300)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    with urllib.request.urlopen(a.metrics_url, timeout=10) as r:
        cur = parse(r.read().decode())
    now = a.now or time.time()
    hour_now = math.floor(now / 3600) * 3600
    if not cur.get("braze_sessions"):
        print("e2e_backfill: the exporter serves no braze_sessions yet", file=sys.stderr)
        return 1

    extra = f'job="{a.job}",instance="{a.instance}"'
    start = math.floor((a.end - a.days * 86400) / a.step) * a.step
    # Every --step seconds, and every 30 s within 3 h of one week ago, where `offset 1w` reads
    # (so the sample found there is never from the hour before).
    week_ago = now - 7 * 86400
    dense = set(range(int(week_ago - 3 * 3600), int(min(a.end, week_ago + 3 * 3600)) + 1, 30))
    times = sorted(set(range(int(start), int(a.end) + 1, a.step)) | dense)
    n = 0
    with open(a.out, "w") as f:
        for kind in KINDS:
            values = cur.get(kind, {})
            lag = {k: v - hour_now for k, v in cur.get(kind + "_bucket_timestamp_seconds", {}).items()}
            inprog = cur.get(kind + "_in_progress", {})
            for suffix in SUFFIXES:
                family = kind + suffix
                f.write(f"# TYPE {family} gauge\n")
                for lbl, value in sorted(values.items()):
                    labels = "{" + extra + ("," + lbl[1:-1] if lbl != "{}" else "") + "}"
                    if suffix.startswith("_in_progress") and lbl not in inprog:
                        continue
                    for s in times:
                        hour = math.floor(s / 3600) * 3600
                        if suffix == "":
                            v = wobble(value, s)
                        elif suffix == "_bucket_timestamp_seconds":
                            v = hour + lag.get(lbl, -3600)
                        elif suffix == "_in_progress":
                            v = round(inprog[lbl] * ((s - hour) / 3600))
                        else:
                            v = hour
                        f.write(f"{family}{labels} {v} {s}\n")
                        n += 1
        for value_family, bucket_family in MESSAGING:
            n += write_day_family(f, value_family, cur.get(value_family, {}), times, extra, wobble)
            lag = {k: v - hour_now for k, v in cur.get(bucket_family, {}).items()}
            n += write_day_family(f, bucket_family, lag, times, extra,
                                  lambda lag, s: math.floor(s / 3600) * 3600 + lag)
        f.write("# EOF\n")
    print(f"e2e_backfill: {n} samples from {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(times[0]))} "
          f"to {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(times[-1]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
