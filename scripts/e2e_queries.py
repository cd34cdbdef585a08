#!/usr/bin/env python3
"""Assertions of scripts/e2e-prometheus.sh against a real Prometheus's HTTP API (stdlib only).

Phase `healthy` (the exporter runs against its simulator and is being scraped):
- Prometheus loaded every rule of the rules files (count given by promtool check rules);
- every rule expression, as loaded, evaluates without error, and every rule's health is ok;
- every recording rule returns series; every metric an alert reads exists; no alert expression
  returns anything while the demo is healthy (and no alert is firing), but those of
  EXPECTED_DEMO_ALERTS, which return exactly the series the demo is built to show;
- what the demo has no data for (EXPECTED_EMPTY_SERIES, with why) runs and returns nothing;
- every dashboard variable query (label_values) returns values;
- every dashboard query, with Grafana's variables substituted both as "All" and as a
  multi-select of real values, parses and returns series (instant query; range queries too for
  the panels Grafana draws as time series).
Phase `down` (the exporter has been stopped): up becomes 0 and BrazeExporterDown goes pending.

Every query that needs data is retried until --deadline. Prints PASS/FAIL lines and
`e2e-queries: N passed, M failed`; exits 1 on any failure. The queries listed with
`(history: synthetic backfill)` only return series because of the backfilled week.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rules_promql as rp  # noqa: E402

PROM = None


def api(path, **params):
    url = PROM + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read().decode())
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}
    except (urllib.error.URLError, OSError, ValueError) as e:
        return {"status": "error", "error": str(e)}


def query(expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    return api("/api/v1/query", **params)


def query_range(expr, start, end, step=15):
    return api("/api/v1/query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=str(step))


class Checks:
    """Named checks, each a function returning (ok, detail); retried until the deadline."""

    def __init__(self):
        self.items = []

    def add(self, name, fn, retry=True):
        self.items.append([name, fn, retry, None, ""])

    def run(self, deadline):
        end = time.time() + deadline
        while True:
            pending = 0
            for it in self.items:
                name, fn, retry, ok, _ = it
                if ok:
                    continue
                if ok is False and not retry:
                    continue
                try:
                    it[3], it[4] = fn()
                except Exception as e:  # a check's own bug must fail, not crash the run
                    it[3], it[4] = False, f"{type(e).__name__}: {e}"
                if not it[3] and retry:
                    pending += 1
            if not pending or time.time() >= end:
                break
            time.sleep(2)
        for name, _, _, ok, detail in self.items:
            print(f"PASS {name}" if ok else f"FAIL {name}: {detail}")
        return [it[3] for it in self.items]


def ok_parse(res):
    if res.get("status") == "success":
        return True, ""
    return False, f'{res.get("errorType", "")} {res.get("error", res)}'


def series_of(res):
    if res.get("status") != "success":
        return None
    return res["data"]["result"]


def needs_history(expr):
    return "offset" in expr or ":last_week" in expr or "change_vs_last_week" in expr


# Dashboard variables that have no values on the demo, and why; their check asserts that the
# query runs (and stays empty) instead of that it returns values. Their queries get "All" (.*).
EXPECTED_EMPTY_VARIABLES = {
    "workspace": "the demo configures one workspace, and single-workspace series carry no "
                 "workspace label (workspace=~\".*\" still matches them)",
}

# Series the demo has none of, and why: a rule recording them, a metric an alert reads and a
# dashboard query selecting them (matched by these substrings) must run and return nothing, so
# that the day the demo gains them this list has to shrink.
EXPECTED_EMPTY_SERIES = {
    "braze:message_errored:ratio": "the demo has no live webhook campaign or Canvas step "
                                   "(its only webhook campaign is disabled and left out by discovery)",
    'channel="webhook"': "the same: no webhook messages in the demo",
}

# Alerts whose expression returns series on the healthy demo by design, with exactly these
# labels (a subset of each series' labels), and why. They must not be firing (their `for` is
# longer than the test), and must return nothing else.
EXPECTED_DEMO_ALERTS = {
    "BrazeEmailBounceRateHigh": (
        [{"campaign": "onboarding_email", "channel": "email"}],
        "the demo's email campaign bounces 2 points more every day since 3 days before the demo "
        "started (simulator: bounces_rising_since), so yesterday's bounce rate is over 5 %",
    ),
}


def expected_empty(expr):
    """Why `expr` returns nothing on the demo, or None when it must return series."""
    for needle, why in EXPECTED_EMPTY_SERIES.items():
        if needle in expr:
            return why
    return None


def healthy(a):
    checks = Checks()
    quiet_checks = Checks()  # run after the data checks, once the recording rules have data
    rules_res = api("/api/v1/rules")
    groups = rules_res.get("data", {}).get("groups", []) if rules_res.get("status") == "success" else []
    rules = [r for g in groups for r in g["rules"]]
    checks.add(f"Prometheus loaded all {a.rule_count} rules", lambda: (
        len(rules) == a.rule_count, f"loaded {len(rules)}: {[r['name'] for r in rules]}"), retry=False)

    history = []
    for r in rules:
        label = f'{"record" if r["type"] == "recording" else "alert"} {r["name"]}'
        expr = r["query"]
        checks.add(f"{label}: expression evaluates", lambda e=expr: ok_parse(query(e)), retry=False)

        def health(name=r["name"], typ=r["type"]):
            res = api("/api/v1/rules")
            for g in res.get("data", {}).get("groups", []):
                for x in g["rules"]:
                    if x["name"] == name and x["type"] == typ:
                        if x.get("health") == "ok":
                            return True, ""
                        return False, f'health {x.get("health")} {x.get("lastError", "")}'
            return False, "rule not found"
        checks.add(f"{label}: rule health ok", health)
        if r["type"] == "recording":
            if needs_history(expr):
                history.append(label)

            why = expected_empty(r["name"])

            def recorded(name=r["name"], empty=why is not None):
                s = series_of(query(name))
                if s is None:
                    return False, "query failed"
                return bool(s) != empty, f"{len(s)} series"
            if why is None:
                checks.add(f"{label}: returns series", recorded)
            else:  # read once the other data is in, as the alerts' quiet checks
                quiet_checks.add(f"{label}: runs and returns nothing on the demo (expected: {why})", recorded)
        else:
            for m in sorted(rp.metric_names(expr)):
                why = expected_empty(m)

                def exists(m=m, empty=why is not None):
                    s = series_of(query(f"count({m})"))
                    if s is None:
                        return False, "query failed"
                    return bool(s) != empty, f"{len(s)} series named {m}"
                if why is None:
                    checks.add(f"{label}: metric {m} has series", exists)
                else:
                    quiet_checks.add(f"{label}: metric {m} has no series on the demo (expected: {why})", exists)

            expected, why = EXPECTED_DEMO_ALERTS.get(r["name"], ([], None))

            def quiet(e=expr, expected=expected):
                s = series_of(query(e))
                if s is None:
                    return False, "query failed"
                got = [x["metric"] for x in s]
                matched = all(any(all(g.get(k) == v for k, v in want.items()) for g in got) for want in expected)
                unexpected = [g for g in got if not any(all(g.get(k) == v for k, v in want.items())
                                                        for want in expected)]
                return matched and not unexpected, f"{len(s)} series on a healthy demo: {got[:3]}"
            if why is None:
                quiet_checks.add(f"{label}: quiet while the demo is healthy", quiet)
            else:
                quiet_checks.add(f"{label}: returns exactly {expected} on the demo (expected: {why})", quiet)

    # Dashboard variables and queries.
    for path in a.dashboard:
        d = rp.load_dashboard(path)
        rel = os.path.basename(path)
        variables = [v for v in d.get("templating", {}).get("list", []) if v.get("type") == "query"]
        all_values = {v["name"]: (v.get("allValue") or ".*") for v in variables}
        # Real values for a multi-select: the first two of each variable, resolved in order.
        multi_values = {}
        for v in variables:
            m = rp.LABEL_VALUES.match(rp.variable_query(v))

            def var_check(v=v, m=m):
                if not m:
                    return False, f"not a label_values() query: {rp.variable_query(v)!r}"
                sel = rp.substitute(m.group(1), all_values)
                res = api("/api/v1/series", **{"match[]": sel, "start": f"{time.time() - 3600:.0f}"})
                if res.get("status") != "success":
                    return False, str(res.get("error"))
                vals = sorted({s.get(m.group(2)) for s in res["data"] if s.get(m.group(2))})
                if v["name"] in EXPECTED_EMPTY_VARIABLES:
                    return not vals, f"expected no values, got {vals[:5]}"
                return bool(vals), f"no values for {sel}"
            if v["name"] in EXPECTED_EMPTY_VARIABLES:
                checks.add(f"{rel} variable {v['name']}: label_values runs and is empty on the demo "
                           f"(expected: {EXPECTED_EMPTY_VARIABLES[v['name']]})", var_check)
            else:
                checks.add(f"{rel} variable {v['name']}: label_values returns values", var_check)
            if m:
                res = api("/api/v1/series", **{"match[]": rp.substitute(m.group(1), all_values),
                                               "start": f"{time.time() - 3600:.0f}"})
                vals = sorted({s.get(m.group(2)) for s in res.get("data", []) if s.get(m.group(2))})
                # Prefer "all" plus a named value, as a user would pick them.
                pick = ([x for x in vals if x == "all"] + [x for x in vals if x != "all"])[:2]
                multi_values[v["name"]] = rp.grafana_multi(pick) if pick else all_values[v["name"]]

        for variant, values in (("All", all_values), ("multi-select", multi_values)):
            for where, expr, instant in rp.dashboard_queries(d):
                q = rp.substitute(expr, values)
                name = f"{rel} {where} [{variant}]"
                if "$" in q:
                    checks.add(name + ": variables substituted", lambda q=q: (False, f"unknown variable left in {q!r}"),
                               retry=False)
                    continue
                if needs_history(q) and variant == "All":
                    history.append(f"{where}")
                checks.add(name + ": parses", lambda q=q: ok_parse(query(q)), retry=False)

                why = expected_empty(q)

                def data(q=q, empty=why is not None):
                    s = series_of(query(q))
                    if s is None:
                        return False, "query failed"
                    return bool(s) != empty, f"{len(s)} series for {q!r}"
                if why is not None:
                    quiet_checks.add(name + f": runs and returns nothing on the demo (expected: {why})", data)
                    continue
                checks.add(name + ": returns series", data)
                if not instant and variant == "All":
                    def rng(q=q):
                        now = time.time()
                        res = query_range(q, now - 300, now)
                        s = series_of(res)
                        if s is None:
                            return ok_parse(res)
                        return bool(s), f"no series over the last 5 minutes for {q!r}"
                    checks.add(name + ": range query returns series", rng)

    results = checks.run(a.deadline)
    # Alert expressions must return nothing on a healthy demo (but for EXPECTED_DEMO_ALERTS), and
    # the EXPECTED_EMPTY_SERIES queries nothing, read after a few more rule evaluations so that
    # they see the recorded series the checks above waited for.
    time.sleep(5)
    results += quiet_checks.run(20)

    # After the data checks passed (or timed out): nothing may be firing on a healthy demo.
    firing = [x for x in api("/api/v1/alerts").get("data", {}).get("alerts", []) if x.get("state") == "firing"]
    ok = not firing
    print("PASS no alert firing on the healthy demo" if ok else
          f"FAIL no alert firing on the healthy demo: {[x['labels'] for x in firing]}")
    results.append(ok)
    if history:
        print("NOTE data for these comes from the synthetic week backfilled into the TSDB "
              "(offset 1w): " + "; ".join(sorted(set(history))))
    return results


def down(a):
    checks = Checks()

    def up_zero():
        s = series_of(query(f'up{{job="{a.job}"}} == 0'))
        return bool(s), "up is not 0 yet"
    checks.add(f'up{{job="{a.job}"}} drops to 0 once the exporter is stopped', up_zero)

    def pending():
        alerts = api("/api/v1/alerts").get("data", {}).get("alerts", [])
        mine = [x for x in alerts if x["labels"].get("alertname") == "BrazeExporterDown"]
        ok = any(x["state"] in ("pending", "firing") and x["labels"].get("severity") for x in mine)
        return ok, f"BrazeExporterDown alerts: {[(x['state'], x['labels']) for x in mine]}"
    checks.add("BrazeExporterDown goes pending once the exporter is stopped", pending)
    return checks.run(a.deadline)


def main():
    global PROM
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["healthy", "down"])
    ap.add_argument("--prom", required=True, help="base URL of Prometheus, e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboard", action="append", default=[])
    ap.add_argument("--rule-count", type=int, default=0)
    ap.add_argument("--job", default="braze")
    ap.add_argument("--deadline", type=float, default=120)
    a = ap.parse_args()
    PROM = a.prom.rstrip("/")
    results = healthy(a) if a.phase == "healthy" else down(a)
    failed = results.count(False)
    print(f"e2e-queries-{a.phase}: {results.count(True)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
