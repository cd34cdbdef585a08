#!/usr/bin/env python3
"""Static checks of the monitoring mixin under grafana/ (standard library only).

Prints one `PASS name` or `FAIL name: why` line per check and exits 1 if any failed.
Checked:
- the dashboard: stable uid, a `datasource` variable, `app_name`/`segment_name`/`event`/`product`/
  `workspace`/`campaign`/`canvas`/`channel` variables from label_values() with multi-select and
  "All" (matching `.*`, so series without the label match too), every panel and target on
  ${datasource}, every per-series selector following the workspace variable, unique
  panel ids and refIds, every metric it names is in the exporter's contract or recorded by a
  rule, and the panels the issue asks for are there;
- the rules: every alert has a severity label, summary and description annotations, a runbook
  section in docs/runbook.md, a runbook_url annotation whose anchor is that section's, and unit
  tests where it fires and where it does not; every
  recording rule is tested; every metric named is in the contract or recorded.
Usage: rules_lint.py [--root DIR]
"""
import argparse
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rules_promql as rp  # noqa: E402

results = []


ROOT = "."


def rel_path(path):
    return os.path.relpath(path, ROOT)


def check(name, ok, why=""):
    results.append(ok)
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}")
    return ok


def ds_ref_ok(ds):
    if isinstance(ds, dict):
        return ds.get("uid") in ("${datasource}", "$datasource")
    return ds in ("${datasource}", "$datasource")


