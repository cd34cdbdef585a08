#!/usr/bin/env python3
"""Compare what a real Prometheus holds after `braze-exporter backfill` and
`promtool tsdb create-blocks-from openmetrics` with what the Braze simulator says.

For every hourly sessions series and every daily dau series of the e2e configuration:
  - a range query over the imported interval (every --query-step seconds) has a point at
    every step;
  - at each point, `_bucket_timestamp_seconds` is the bucket a scrape would have shown then
    (the latest bucket whose end + delay is at or before it), worked out here from that
    definition, and the value is the simulator's for that bucket (read from the simulator
    over HTTP, 100 buckets a request, independently of the exporter's code);
  - every bucket of the interval is seen.
Then, at the end of the import, BrazeSessionsDropped's last-week side
(`braze:sessions:last_week`, read from the rules file, and its min over the alert's hour)
has one series per hourly sessions series, and the alert's expression is quiet.
Prints PASS/FAIL lines and `e2e-backfill-compare: N passed, M failed`. Standard library and
PyYAML only.
"""
import argparse
import datetime
import json
import sys
import urllib.parse
import urllib.request
import zoneinfo

import yaml

PASSED = 0
FAILED = 0


def check(ok, what):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"PASS {what}")
    else:
        FAILED += 1
        print(f"FAIL {what}")
    return ok


def get_json(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read().decode())


def prom(base, path, **params):
    body = get_json(f"{base}{path}?{urllib.parse.urlencode(params)}")
    if body.get("status") != "success":
        raise RuntimeError(f"{path} {params}: {body}")
    return body["data"]


class Zone:
    def __init__(self, name):
        self.tz = datetime.timezone.utc if name == "UTC" else zoneinfo.ZoneInfo(name)

    def offset(self, t):
        return int(datetime.datetime.fromtimestamp(t, self.tz).utcoffset().total_seconds())

    def midnight_before(self, t):
        """The local midnight that starts the day containing t."""
        d = datetime.datetime.fromtimestamp(t, self.tz).date()
        return int(datetime.datetime(d.year, d.month, d.day, tzinfo=self.tz).timestamp())

    def shown(self, t, unit, delay):
        """The start of the latest bucket whose end + delay <= t."""
        settled = t - delay
        if unit == "hour":
            off = self.offset(settled)
            local = settled + off
            return local - local % 3600 - off - 3600
        today = self.midnight_before(settled)
        return self.midnight_before(today - 1)

    def parse_time(self, text):
        if "T" not in text:
            y, m, d = map(int, text.split("-"))
            return int(datetime.datetime(y, m, d, tzinfo=self.tz).timestamp())
        return int(datetime.datetime.fromisoformat(text).timestamp())

    def iso(self, t):
        return datetime.datetime.fromtimestamp(t, self.tz).isoformat()


def truth(args, zone, path, field, params, unit, first, last):
    """Bucket start -> the simulator's value, for every bucket from first to last: pages of
    100 buckets, each ending with the bucket that contains its ending_at."""
    values = {}
    ending_at = last + 60
    while True:
        query = dict(params, length=100, ending_at=zone.iso(ending_at))
        if unit == "hour":
            query["unit"] = "hour"
        url = f"{args.simulator}/{path}?{urllib.parse.urlencode(query)}"
        body = get_json(url, {"Authorization": f"Bearer {args.api_key}"})
        points = [(zone.parse_time(p["time"]), float(p[field])) for p in body["data"]]
        values.update(points)
        if not points or min(t for t, _ in points) <= first:
            return values
        ending_at = min(t for t, _ in points) - 1


