#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/ (run from anywhere).

Real shapes only: Braze's documented bodies (/work/shared/braze notes, copied here), the shipped
configurations under deploy/ and the docs' examples, exporter-toolkit's web-config test files
(fuzz/seeds/web_config/), Prometheus's own scrape request. scripts/fuzz.sh merges what the
fuzzer finds into these directories only when asked (--merge), minimised.
"""
import hashlib
import json
import pathlib
import re
import struct

FUZZ = pathlib.Path(__file__).resolve().parent.parent
ROOT = FUZZ.parent
CORPUS = FUZZ / "corpus"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


# Braze's answers: the documented shape for every field of the kinds table, each time form
# (date, offset, Z, none, Braze's unpadded offset), errors, and the messaging shapes to come.
FIELDS = ["sessions", "dau", "mau", "new_users", "uninstalls", "count",
          "purchase_quantity", "revenue", "size"]
TIMES = ["2026-11-28", "2026-11-28T10:00:00+05:30", "2026-11-28T10:00:00Z",
         "2026-11-28T10:00:00", "2018-06-28T23:59:59-5:00", "2026-11-28 10:00:00.000-05:00"]
for field in FIELDS:
    points = [{"time": t, field: n} for t, n in zip(TIMES, [0, 5, 12.0, "7", 1234.56, "0.99"])]
    put("braze_answer", json.dumps({"message": "success", "data": points}))
put("braze_answer", '{"message": "success", "data": []}')
put("braze_answer", '{"message":"Invalid segment_id","errors":["no such segment"]}')
put("braze_answer", '{"message":"partial results: retry later","data":[{"time":"2026-11-28","sessions":1}]}')
put("braze_answer", "<html><body><h1>502 Bad Gateway</h1></body></html>")
put("braze_answer", '{"message": "success", "events": ["signup", "checkout"]}')
put("braze_answer", json.dumps({"message": "success", "segments": [
    {"id": "s-1", "name": "Paying", "analytics_tracking_enabled": True, "tags": ["a"]}]}))
put("braze_answer", json.dumps({"message": "success", "data": [{
    "time": "2026-11-30", "unique_recipients": 0, "revenue": 0.0, "conversions": 0,
    "conversions_by_send_time": 0,
    "messages": {
        "email": [{"variation_api_id": "v-1", "sent": 1, "opens": 0, "unique_opens": 0,
                   "clicks": 0, "unique_clicks": 0, "unsubscribes": 0, "bounces": 0,
                   "delivered": 1, "reported_spam": 0}],
        "ios_push": [{"variation_api_id": "v-2", "sent": 0, "direct_opens": 0, "total_opens": 0,
                      "bounces": 0, "body_clicks": 0, "carousel_slide_3_Spring Sale_click": 2}],
        "trigger_in_app_message": [{"variation_name": "A", "impressions": 0, "clicks": 0},
                                   {"variation_name": "Control Group", "enrolled": 0}]}}]}))
put("braze_answer", json.dumps({"message": "success", "data": {"name": "Welcome journey", "stats": [{
    "time": "2026-11-30",
    "total_stats": {"revenue": 0.0, "conversions": 0, "conversions_by_entry_time": 0, "entries": 0},
    "variant_stats": {"var-1": {"name": "Variant 1", "revenue": 0.0, "conversions": 0, "entries": 0}},
    "step_stats": {"step-1": {"name": "Day 1 email", "revenue": 0.0, "conversions": 0,
                              "messages": {"email": [{"sent": 0, "opens": 0}]}}}}]}}))

# Configurations: the shipped ones, the docs' examples, each also without its key file (so it
# checks through to the report, with the key from the environment).
configs = [ROOT / "deploy/braze-exporter.example.yml",
           ROOT / "deploy/kubernetes/components/config/config.yml",
           ROOT / "deploy/kubernetes/overlays/sharded/config.yml"]
texts = [p.read_text() for p in configs]
for doc in ["docs/configuration.md", "docs/workspaces.md", "README.md"]:
    texts += re.findall(r"```yaml\n(.*?)```", (ROOT / doc).read_text(), re.S)
for text in texts:
    put("config", text)
    put("config", re.sub(r"^\s*api_key_file:.*\n", "", text, flags=re.M))
put("config", "braze:\n  url: https://rest.iad-01.braze.com\n  time_zone: '+05:30'\n"
              "export: {events: {names: [signup]}, purchases: {products: [p1]}, segment_sizes: {}}\n"
              "segments: [{name: paying, id: s-1}]\ndiscover: {events: {match: '^sign'}}\n")

# Web configs: exporter-toolkit's test files, as its tests read them.
for path in sorted((FUZZ / "seeds/web_config").iterdir()):
    put("web_config", path.read_bytes())

# Times: a time zone index byte, then the text; the instant for ending_at is its first 8 bytes.
for i, text in enumerate(TIMES + ["2022-09-01", "2026-03-08T02:30:00", "2026-11-28T10:00:00+0530",
                                  "2026-11-28t10:00z", "2026-11-28T10:00:00.5+05", "yesterday"]):
    put("braze_time", bytes([i % 8]) + text.encode())
put("braze_time", bytes([1]) + struct.pack("<q", 1_795_860_000))

# Rate-limit headers as Braze and gateways send them.
put("rate_limit", "X-RateLimit-Limit: 250000\nX-RateLimit-Remaining: 249999\nX-RateLimit-Reset: 1795860000\n")
put("rate_limit", "x-ratelimit-limit: 250000\nx-ratelimit-remaining: 0\nx-ratelimit-reset: 1795863600\n")
put("rate_limit", "retry-after: 120\n")
put("rate_limit", "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\n")
put("rate_limit", "X-RateLimit-Remaining: -4\nX-RateLimit-Limit: lots\nRetry-After: later\n")

# Scrapes: Prometheus 3's request, curl's, a browser's, probes, reloads, HTTP/2's preface.
PROMETHEUS = ("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9887\r\nUser-Agent: Prometheus/3.5.0\r\n"
              "Accept: application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
              "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
              "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"
              "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")
put("scrape", PROMETHEUS)
put("scrape", "GET /metrics HTTP/1.1\r\nHost: localhost:9887\r\nUser-Agent: curl/8.14.1\r\nAccept: */*\r\n\r\n")
put("scrape", "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/html,application/xhtml+xml\r\n"
              "Accept-Encoding: gzip, deflate, br, zstd\r\n\r\n")
put("scrape", "HEAD /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity;q=1, *;q=0\r\n\r\n")
put("scrape", "GET /-/healthy HTTP/1.0\r\n\r\nGET /-/ready HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
put("scrape", "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
put("scrape", "GET http://x/metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0, x-gzip\r\n\r\n")
put("scrape", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

# Label values and help texts as Braze names things: two values (16 bytes), then help,
# workspace and names split at 0xFF.
for names in [["Sessions in the latest complete bucket.", "eu", "ios", "Paying users", "signup"],
              ['quote " backslash \\ newline \n end', "", "carousel_slide_3_Spring Sale_click",
               "caf\u00e9 \u2615", "all", "x=\"1\",y=\"2\""],
              ["", "w", "\t tab", "}", "{", "#"]]:
    put("exposition", struct.pack("<dd", 1234.0, 56.5) + b"\xff".join(n.encode() for n in names))