def lint_dashboard(path, recorded):
    rel = rel_path(path)
    try:
        d = rp.load_dashboard(path)
    except (OSError, ValueError) as e:
        check(f"{rel}: valid JSON", False, str(e))
        return
    check(f"{rel}: valid JSON", True)
    uid = d.get("uid")
    check(f"{rel}: stable uid", isinstance(uid, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid or "") is not None,
          f"uid={uid!r}")
    check(f"{rel}: has id null or absent (importable anywhere)", d.get("id") is None, f"id={d.get('id')!r}")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    dsv = variables.get("datasource")
    check(f"{rel}: datasource variable", dsv is not None and dsv.get("type") == "datasource"
          and dsv.get("query") == "prometheus", f"got {dsv!r}")
    for name in ("app_name", "segment_name", "event", "product", "workspace", "campaign", "canvas", "channel"):
        v = variables.get(name) or {}
        q = rp.variable_query(v)
        m = rp.LABEL_VALUES.match(q)
        check(f"{rel}: variable {name} from label_values(..., {name}), multi, All",
              v.get("type") == "query" and m is not None and m.group(2) == name and v.get("multi") is True
              and v.get("includeAll") is True and v.get("allValue") == ".*" and ds_ref_ok(v.get("datasource")),
              f"type={v.get('type')} query={q!r} multi={v.get('multi')} includeAll={v.get('includeAll')} "
              f"datasource={v.get('datasource')}")
    for name, v in variables.items():
        if v.get("type") == "query":
            check(f"{rel}: variable {name} uses ${{datasource}}", ds_ref_ok(v.get("datasource")), str(v.get("datasource")))

    panels = rp.all_panels(d)
    ids = [p.get("id") for p in panels]
    check(f"{rel}: panel ids unique", len(ids) == len(set(ids)) and None not in ids, str(ids))
    bad_ds, bad_refs, empty = [], [], []
    for p in panels:
        targets = p.get("targets") or []
        if p.get("type") == "row":
            continue
        if not targets:
            empty.append(p.get("title"))
            continue
        if not ds_ref_ok(p.get("datasource")):
            bad_ds.append(f'panel {p.get("id")} {p.get("datasource")}')
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)) or None in refs:
            bad_refs.append(f'panel {p.get("id")} {refs}')
        for t in targets:
            if not ds_ref_ok(t.get("datasource")):
                bad_ds.append(f'panel {p.get("id")} target {t.get("refId")} {t.get("datasource")}')
            if not (t.get("expr") or "").strip():
                empty.append(f'{p.get("title")} {t.get("refId")}')
    check(f"{rel}: every panel and target uses ${{datasource}}", not bad_ds, "; ".join(bad_ds))
    check(f"{rel}: refIds unique per panel", not bad_refs, "; ".join(bad_refs))
    check(f"{rel}: every data panel has queries with an expr", not empty, "; ".join(map(str, empty)))

    known = rp.CONTRACT_METRICS | recorded
    queries = rp.dashboard_queries(d)
    unknown = []
    used = set()
    for where, expr, _ in queries:
        names = rp.metric_names(expr)
        used |= names
        unknown += [f"{where}: {n}" for n in sorted(names - known)]
    for name, v in variables.items():
        m = rp.LABEL_VALUES.match(rp.variable_query(v))
        if m:
            names = rp.metric_names(m.group(1))
            used |= names
            unknown += [f"variable {name}: {n}" for n in sorted(names - known)]
    check(f"{rel}: every metric named is in the contract or recorded ({len(queries)} queries)", not unknown,
          "; ".join(unknown))
    required = {
        "sessions per hour": "braze_sessions",
        "same hour last week": "braze:sessions:last_week",
        "change in percent": "braze:sessions:change_vs_last_week_ratio",
        "hour in progress": "braze_sessions_in_progress",
        "data freshness": "braze:sessions:lag_seconds",
        "series up/down": "braze_up",
        "Braze requests": "braze_api_requests_total",
        "failures by reason": "braze_api_request_failures_total",
        "rate-limit remaining": "braze_api_rate_limit_remaining",
        "refresh duration": "braze_refresh_duration_seconds",
        "DAU": "braze_dau",
        "MAU": "braze_mau",
        "stickiness DAU/MAU": "braze:dau_per_mau:ratio",
        "new users": "braze_new_users",
        "uninstalls": "braze_uninstalls",
        "events": "braze_events",
        "purchases": "braze_purchases",
        "revenue": "braze_purchase_revenue",
        "segment sizes": "braze_segment_size",
        "messages sent per campaign and channel": "braze:message_sent:sum",
        "delivery rate": "braze:message_delivered:ratio",
        "email bounce rate": "braze:message_bounced:ratio",
        "email unique open rate": "braze:message_unique_opened:ratio",
        "email unique click rate": "braze:message_unique_clicked:ratio",
        "push direct open rate": "braze:message_direct_opened:ratio",
        "spam complaint rate": "braze:message_spam_reported:ratio",
        "spam complaints": "braze_campaign_message_reported_spam",
        "unsubscribes": "braze_campaign_message_unsubscribes",
        "SMS delivery failure rate": "braze:message_delivery_failed:ratio",
        "SMS delivery failures": "braze_campaign_message_delivery_failed",
        "SMS opt-outs": "braze_campaign_message_opt_out",
        "webhook error rate": "braze:message_errored:ratio",
        "webhook errors": "braze_campaign_message_errors",
        "conversions per campaign": "braze_campaign_conversions",
        "revenue per campaign": "braze_campaign_revenue",
        "Canvas entries per variant": "braze_canvas_entries",
        "Canvas conversions per variant": "braze_canvas_conversions",
        "Canvas step funnel": "braze:canvas_step_sent:sum",
    }
    missing = [f"{what} ({metric})" for what, metric in required.items() if metric not in used]
    check(f"{rel}: has the panels the issue asks for", not missing, "missing " + ", ".join(missing))
    reasons = [p for p in panels for t in p.get("targets") or [] if "by (reason)" in (t.get("expr") or "")]
    check(f"{rel}: failures are split by reason", bool(reasons), "no query aggregates by (reason)")
    # Every query of a per-series metric follows the workspace variable.
    per_series = re.compile(r"\b(braze_(sessions|dau|mau|new_users|uninstalls|events|purchases|purchase_revenue|"
                            r"segment_size|up|last_success|campaign|canvas|send)\w*|"
                            r"braze:(sessions|dau|dau_per_mau|purchase_revenue|message_\w+|campaign_sent|canvas_step_sent|"
                            r"canvas_entries|messaging):\w+)\{([^}]*)\}")
    no_ws = [f"{where}: {m.group(0)}" for where, expr, _ in queries for m in per_series.finditer(expr)
             if 'workspace=~"$workspace"' not in m.group(4)]
    check(f"{rel}: every per-series selector has workspace=~\"$workspace\"", not no_ws, "; ".join(no_ws[:5]))


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    a = heading.strip().lower().replace("`", "")
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def lint_rules(rule_files, test_files, runbook):
    rules = []
    for f in rule_files:
        rs = rp.read_rules(f)
        check(f"{rel_path(f)}: rules found and every rule has an expr", bool(rs) and all(r["expr"] for r in rs),
              f"{len(rs)} rules, without expr: {[r['name'] for r in rs if not r['expr']]}")
        rules += rs
    recorded = {r["name"] for r in rules if r["kind"] == "record"}
    known = rp.CONTRACT_METRICS | recorded
    tests_text = "\n".join(open(f, encoding="utf-8").read() for f in test_files)
    runbook_text = open(runbook, encoding="utf-8").read() if os.path.exists(runbook) else ""
    anchors = {github_anchor(h) for h in re.findall(r"^#+\s*(.+?)\s*$", runbook_text, re.M)}

    # alert name -> [firing?] cases found in the test files
    cases = {}
    current = None
    for line in tests_text.splitlines():
        m = re.match(r"^\s*-\s*alertname:\s*(\S+)", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"^\s*exp_alerts:\s*(.*)$", line)
        if m and current:
            cases.setdefault(current, []).append(m.group(1).strip() != "[]")
            current = None

    for r in rules:
        unknown = sorted(rp.metric_names(r["expr"] or "") - known)
        check(f"{r['kind']} {r['name']}: metrics in the contract or recorded", not unknown, ", ".join(unknown))
        if r["kind"] == "record":
            check(f"record {r['name']}: has a promql_expr_test", re.search(
                r"expr:\s*['\"]?" + re.escape(r["name"]) + r"\b", tests_text) is not None, "no test evaluates it")
            continue
        b = r["block"]
        sev = re.search(r"^\s*severity:\s*['\"]?(\w+)", b, re.M)
        check(f"alert {r['name']}: severity label", sev is not None and sev.group(1) in ("critical", "warning", "info"),
              "missing or not critical|warning|info")
        for ann in ("summary", "description"):
            check(f"alert {r['name']}: {ann} annotation", re.search(rf"^\s*{ann}:\s*\S", b, re.M) is not None, "missing")
        check(f"alert {r['name']}: runbook section in {rel_path(runbook)}",
              re.search(rf"^#+\s*`?{re.escape(r['name'])}`?\s*$", runbook_text, re.M) is not None, "no heading with its name")
        url = re.search(r"^\s*runbook_url:\s*(?:>-?\s*)?['\"]?([^\s'\"]+)", b, re.M)
        anchor = url.group(1).rsplit("#", 1)[1] if url and "#" in url.group(1) else None
        check(f"alert {r['name']}: runbook_url points at its section of {rel_path(runbook)}",
              anchor is not None and anchor in anchors and anchor == github_anchor(r["name"]),
              f"runbook_url {url.group(1) if url else None!r}, anchors of {rel_path(runbook)}: {sorted(anchors)[:20]}")
        c = cases.get(r["name"], [])
        check(f"alert {r['name']}: unit tests firing and not firing", True in c and False in c,
              f"firing cases {c.count(True)}, not-firing cases {c.count(False)}")
    return recorded


