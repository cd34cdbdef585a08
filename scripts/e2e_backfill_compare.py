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

For every messaging series (each --campaigns, --canvases and --sends entry: one campaign,
Canvas or API send), the expected samples of each day are worked out here from the
simulator's own answers (/campaigns/data_series, /sends/data_series 100 days a request,
/canvas/data_series with the variant and step breakdowns 14 days a request) and the mapping
docs/kinds.md documents (`braze_campaign_message_<field>{channel,variation}`,
`conversions1` -> `conversion_event="B"`, Braze's Canvas total as `variant="all"`, a step's
message objects of one channel summed, keys the docs do not name ignored):
  - the metric families and label sets in Prometheus are exactly those of Braze's answers;
  - a range query has a point at every step whose day Braze answers (an API send answers no
    day before it was sent: those steps must have none), every day of the interval is seen;
  - `braze_<kind>_bucket_timestamp_seconds` is, at every step, the day a scrape would have
    shown (the latest complete day of the company zone, whose end + the block's delay
    (--messaging-delay) is at or before the step);
  - every per-channel/variation/variant/step value equals the simulator's for that day.
    Which values: Braze restates revenue and every `conversions*` of a past day for 72 h after
    it ends (the simulator reports 70 % at the day's end, growing to 100 %), while every other
    count (sent, delivered, bounces, opens, entries, enrolled...) is final once its day ends.
    So counts are compared on every day; revenue and conversions only on the days final
    (day end + 72 h) at --read-at, taken before the backfill read Braze, so both reads hold
    the final number; on the days still restated the backfilled value must be at most the
    simulator's later one.
With --live-metrics (the live exporter's /metrics after one refresh against the same
simulator, scraped after the backfill): at the end of the window Prometheus holds exactly the
live exporter's messaging series (`_in_progress` aside), each with the same bucket timestamp
and the same count; revenue and conversions, read later by the live exporter, at least the
backfilled ones.
Prints PASS/FAIL lines and `e2e-backfill-compare: N passed, M failed`. Standard library and
PyYAML only.
"""
import argparse
import datetime
import json
import re
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

    def buckets(self, first, last, unit):
        """The starts of every bucket from the one starting at first to the one at last."""
        t = first
        while t <= last:
            yield t
            t = t + 3600 if unit == "hour" else self.day_after(t)

    def day_after(self, t):
        """The local midnight that ends the day starting at t (days of 23 to 25 hours)."""
        return self.midnight_before(t + 86400 + 7200)

    def parse_time(self, text):
        if "T" not in text:
            y, m, d = map(int, text.split("-"))
            return int(datetime.datetime(y, m, d, tzinfo=self.tz).timestamp())
        return int(datetime.datetime.fromisoformat(text).timestamp())

    def iso(self, t):
        return datetime.datetime.fromtimestamp(t, self.tz).isoformat()


def read_days(args, zone, path, params, first, last, length, items_of):
    """Bucket start -> the simulator's answer for it (an item with its `time`), for every bucket
    from first to last the simulator answers: pages of `length` buckets, each ending with the
    bucket that contains its ending_at, until a page reaches first or answers nothing."""
    answered = {}
    ending_at = last + 60
    while True:
        query = dict(params, length=length, ending_at=zone.iso(ending_at))
        url = f"{args.simulator}/{path}?{urllib.parse.urlencode(query)}"
        body = get_json(url, {"Authorization": f"Bearer {args.api_key}"})
        page = {zone.parse_time(item["time"]): item for item in items_of(body)}
        answered.update(page)
        if not page or min(page) <= first:
            return answered
        ending_at = min(page) - 1


def truth(args, zone, path, field, params, unit, first, last):
    """Bucket start -> the simulator's value, for every bucket from first to last: pages of
    100 buckets."""
    if unit == "hour":
        params = dict(params, unit="hour")
    answered = read_days(args, zone, path, params, first, last, 100, lambda body: body["data"])
    return {t: float(item[field]) for t, item in answered.items()}


def selector(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def query_steps(args):
    """The instants of every query: multiples of --query-step within the import (the
    backfill's --step, so each is a sample's instant; Prometheus runs with a lookback shorter
    than it, so a missing sample is a missing point)."""
    start = (args.start // args.query_step + 1) * args.query_step
    return list(range(start, args.end + 1, args.query_step))


def compare_series(args, zone, metric, labels, unit, path, field, params):
    name = f"{metric}{selector(labels)}"
    steps = query_steps(args)
    span = dict(start=steps[0], end=steps[-1], step=args.query_step)
    values = prom(args.prom, "/api/v1/query_range", query=name, **span)["result"]
    buckets = prom(args.prom, "/api/v1/query_range",
                   query=f"{metric}_bucket_timestamp_seconds{selector(labels)}", **span)["result"]
    if not check(len(values) == 1 and len(buckets) == 1, f"{name}: one series in Prometheus"):
        return
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
    expected = set(zone.buckets(first, last, unit))
    check(set(b.values()) == expected, f"{name}: all {len(expected)} buckets of the interval are there")


def last_week_side(args):
    with open(args.rules) as f:
        rules = yaml.safe_load(f)
    exprs = {r.get("record"): r["expr"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    last_week = exprs["braze:sessions:last_week"].strip()
    at = query_steps(args)[-1]
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

# docs/kinds.md "Messaging kinds": the `<field>`s of one variation's (or Canvas step's) object
# under `messages.<channel>[]`, besides its conversions; a key not named here is ignored.
MESSAGE_FIELDS = {
    "sent", "delivered", "undelivered", "opens", "unique_opens", "clicks", "unique_clicks",
    "bounces", "unsubscribes", "reported_spam", "direct_opens", "total_opens",
    "influenced_opens", "body_clicks", "errors", "sent_to_carrier", "rejected",
    "delivery_failed", "opt_out", "help", "failed", "read", "impressions", "total_impressions",
    "unique_impressions", "total_clicks", "total_dismissals", "unique_dismissals",
    "first_button_clicks", "second_button_clicks", "enrolled", "revenue", "unique_recipients",
}
# `conversions`, `conversions1`...`3` are conversion events A to D, each also by send (campaigns,
# sends) or entry (Canvases) time: `<prefix>_conversions[_by_...]{conversion_event}`.
CONVERSION = re.compile(r"^conversions([123]?)(_by_send_time|_by_entry_time)?$")
EVENTS = {"": "A", "1": "B", "2": "C", "3": "D"}
# Braze keeps restating these for 72 h after the day ends (SIM-API.md, docs/kinds.md).
RESTATEMENT = 72 * 3600


def restated(metric):
    return metric.endswith("_revenue") or "_conversions" in metric


def add_samples(out, prefix, fields, obj, labels, by):
    """Adds each number of Braze's `obj` that the docs name (one of `fields`, or a conversions
    field counted `by` send or entry time) to out[(metric, labels)], summing repeats (several
    message objects of one Canvas step and channel)."""
    for field, value in obj.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        conversion = CONVERSION.match(field)
        if conversion and conversion.group(2) in (None, by):
            key = (f"{prefix}_conversions{conversion.group(2) or ''}",
                   labels | {("conversion_event", EVENTS[conversion.group(1)])})
        elif field in fields:
            key = (f"{prefix}_{field}", labels)
        else:
            continue
        out[key] = out.get(key, 0) + value


def campaign_samples(prefix, labels, day):
    """The samples of one day of /campaigns/data_series or /sends/data_series: the day's own
    numbers, then each channel's variations by name (else API id; a repeated name gets ` (2)`)."""
    out = {}
    add_samples(out, prefix, {"unique_recipients", "revenue"}, day, labels, "_by_send_time")
    for channel, objects in day.get("messages", {}).items():
        names = []
        for obj in objects:
            names.append(obj.get("variation_name") or obj.get("variation_api_id"))
            seen = names.count(names[-1])
            variation = names[-1] if seen == 1 else f"{names[-1]} ({seen})"
            add_samples(out, f"{prefix}_message", MESSAGE_FIELDS, obj,
                        labels | {("channel", channel), ("variation", variation)}, "_by_send_time")
    return out