def compare_series(args, zone, metric, labels, unit, path, field, params):
    selector = "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    name = f"{metric}{selector}"
    start = (args.start // args.query_step + 1) * args.query_step
    end = args.end
    span = dict(start=start, end=end, step=args.query_step)
    values = prom(args.prom, "/api/v1/query_range", query=f"{metric}{selector}", **span)["result"]
    buckets = prom(args.prom, "/api/v1/query_range",
                   query=f"{metric}_bucket_timestamp_seconds{selector}", **span)["result"]
    if not check(len(values) == 1 and len(buckets) == 1, f"{name}: one series in Prometheus"):
        return
    steps = list(range(start, end + 1, args.query_step))
    v = {int(float(t)): float(x) for t, x in values[0]["values"]}
    b = {int(float(t)): int(float(x)) for t, x in buckets[0]["values"]}
    check(sorted(v) == steps and sorted(b) == steps,
          f"{name}: a point at each of the {len(steps)} steps of the imported interval")
    first, last = zone.shown(steps[0], unit, args.delay), zone.shown(steps[-1], unit, args.delay)
    sim = truth(args, zone, path, field, params, unit, first, last)
    wrong_bucket = [t for t in steps if b.get(t) != zone.shown(t, unit, args.delay)]
    check(not wrong_bucket, f"{name}: each point shows the bucket a scrape would have"
          + (f" (first wrong at {wrong_bucket[0]}: {b.get(wrong_bucket[0])})" if wrong_bucket else ""))
    wrong_value = [t for t in steps if t in b and v.get(t) != sim.get(b[t])]
    check(not wrong_value, f"{name}: every value is the simulator's for its bucket"
          + (f" (first wrong at {wrong_value[0]}: {v.get(wrong_value[0])} vs "
             f"{sim.get(b.get(wrong_value[0]))})" if wrong_value else ""))
    expected, t = set(), first
    while t <= last:
        expected.add(t)
        t = t + 3600 if unit == "hour" else zone.midnight_before(t + 86400 + 7200)
    check(set(b.values()) == expected, f"{name}: all {len(expected)} buckets of the interval are there")


def last_week_side(args):
    with open(args.rules) as f:
        rules = yaml.safe_load(f)
    exprs = {r.get("record"): r["expr"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    last_week = exprs["braze:sessions:last_week"].strip()
    at = args.end
    lw = prom(args.prom, "/api/v1/query", query=last_week, time=at)["result"]
    check(len(lw) == args.hourly_series,
          f"braze:sessions:last_week has data at the end of the import: {len(lw)} of {args.hourly_series} series")
    side = prom(args.prom, "/api/v1/query", query=f"min_over_time(({last_week})[1h:1m])", time=at)["result"]
    check(len(side) == args.hourly_series,
          f"BrazeSessionsDropped's last-week side min_over_time(braze:sessions:last_week[1h]) has "
          f"{len(side)} of {args.hourly_series} series")
    change = f"(braze_sessions - ({last_week})) / (({last_week}) > 0)"
    alert = (f"max_over_time(({change})[1h:1m]) < -0.5 and "
             f"min_over_time(({last_week})[1h:1m]) >= 100")
    fired = prom(args.prom, "/api/v1/query", query=alert, time=at)["result"]
    check(fired == [], "BrazeSessionsDropped's expression (rules inlined) is quiet on the simulator's week")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prom", required=True)
    ap.add_argument("--simulator", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--start", type=int, required=True)
    ap.add_argument("--end", type=int, required=True)
    ap.add_argument("--delay", type=int, required=True)
    ap.add_argument("--query-step", type=int, default=120)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--job", default="braze")
    ap.add_argument("--apps", nargs="*", default=[])
    ap.add_argument("--segments", nargs="*", default=[])
    args = ap.parse_args()
    zone = Zone(args.zone)
    apps = [("all", None)] + [(a, a) for a in args.apps]
    segments = [("all", None)] + [(s, s) for s in args.segments]
    args.hourly_series = len(apps) * len(segments)
    for app_name, app_id in apps:
        for segment_name, segment_id in segments:
            params = {k: v for k, v in (("app_id", app_id), ("segment_id", segment_id)) if v}
            compare_series(args, zone, "braze_sessions",
                           dict(job=args.job, app_name=app_name, segment_name=segment_name, unit="hour"),
                           "hour", "sessions/data_series", "sessions", params)
        params = {"app_id": app_id} if app_id else {}
        compare_series(args, zone, "braze_dau", dict(job=args.job, app_name=app_name, unit="day"),
                       "day", "kpi/dau/data_series", "dau", params)
    last_week_side(args)
    print(f"e2e-backfill-compare ({args.zone}): {PASSED} passed, {FAILED} failed")
    return 0 if FAILED == 0 and PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