def lint_provisioning(g):
    """Grafana provisioning examples: present, apiVersion 1, and pointing where the README says."""
    ds = sorted(glob.glob(os.path.join(g, "provisioning", "datasources", "*.y*ml")))
    dash = sorted(glob.glob(os.path.join(g, "provisioning", "dashboards", "*.y*ml")))
    check("provisioning: a datasource file", bool(ds), "none in grafana/provisioning/datasources/")
    check("provisioning: a dashboard provider file", bool(dash), "none in grafana/provisioning/dashboards/")
    for f in ds:
        t = open(f, encoding="utf-8").read()
        check(f"{rel_path(f)}: apiVersion 1, a prometheus data source with a url",
              re.search(r"^apiVersion:\s*1\s*$", t, re.M) is not None
              and re.search(r"^\s*type:\s*prometheus\s*$", t, re.M) is not None
              and re.search(r"^\s*url:\s*\S+", t, re.M) is not None, "missing apiVersion/type/url")
    for f in dash:
        t = open(f, encoding="utf-8").read()
        check(f"{rel_path(f)}: apiVersion 1, a file provider with a path",
              re.search(r"^apiVersion:\s*1\s*$", t, re.M) is not None
              and re.search(r"^\s*type:\s*file\s*$", t, re.M) is not None
              and re.search(r"^\s*path:\s*\S+", t, re.M) is not None, "missing apiVersion/type/path")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    a = ap.parse_args()
    global ROOT
    ROOT = a.root
    g = os.path.join(a.root, "grafana")
    rule_files = sorted(f for f in glob.glob(os.path.join(g, "**", "*.rules.y*ml"), recursive=True)
                        if ".test." not in os.path.basename(f))
    test_files = sorted(glob.glob(os.path.join(g, "**", "*.rules.test.y*ml"), recursive=True))
    dashboards = sorted(glob.glob(os.path.join(g, "dashboards", "*.json")))
    check("rules files found", bool(rule_files), "no grafana/**/*.rules.yml")
    check("rule test files found", bool(test_files), "no grafana/**/*.rules.test.yml")
    check("dashboards found", bool(dashboards), "no grafana/dashboards/*.json")
    recorded = lint_rules(rule_files, test_files, os.path.join(a.root, "docs", "runbook.md"))
    for path in dashboards:
        lint_dashboard(path, recorded)
    lint_provisioning(g)
    failed = results.count(False)
    print(f"rules-lint: {results.count(True)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