def canvas_samples(labels, day):
    """The samples of one day of /canvas/data_series: Braze's total as variant "all", each
    variant and step by name, a step's message objects per channel summed."""
    out = {}
    fields = {"entries", "revenue"}
    add_samples(out, "braze_canvas", fields, day["total_stats"], labels | {("variant", "all")},
                "_by_entry_time")
    for variant in day.get("variant_stats", {}).values():
        add_samples(out, "braze_canvas", fields, variant, labels | {("variant", variant["name"])},
                    "_by_entry_time")
    for step in day.get("step_stats", {}).values():
        step_labels = labels | {("step", step["name"])}
        add_samples(out, "braze_canvas_step", {"revenue"}, step, step_labels, "_by_entry_time")
        for channel, objects in step.get("messages", {}).items():
            for obj in objects:
                add_samples(out, "braze_canvas_step_message", MESSAGE_FIELDS, obj,
                            step_labels | {("channel", channel)}, "_by_send_time")
    return out


class Messaging:
    """One messaging series: its kind, its own labels, and how the simulator answers it."""

    def __init__(self, kind, labels, path, params, length, items_of, samples_of):
        self.kind, self.labels, self.path, self.params = kind, labels, path, params
        self.length, self.items_of, self.samples_of = length, items_of, samples_of

    def days(self, args, zone, first, last):
        """Day start -> {(metric, labels): value} of every day from first to last answered."""
        answered = read_days(args, zone, self.path, self.params, first, last, self.length,
                             self.items_of)
        own = frozenset(self.labels.items())
        return {day: self.samples_of(own, item) for day, item in answered.items()
                if first <= day <= last}


