"""Helpers shared by scripts/rules_lint.py and scripts/e2e_queries.py (standard library only).

- The metrics contract of braze-exporter (names the dashboard and rules may use).
- Reading the rules files without a YAML library (the files are ours and keep a fixed layout:
  `- record: NAME` / `- alert: NAME` items, `expr:` either inline or as a `|` block).
- Pulling every query out of the Grafana dashboard, and Grafana variable substitution.
- A small PromQL scan that lists the metric names an expression selects.
"""
import json
import os
import re

# The exporter's metrics contract: every family it serves, as its own output lists them
# (scripts/metric-names.txt, generated and checked by src/http/contract_tests.rs), plus
# Prometheus's own `up`.
_NAMES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metric-names.txt")
with open(_NAMES_FILE, encoding="utf-8") as _names:
    CONTRACT_METRICS = {
        line.strip() for line in _names if line.strip() and not line.startswith("#")
    } | {"up"}

_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "atan2", "inf", "nan", "start", "end",
}


def metric_names(expr):
    """Metric names selected by a PromQL expression (by name, not via {__name__=...})."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    s = re.sub(r"#[^\n]*", " ", s)                                                # comments
    s = re.sub(r"\{[^}]*\}", " ", s)                                              # matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                                             # ranges
    s = re.sub(r"\$\{[^}]*\}|\$\w+", " ", s)                                      # variables
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names


# ----------------------------------------------------------------------------- rules files

def read_rules(path):
    """Rules of one rules file as dicts: kind ('record'|'alert'), name, expr, block (raw text)."""
    lines = open(path, encoding="utf-8").read().splitlines()
    rules = []
    starts = [i for i, l in enumerate(lines) if re.match(r"^\s*- (record|alert):", l)]
    group_starts = [i for i, l in enumerate(lines) if re.match(r"^\s*- name:", l)]
    for n, i in enumerate(starts):
        end = len(lines)
        for j in starts[n + 1:] + group_starts:
            if j > i:
                end = min(end, j)
        block = lines[i:end]
        m = re.match(r"^(\s*)- (record|alert):\s*(\S+)", block[0])
        kind, name = m.group(2), m.group(3)
        expr = None
        for k, l in enumerate(block):
            em = re.match(r"^(\s*)expr:\s*(.*)$", l)
            if not em:
                continue
            indent, rest = len(em.group(1)), em.group(2).strip()
            if rest in ("|", "|-", ">", ">-"):
                body = []
                for l2 in block[k + 1:]:
                    if l2.strip() and len(l2) - len(l2.lstrip()) <= indent:
                        break
                    body.append(l2.strip())
                expr = "\n".join(body).strip()
            else:
                expr = rest.strip("'\"") if rest[:1] in "'\"" else rest
            break
        rules.append({"kind": kind, "name": name, "expr": expr, "block": "\n".join(block)})
    return rules


# ----------------------------------------------------------------------------- dashboard

def all_panels(dashboard):
    """Every panel, including those nested in (collapsed) rows."""
    out = []

    def walk(panels):
        for p in panels or []:
            out.append(p)
            walk(p.get("panels"))

    walk(dashboard.get("panels"))
    return out


def variable_query(var):
    q = var.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    return q or var.get("definition") or ""


def dashboard_queries(dashboard):
    """(where, expr, instant) for every target with an expr."""
    out = []
    for p in all_panels(dashboard):
        for t in p.get("targets") or []:
            if t.get("expr"):
                instant = bool(t.get("instant")) and not t.get("range")
                out.append((f'panel {p.get("id")} "{p.get("title")}" {t.get("refId")}', t["expr"], instant))
    return out


def load_dashboard(path):
    return json.load(open(path, encoding="utf-8"))


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)

GRAFANA_BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "15000",
}


def regex_escape(v):
    return re.sub(r"([\\.^$*+?()\[\]{}|])", r"\\\\\1", v)


def grafana_multi(values):
    """How Grafana renders a multi-value selection for a Prometheus =~ matcher."""
    vals = [regex_escape(v) for v in values]
    return vals[0] if len(vals) == 1 else "(" + "|".join(vals) + ")"


def substitute(expr, values):
    """Replace $var / ${var} / ${var:fmt} with values[var], and Grafana's built-ins."""
    allv = dict(GRAFANA_BUILTINS)
    allv.update(values)

    def rep(m):
        name = m.group(1) or m.group(2)
        return allv.get(name, m.group(0))

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", rep, expr)