def messaging_series(args):
    campaigns = dict(entry.split("=", 1) for entry in args.campaigns)
    series = []
    for name, campaign_id in campaigns.items():
        series.append(Messaging("campaign", {"campaign": name}, "campaigns/data_series",
                                {"campaign_id": campaign_id}, 100, lambda body: body["data"],
                                lambda labels, day: campaign_samples("braze_campaign", labels, day)))
    for entry in args.sends:
        name, send_id = entry.split("/", 1)
        series.append(Messaging("send", {"campaign": name, "send_id": send_id}, "sends/data_series",
                                {"campaign_id": campaigns[name], "send_id": send_id}, 100,
                                lambda body: body["data"],
                                lambda labels, day: campaign_samples("braze_send", labels, day)))
    for entry in args.canvases:
        name, canvas_id = entry.split("=", 1)
        params = {"canvas_id": canvas_id, "include_variant_breakdown": "true",
                  "include_step_breakdown": "true"}
        series.append(Messaging("canvas", {"canvas": name}, "canvas/data_series", params, 14,
                                lambda body: body["data"]["stats"], canvas_samples))
    return series


def own_labels(metric):
    """A Prometheus series' labels without those of the scrape (job, instance) and its name."""
    return frozenset((k, v) for k, v in metric.items() if k not in ("__name__", "job", "instance"))


def first_few(items, n=3):
    return ", ".join(str(i) for i in sorted(items, key=str)[:n])


def compare_messaging(args, zone, series):
    labels = dict(series.labels, job=args.job)
    name = f"braze_{series.kind}{selector(labels)}"
    steps = query_steps(args)
    span = dict(start=steps[0], end=steps[-1], step=args.query_step)
    query = "{" + f'__name__=~"braze_{series.kind}_.+",' + selector(labels)[1:]
    result = prom(args.prom, "/api/v1/query_range", query=query, **span)["result"]
    bucket_metric = f"braze_{series.kind}_bucket_timestamp_seconds"
    got = {(r["metric"]["__name__"], own_labels(r["metric"])):
           {int(float(t)): float(x) for t, x in r["values"]} for r in result}
    shown = {t: zone.shown(t, "day", args.messaging_delay) for t in steps}
    days = series.days(args, zone, shown[steps[0]], shown[steps[-1]])
    bucket = got.pop((bucket_metric, frozenset(series.labels.items())), {})
    answered = [t for t in steps if shown[t] in days]
    check(sorted(bucket) == answered and bool(answered),
          f"{name}: a bucket timestamp at each of the {len(answered)} steps whose day Braze answers"
          f" (none at the {len(steps) - len(answered)} others)")
    wrong = [t for t in answered if bucket.get(t) != shown[t]]
    check(not wrong, f"{name}: each point's bucket timestamp is the day a scrape would have shown"
          + (f" (first wrong at {wrong[0]}: {bucket.get(wrong[0])})" if wrong else ""))
    seen = {int(b) for b in bucket.values()}
    check(seen == set(days), f"{name}: all {len(days)} days Braze answers are seen"
          + ("" if seen == set(days) else f" (seen {sorted(seen)}, answered {sorted(days)})"))
    expected = set().union(*(d.keys() for d in days.values()))
    check(set(got) == expected,
          f"{name}: its {len(expected)} series (families and channel/variation/variant/step labels)"
          f" are those of Braze's answers"
          + (f" (missing {first_few(expected - set(got))}; extra {first_few(set(got) - expected)})"
             if set(got) != expected else ""))
    compare_messaging_values(args, zone, name, steps, shown, days, got)


def compare_messaging_values(args, zone, name, steps, shown, days, got):
    """Point by point: present exactly where Braze answers; counts equal on every day; revenue
    and conversions equal on the days final at --read-at, else at most the simulator's later
    read."""
    final = {day for day in days if zone.day_after(day) + RESTATEMENT <= args.read_at}
    tally = {"count": 0, "final": 0, "restated": 0}
    wrong = []
    for (metric, labels), points in got.items():
        for t in steps:
            want = days.get(shown[t], {}).get((metric, labels))
            value = points.get(t)
            if want is None and value is None:
                continue
            if want is None or value is None:
                ok = False
            elif not restated(metric):
                tally["count"] += 1
                ok = value == want
            elif shown[t] in final:
                tally["final"] += 1
                ok = value == want
            else:
                tally["restated"] += 1
                ok = value <= want
            if not ok:
                wrong.append(f"{metric}{dict(labels)} at {t}: {value} (simulator {want})")
    check(not wrong and tally["count"] > 0,
          f"{name}: every point is the simulator's for its day: {tally['count']} counts equal; "
          f"revenue and conversions equal on the {len(final)} days final at the backfill "
          f"({tally['final']} points), at most its later read on the {len(days) - len(final)} "
          f"still restated ({tally['restated']}); none where Braze answers none"
          + (f" ({len(wrong)} wrong, first {wrong[0]})" if wrong else ""))


def parse_exposition(text):
    """(metric, labels) -> value of every sample of a /metrics page (text format)."""
    samples = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    unescape = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
    for line in text.splitlines():
        match = line_re.match(line)
        if not match or line.startswith("#"):
            continue
        labels = frozenset((k, re.sub(r'\\[\\"n]', lambda m: unescape[m.group(0)], v))
                           for k, v in label_re.findall(match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def compare_live(args):
    """The live exporter's latest complete day against the backfill's at the end of the window."""
    kinds = ("campaign", "canvas", "send")
    with open(args.live_metrics) as f:
        live = {key: value for key, value in parse_exposition(f.read()).items()
                if "_in_progress" not in key[0]
                and (key[0].startswith(tuple(f"braze_{k}_" for k in kinds))
                     or key[0] == "braze_up" and dict(key[1]).get("kind") in kinds)}
    query = f'{{__name__=~"braze_({"|".join(kinds)})_.+|braze_up",job="{args.job}"}}'
    result = prom(args.prom, "/api/v1/query", query=query, time=query_steps(args)[-1])["result"]
    backfilled = {(r["metric"]["__name__"], own_labels(r["metric"])): float(r["value"][1])
                  for r in result
                  if r["metric"]["__name__"] != "braze_up" or r["metric"].get("kind") in kinds}
    check(set(live) == set(backfilled) and bool(live),
          f"live exporter: its {len(live)} messaging samples are the series the backfill has at the "
          f"end of the window" + ("" if set(live) == set(backfilled) else
                                  f" (live only {first_few(set(live) - set(backfilled))}; "
                                  f"backfill only {first_few(set(backfilled) - set(live))})"))
    shared = set(live) & set(backfilled)
    buckets = [k for k in shared if k[0].endswith("_bucket_timestamp_seconds")]
    wrong = [k for k in buckets if live[k] != backfilled[k]]
    check(bool(buckets) and not wrong,
          f"live exporter: its {len(buckets)} bucket timestamps (the latest complete day) are the "
          f"backfill's last" + (f" (first wrong {wrong[0]}: {live[wrong[0]]} vs "
                                f"{backfilled[wrong[0]]})" if wrong else ""))
    counts = [k for k in shared if k not in buckets and not restated(k[0])]
    grown = [k for k in shared if restated(k[0])]
    wrong = ([k for k in counts if live[k] != backfilled[k]]
             + [k for k in grown if live[k] < backfilled[k]])
    check(bool(counts) and not wrong,
          f"live exporter: its {len(counts)} counts of that day equal the backfilled ones, its "
          f"{len(grown)} revenue and conversions (read later, still restated) are at least them"
          + (f" (first wrong {wrong[0]}: {live[wrong[0]]} vs {backfilled[wrong[0]]})"
             if wrong else ""))


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
    ap.add_argument("--campaigns", nargs="*", default=[], metavar="NAME=ID")
    ap.add_argument("--canvases", nargs="*", default=[], metavar="NAME=ID")
    ap.add_argument("--sends", nargs="*", default=[], metavar="CAMPAIGN_NAME/SEND_ID")
    ap.add_argument("--messaging-delay", type=int, default=0, help="the messaging blocks' delay (s)")
    ap.add_argument("--read-at", type=int, default=0,
                    help="a Unix time before the backfill read Braze: days final then compare whole")
    ap.add_argument("--live-metrics", help="the live exporter's /metrics, scraped after the backfill")
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
    for series in messaging_series(args):
        compare_messaging(args, zone, series)
    if args.live_metrics:
        compare_live(args)
    print(f"e2e-backfill-compare ({args.zone}): {PASSED} passed, {FAILED} failed")
    return 0 if FAILED == 0 and PASSED > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
