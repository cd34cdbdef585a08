#!/usr/bin/env python3
"""Side-by-side benchmark of braze-exporter against nginx and Prometheus Pushgateway.

Run through bench/run.sh (it installs wrk, nginx-light and prometheus-pushgateway when they are
missing); bench/README.md says what each phase measures and how. Everything listens on
127.0.0.1 only, every wait is bounded, and every process started here is stopped on exit,
including on Ctrl-C and SIGTERM.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_KEY = "bench-key"
# src/snapshot/serve.rs: plain bodies sent at once.
PLAIN_RENDERS = 2



def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def parse_size(text):
    apps, _, segs = text.lower().partition("x")
    return int(apps), int(segs)


def series_count(apps, segs):
    return (1 + apps) * (1 + segs)


class AppsWorkload:
    """Sessions series of (1 + apps) × (1 + segments): the main table and the scaling sizes."""

    exports = ("sessions",)
    # Pushgateway is given the per-series families of this workload (`app_name`).
    pushgateway = True

    def __init__(self, apps, segs):
        self.apps, self.segs = apps, segs
        self.name = f"{apps}x{segs}"
        self.series = series_count(apps, segs)
        self.what = f"{self.series:,} series"

    def simulator_args(self):
        return ["--apps", str(self.apps), "--segments", str(self.segs)]

    def config_lines(self, interval, simulator):
        lines = ["refresh:", f"  interval: {interval}", "  unit: hour", "  length: 3", "  delay: 0s"]
        lines += ["apps:"]
        lines += [f"  - {{name: app-{i:04d}, id: app-{i:04d}}}" for i in range(1, self.apps + 1)]
        lines += ["segments:"]
        lines += [f"  - {{name: seg-{i:04d}, id: seg-{i:04d}}}" for i in range(1, self.segs + 1)]
        return lines


class MessagingWorkload:
    """Campaigns × channels × variations plus Canvases × steps (export.canvases.steps: true),
    every one configured by its id as the simulator lists it, on the messaging blocks' own
    defaults (daily, length 7) but for the interval."""

    exports = ("campaigns", "canvases")
    pushgateway = False

    def __init__(self, campaigns, channels, variations, canvases, steps):
        self.campaigns, self.channels, self.variations = campaigns, channels, variations
        self.canvases, self.steps = canvases, steps
        self.name = f"messaging-{campaigns}x{channels}x{variations}+{canvases}x{steps}"
        self.series = campaigns + canvases
        self.what = (f"messaging: {campaigns:,} campaigns × {channels} channels × {variations} "
                     f"variations + {canvases:,} Canvases × {steps} steps")

    def simulator_args(self):
        return [
            "--apps", "0", "--segments", "0",
            "--campaigns", str(self.campaigns), "--channels", str(self.channels),
            "--variations", str(self.variations), "--canvases", str(self.canvases),
            "--steps", str(self.steps),
            # The campaign-analytics pool (50,000 a minute by default) must never answer 429.
            "--campaign-rate-limit-per-minute", "1000000000",
        ]

    def config_lines(self, interval, simulator):
        campaigns, canvases = simulator_listing(simulator)
        if (len(campaigns), len(canvases)) != (self.campaigns, self.canvases):
            raise BenchError(f"the simulator lists {len(campaigns)} campaigns and {len(canvases)} "
                             f"Canvases, not {self.campaigns} and {self.canvases}")
        lines = ["campaigns:"]
        lines += [f"  - {{name: {i}, id: {i}}}" for i in campaigns]
        lines += ["canvases:"]
        lines += [f"  - {{name: {i}, id: {i}}}" for i in canvases]
        lines += [
            "export:",
            f"  campaigns: {{interval: {interval}}}",
            f"  canvases: {{interval: {interval}, steps: true}}",
        ]
        return lines


def parse_messaging(text):
    """`CAMPAIGNSxCHANNELSxVARIATIONS+CANVASESxSTEPS` (1000x3x2+100x8), or none."""
    if text.lower() in ("", "none", "0"):
        return None
    try:
        campaigns, canvases = text.lower().split("+")
        c, ch, v = (int(x) for x in campaigns.split("x"))
        cv, st = (int(x) for x in canvases.split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--messaging {text!r}: expected CAMPAIGNSxCHANNELSxVARIATIONS+CANVASESxSTEPS, e.g. 1000x3x2+100x8")
    return MessagingWorkload(c, ch, v, cv, st)


def simulator_listing(proc):
    """The campaign and Canvas ids the simulator printed (`campaign <id>`, `canvas <id>`) before
    `listening on`."""
    with open(proc.bench_log, errors="replace") as f:
        words = [line.split(None, 1) for line in f if line.strip()]
    campaigns = [w[1].strip() for w in words if w[0] == "campaign" and len(w) == 2]
    canvases = [w[1].strip() for w in words if w[0] == "canvas" and len(w) == 2]
    return campaigns, canvases


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(url, gzip_ok=False, timeout=60):
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
        return r.read(), r.headers.get("Content-Encoding")


def metrics_values(text, names, exports=("sessions",)):
    """The value of each sample named in `names` found in exposition `text`: unlabelled ones as
    they are; those of an export block (`{export="campaigns"}`) folded over the blocks in
    `exports` (the ones the bench configures): `braze_refreshes_total` is the fewest refreshes
    of any block (so 1 means every block has done its first) and any other the largest."""
    found, by_block = {}, {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        series, _, value = line.rpartition(" ")
        name, _, labels = series.partition("{")
        if name not in names:
            continue
        if labels == "":
            found[name] = float(value)
        elif labels.startswith('export="') and labels.endswith('"}'):
            block = labels[len('export="'):-2]
            if block in exports:
                by_block.setdefault(name, {})[block] = float(value)
    for name, values in by_block.items():
        if name == "braze_refreshes_total":
            found[name] = min(values.get(block, 0.0) for block in exports)
        else:
            found[name] = max(values.values())
    return found


def series_families(text):
    """The families of `text` whose samples carry `app_name`: the per-series gauges, which are
    what Pushgateway is given to hold (the exporter's self-metrics would clash with
    Pushgateway's own process_* metrics)."""
    families, order = {}, []
    for line in text.splitlines(keepends=True):
        name = line.split()[2] if line.startswith("# ") else line.split("{")[0].split(" ")[0]
        if name not in families:
            families[name] = []
            order.append(name)
        families[name].append(line)
    per_series = [n for n in order if any('app_name="' in l for l in families[n] if not l.startswith("#"))]
    return "".join("".join(families[n]) for n in per_series)


def proc_status(pid):
    """VmRSS and VmHWM of `pid` in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def cpu_seconds(pids):
    """User + system CPU time of `pids` (each with all its threads), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / ticks


def thread_cpu_ns(pids):
    """On-CPU nanoseconds of each thread of `pids` (`/proc/PID/task/TID/schedstat`): finer than
    `/proc/PID/stat`'s 10 ms ticks, for the few scrapes of a paced run."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    out[(pid, tid)] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return out


def machine_busy():
    """Share of all CPUs busy, sampled over 1 s, and the 1-minute load average."""

    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    t0, i0 = sample()
    time.sleep(1)
    t1, i1 = sample()
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    return {"busy": round(1 - (i1 - i0) / max(1, t1 - t0), 3), "load1": load1}


def median(values):
    return statistics.median(values) if values else float("nan")


class Procs:
    """Every process this run starts, so that all of them are stopped on any exit."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.running = []

    def spawn(self, name, argv, env=None):
        logfile = open(os.path.join(self.workdir, f"{name}.log"), "ab")
        proc = subprocess.Popen(
            argv, stdout=logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        proc.bench_name = name
        proc.bench_log = logfile.name
        self.running.append(proc)
        return proc

    def check(self, proc):
        if proc.poll() is not None:
            with open(proc.bench_log, errors="replace") as f:
                tail = f.read()[-2000:]
            raise BenchError(f"{proc.bench_name} exited with {proc.returncode}:\n{tail}")

    def stop(self, proc):
        if proc not in self.running:
            return
        self.running.remove(proc)
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGCONT)
                proc.terminate()
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass

    def stop_all(self):
        for proc in list(reversed(self.running)):
            try:
                self.stop(proc)
            except Exception as e:  # keep stopping the others
                log(f"stopping {proc.bench_name}: {e}")


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = tempfile.mkdtemp(prefix="braze-bench-")
        # nginx's workers run as nobody and read the static files from here.
        os.chmod(self.workdir, 0o755)
        self.procs = Procs(self.workdir)
        self.key_file = os.path.join(self.workdir, "api-key")
        with open(self.key_file, "w") as f:
            f.write(API_KEY)
        os.chmod(self.key_file, 0o600)
        self.exporter_bin = None
        self.simulator_bin = None

    # ---------------------------------------------------------------- processes

    def start_simulator(self, workload, latency):
        port = free_port()
        proc = self.procs.spawn(
            f"simulator-{workload.name}-{latency}",
            [
                self.simulator_bin,
                "--listen", f"127.0.0.1:{port}",
                *workload.simulator_args(),
                "--latency", latency,
                "--time-zone", "UTC",
                "--api-key", API_KEY,
                # Far above what any phase sends, so no phase meets a 429.
                "--rate-limit-per-hour", "1000000000",
            ],
        )
        wait_until("the simulator's port", lambda: self.procs.check(proc) or port_open(port), 20)

        def listed():
            with open(proc.bench_log, errors="replace") as f:
                return "listening on" in f.read()

        # It prints its ids, then `listening on`, once it is listening.
        wait_until("the simulator's listing", lambda: self.procs.check(proc) or listed(), 20)
        proc.url = f"http://127.0.0.1:{port}"
        return proc

    def write_config(self, name, sim, workload, concurrency, interval, timeout="60s"):
        path = os.path.join(self.workdir, f"{name}.yml")
        lines = [
            "braze:",
            f"  url: {sim.url}",
            f"  api_key_file: {self.key_file}",
            "  time_zone: UTC",
            f"  timeout: {timeout}",
            f"  max_concurrency: {concurrency}",
            "  max_requests_per_hour: 250000",
            # The exporter polls at most 10,000 series unless told otherwise: every size here
            # is polled whole.
            f"max_series: {workload.series}",
        ]
        lines += workload.config_lines(interval, sim)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start_exporter(self, name, config, exports=("sessions",)):
        port = free_port()
        proc = self.procs.spawn(
            name,
            [
                self.exporter_bin,
                "--config.file", config,
                "--web.listen-address", f"127.0.0.1:{port}",
                "--log.level", "warn",
            ],
        )
        proc.started = time.monotonic()
        proc.exports = exports
        proc.url = f"http://127.0.0.1:{port}/metrics"
        wait_until("the exporter's port", lambda: self.procs.check(proc) or port_open(port), 20, 0.005)
        return proc

    def exporter_metrics(self, proc):
        body, encoding = http_get(proc.url, gzip_ok=True)
        if encoding == "gzip":
            body = gzip.decompress(body)
        return metrics_values(
            body.decode(),
            {
                "braze_refreshes_total",
                "braze_refresh_duration_seconds",
                "braze_api_requests_total",
                "braze_api_retries_total",
                "braze_series",
                "process_resident_memory_bytes",
            },
            proc.exports,
        ), body.count(b"\nbraze_up{")

    def failures(self, proc):
        body, _ = http_get(proc.url)
        total = 0
        for line in body.decode().splitlines():
            if line.startswith("braze_api_request_failures_total{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_first_refresh(self, proc, timeout, poll=0.05):
        """Polls until braze_refreshes_total is 1; returns (wall seconds from spawn, metrics)."""

        def done():
            self.procs.check(proc)
            values, _ = self.exporter_metrics(proc)
            return values if values.get("braze_refreshes_total", 0) >= 1 else None

        values = wait_until("the first full refresh", done, timeout, poll)
        return time.monotonic() - proc.started, values

    def start_nginx(self, www):
        port = free_port()
        conf_dir = os.path.join(self.workdir, "nginx")
        os.makedirs(os.path.join(conf_dir, "tmp"), exist_ok=True)
        conf = os.path.join(conf_dir, "nginx.conf")
        tmp = os.path.join(conf_dir, "tmp")
        with open(conf, "w") as f:
            f.write(
                f"""worker_processes {os.cpu_count()};
daemon off;
master_process on;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path {tmp};
  proxy_temp_path {tmp};
  fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp};
  scgi_temp_path {tmp};
  types {{ }}
  default_type "text/plain; version=0.0.4; charset=utf-8";
  server {{
    listen 127.0.0.1:{port};
    root {www};
    gzip_static on;
    gzip_vary on;
    location = /metrics {{ }}
  }}
}}
"""
            )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        proc = self.procs.spawn("nginx", [nginx, "-c", conf, "-p", conf_dir])
        wait_until("nginx's port", lambda: self.procs.check(proc) or port_open(port), 20)
        proc.url = f"http://127.0.0.1:{port}/metrics"
        return proc

    def start_pushgateway(self):
        port = free_port()
        binary = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
        # No --persistence.file: the default keeps nothing on disk.
        proc = self.procs.spawn(
            "pushgateway", [binary, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
        )
        wait_until("Pushgateway's port", lambda: self.procs.check(proc) or port_open(port), 30)
        proc.base = f"http://127.0.0.1:{port}"
        proc.url = f"{proc.base}/metrics"
        return proc

    # ---------------------------------------------------------------- wrk

    def lua(self, gzip_ok, delay_ms=None):
        name = f"wrk-{'gzip' if gzip_ok else 'plain'}-{delay_ms or 0}.lua"
        path = os.path.join(self.workdir, name)
        parts = []
        if gzip_ok:
            parts.append('wrk.headers["Accept-Encoding"] = "gzip"')
        if delay_ms:
            parts.append(f"function delay() return {delay_ms} end")
        parts.append(
            """function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end"""
        )
        with open(path, "w") as f:
            f.write("\n".join(parts) + "\n")
        return path

    def wrk(self, url, gzip_ok, duration, threads, connections, delay_ms=None, cpu_pids=()):
        cpu0 = cpu_seconds(cpu_pids)
        out = self.wrk_start(url, gzip_ok, duration, threads, connections, delay_ms)
        r = self.wrk_finish(out, duration)
        cpu1 = cpu_seconds(cpu_pids)
        if cpu_pids:
            r["server_cpu_us_per_request"] = (cpu1 - cpu0) * 1e6 / max(1, r["requests"])
        return r

    def wrk_start(self, url, gzip_ok, duration, threads, connections, delay_ms=None):
        cmd = [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "60s",
            "-s", self.lua(gzip_ok, delay_ms), url,
        ]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wrk_finish(self, proc, duration):
        try:
            stdout, stderr = proc.communicate(timeout=duration + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise BenchError(f"wrk did not end within {duration + 120} s")
        line = next((l for l in stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
        if proc.returncode != 0 or line is None:
            raise BenchError(f"wrk failed ({proc.returncode}): {stdout}\n{stderr}")
        r = json.loads(line[len("BENCH_JSON "):])
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["bytes_per_response"] = r["bytes"] / max(1, r["requests"])
        r["errors"] = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
        return r

    def paced_cpu(self, url, pids, count, gap):
        """Server CPU per gzip scrape at Prometheus' pace rather than wrk's: `count` scrapes,
        one every `gap` s (longer than the exporter's self-metrics period, so each gets a body
        built for it, as every Prometheus scrape does), after as long a window without
        scrapes (idle: what the server spends anyway). CPU from every thread's schedstat."""

        def window(scrape):
            before = thread_cpu_ns(pids)
            ticks = cpu_seconds(pids)
            for _ in range(count):
                t0 = time.monotonic()
                if scrape:
                    http_get(url, gzip_ok=True)
                time.sleep(max(0.0, gap - (time.monotonic() - t0)))
            after = thread_cpu_ns(pids)
            return {
                "cpu_ns": sum(v - before.get(k, 0) for k, v in after.items()),
                "stat_cpu_s": cpu_seconds(pids) - ticks,
                "threads_gone": len(set(before) - set(after)),
            }

        # Settled first: the exporter gives freed heap pages back (malloc_trim) when a
        # connection closes, at most every 5 s, so the first lone scrape after a wrk load pays
        # for returning that load's memory. Two scrapes 6 s apart put that before the windows.
        http_get(url, gzip_ok=True)
        time.sleep(6)
        http_get(url, gzip_ok=True)
        idle, busy = window(False), window(True)
        return {
            "count": count, "gap_s": gap, "idle": idle, "scraping": busy,
            "cpu_us_per_scrape": busy["cpu_ns"] / 1e3 / count,
            "net_cpu_us_per_scrape": (busy["cpu_ns"] - idle["cpu_ns"]) / 1e3 / count,
        }

    # ---------------------------------------------------------------- phases

    def phase_scrape(self, workload):
        """Throughput against nginx (and Pushgateway when the workload has it), memory, and
        the machine-bound refresh."""
        a = self.args
        n = workload.series
        log(f"scrape phase: {workload.what} = {n} series")
        result = {"workload": workload.name, "what": workload.what, "series": n}
        if isinstance(workload, AppsWorkload):
            result.update(apps=workload.apps, segments=workload.segs)
        sim = self.start_simulator(workload, "0s")
        config = self.write_config(f"scrape-{workload.name}", sim, workload, a.fast_concurrency, "1h")
        exporter = self.start_exporter(f"exporter-scrape-{workload.name}", config, workload.exports)
        wall, values = self.wait_first_refresh(exporter, 600)
        result["fast_refresh"] = {
            "simulator_latency": "0s",
            "max_concurrency": a.fast_concurrency,
            "metric_seconds": values["braze_refresh_duration_seconds"],
            "wall_seconds_from_spawn": wall,
            "requests": values["braze_api_requests_total"],
            "requests_per_second": values["braze_api_requests_total"]
            / values["braze_refresh_duration_seconds"],
            "failures": self.failures(exporter),
        }
        time.sleep(1)
        result["exporter_memory_after_refresh_kib"] = proc_status(exporter.pid)
        log(f"  first refresh {values['braze_refresh_duration_seconds']:.2f} s, "
            f"RSS {result['exporter_memory_after_refresh_kib']['VmRSS'] / 1024:.1f} MiB")

        # The exact bytes of one scrape, plain and gzip, for nginx to serve as static files.
        www = os.path.join(self.workdir, f"www-{workload.name}")
        os.makedirs(www, exist_ok=True)
        plain, _ = http_get(exporter.url)
        gz, encoding = http_get(exporter.url, gzip_ok=True)
        if encoding != "gzip" or not gzip.decompress(gz).startswith(plain[:4096]):
            raise BenchError("the exporter's gzip answer does not decode to its plain answer")
        with open(os.path.join(www, "metrics"), "wb") as f:
            f.write(plain)
        with open(os.path.join(www, "metrics.gz"), "wb") as f:
            f.write(gz)
        result["body_bytes"] = {"plain": len(plain), "gzip": len(gz)}
        result["samples_in_body"] = sum(1 for l in plain.split(b"\n") if l and not l.startswith(b"#"))
        result["series_in_body"] = plain.count(b"\nbraze_up{")
        if result["series_in_body"] != n:
            raise BenchError(f"the exporter serves {result['series_in_body']} series, not {n}")
        down = [l for l in plain.split(b"\n") if l.startswith(b"braze_up{") and not l.endswith(b" 1")]
        if down:
            raise BenchError(f"{len(down)} series are down after the first refresh, e.g. {down[0]!r}")

        nginx = self.start_nginx(www)
        nginx_pids = [nginx.pid] + children(nginx.pid)
        served, encoding = http_get(nginx.url, gzip_ok=True)
        if served != gz or encoding != "gzip":
            raise BenchError("nginx does not serve the exporter's gzip bytes")

        targets = [
            ("exporter", "plain", exporter.url, False, [exporter.pid], a.duration),
            ("nginx", "plain", nginx.url, False, nginx_pids, a.duration),
            ("exporter", "gzip", exporter.url, True, [exporter.pid], a.duration),
            ("nginx", "gzip", nginx.url, True, nginx_pids, a.duration),
        ]
        pushgateway = None
        if workload.pushgateway and not a.no_pushgateway:
            pushgateway = self.start_pushgateway()
            push = series_families(plain.decode()).encode()
            t0 = time.monotonic()
            request = urllib.request.Request(
                f"{pushgateway.base}/metrics/job/bench", data=push, method="PUT",
                headers={"Content-Type": "text/plain; version=0.0.4"},
            )
            with urllib.request.urlopen(request, timeout=600) as r:
                if r.status not in (200, 202):
                    raise BenchError(f"Pushgateway refused the push: {r.status}")
            t1 = time.monotonic()
            pushed = http_get(pushgateway.url, gzip_ok=True, timeout=600)[0]
            one_scrape = time.monotonic() - t1
            pushed = gzip.decompress(pushed)
            held = pushed.count(b"\nbraze_up{")
            if held != result["series_in_body"]:
                raise BenchError(f"Pushgateway holds {held} series, expected {result['series_in_body']}")
            result["pushgateway_push_seconds"] = time.monotonic() - t0
            result["pushgateway_body_bytes_plain"] = len(pushed)
            time.sleep(1)
            result["pushgateway_memory_after_push_kib"] = proc_status(pushgateway.pid)
            # A wrk run counts only the answers completed within it: a run must be long
            # against one scrape under the same concurrency, or a slow peer shows 0 req/s.
            pg_duration = max(a.duration, min(180, int(one_scrape * a.connections / 2 * 3) + 1))
            result["pushgateway_one_scrape_seconds"] = one_scrape
            result["pushgateway_wrk_duration"] = pg_duration
            targets.append(("pushgateway", "gzip", pushgateway.url, True, [pushgateway.pid], pg_duration))
            if a.pushgateway_plain:
                targets.append(("pushgateway", "plain", pushgateway.url, False, [pushgateway.pid], pg_duration))

        # Warm up every target once, then alternate: each round runs every target in turn,
        # odd rounds in reverse order (A B B A ...), so drift over time falls on both sides.
        for who, enc, url, gz_ok, pids, duration in targets:
            self.wrk(url, gz_ok, a.warmup, a.threads, a.connections)
        runs = {f"{who}/{enc}": [] for who, enc, *_ in targets}
        for round_no in range(a.rounds):
            order = targets if round_no % 2 == 0 else list(reversed(targets))
            for who, enc, url, gz_ok, pids, duration in order:
                self.procs.check(exporter)
                r = self.wrk(url, gz_ok, duration, a.threads, a.connections, cpu_pids=pids)
                if r["requests"] < 5:
                    raise BenchError(f"{who}/{enc}: only {r['requests']} answers in {duration} s")
                if r["errors"]:
                    raise BenchError(f"{who}/{enc}: wrk saw errors {r}")
                runs[f"{who}/{enc}"].append(r)
                log(f"  round {round_no + 1}/{a.rounds} {who:11} {enc:5} "
                    f"{r['rps']:9.1f} req/s  p99 {r['p99_us'] / 1000:.2f} ms  "
                    f"{r['bytes_per_response']:.0f} B/response  "
                    f"server CPU {r['server_cpu_us_per_request']:.0f} µs/request")
        result["runs"] = runs
        result["median_rps"] = {k: median([r["rps"] for r in v]) for k, v in runs.items()}
        result["median_cpu_us_per_request"] = {
            k: median([r["server_cpu_us_per_request"] for r in v]) for k, v in runs.items()
        }
        result["exporter_memory_after_load_kib"] = proc_status(exporter.pid)
        if a.paced_scrapes:
            result["paced"] = {
                who: self.paced_cpu(url, pids, a.paced_scrapes, a.paced_gap)
                for who, enc, url, gz_ok, pids, _ in targets
                if enc == "gzip" and who in ("exporter", "nginx")
            }
            log("  paced gzip scrapes (one every {:.1f} s): CPU per scrape {}".format(
                a.paced_gap, ", ".join(
                    f"{who} {r['cpu_us_per_scrape']:.0f} µs ({r['net_cpu_us_per_scrape']:.0f} µs over idle)"
                    for who, r in result["paced"].items())))

        # A burst of plain scrapes (more connections than the exporter admits: the rest are
        # refused with 503) while gzip scrapes run as before: gzip latency and memory with it.
        burst = self.wrk_start(exporter.url, False, a.duration, 1, a.burst_connections)
        time.sleep(0.5)
        during = self.wrk(exporter.url, True, a.duration - 1, a.threads, a.connections,
                          cpu_pids=[exporter.pid])
        burst = self.wrk_finish(burst, a.duration)
        if during["errors"] or during["requests"] < 5:
            raise BenchError(f"gzip scrapes during the plain burst failed: {during}")
        result["plain_burst"] = {
            "connections": a.burst_connections, "plain": burst, "gzip_during": during,
            "plain_served_rps": (burst["requests"] - burst["status"]) / (burst["duration_us"] / 1e6),
            "exporter_memory_after_kib": proc_status(exporter.pid),
        }
        log(f"  plain burst ({a.burst_connections} connections): "
            f"{result['plain_burst']['plain_served_rps']:.1f} req/s served, "
            f"{burst['status']} refused (non-2xx); gzip meanwhile {during['rps']:.1f} req/s, "
            f"p99 {during['p99_us'] / 1000:.2f} ms; RSS after "
            f"{result['plain_burst']['exporter_memory_after_kib']['VmRSS'] / 1024:.1f} MiB")
        if pushgateway:
            result["pushgateway_memory_after_load_kib"] = proc_status(pushgateway.pid)
            self.procs.stop(pushgateway)
        for proc in (nginx, exporter, sim):
            self.procs.stop(proc)
        return result

    def phase_refresh(self, apps, segs):
        """First full refresh against a simulator answering in `latency`, vs the ideal."""
        a = self.args
        n = series_count(apps, segs)
        latency_s = parse_duration(a.latency)
        ideal = n * latency_s / a.concurrency
        log(f"refresh phase: {n} series, simulator latency {a.latency}, max_concurrency "
            f"{a.concurrency}: ideal {ideal:.2f} s, {a.refresh_runs} runs")
        workload = AppsWorkload(apps, segs)
        sim = self.start_simulator(workload, a.latency)
        config = self.write_config(f"refresh-{apps}x{segs}", sim, workload, a.concurrency, "1h")
        runs = []
        for i in range(a.refresh_runs):
            exporter = self.start_exporter(f"exporter-refresh-{apps}x{segs}-{i}", config)
            wall, values = self.wait_first_refresh(exporter, 10 * ideal + 60, poll=0.02)
            run = {
                "metric_seconds": values["braze_refresh_duration_seconds"],
                "wall_seconds_from_spawn": wall,
                "requests": values["braze_api_requests_total"],
                "retries": values.get("braze_api_retries_total", 0),
                "failures": self.failures(exporter),
                "rss_kib": proc_status(exporter.pid)["VmRSS"],
            }
            runs.append(run)
            log(f"  run {i + 1}: {run['metric_seconds']:.3f} s (metric), {wall:.3f} s (wall), "
                f"{run['requests']:.0f} requests, {run['failures']:.0f} failures")
            self.procs.stop(exporter)
        self.procs.stop(sim)
        return {
            "apps": apps, "segments": segs, "series": n, "latency": a.latency,
            "max_concurrency": a.concurrency, "ideal_seconds": ideal, "runs": runs,
            "median_metric_seconds": median([r["metric_seconds"] for r in runs]),
            "median_wall_seconds": median([r["wall_seconds_from_spawn"] for r in runs]),
        }

    def p99_windows(self, exporter, sim, label, count, must_stay_in_first_refresh):
        """Alternates windows with the simulator frozen (SIGSTOP: the round stalls, the
        exporter does no refresh work) and running (the round proceeds), each under the same
        paced gzip scrape load; returns the windows."""
        a = self.args
        windows = []
        self.paused_seconds = 0.0
        for i in range(count):
            for state in ("paused", "refreshing"):
                if state == "paused":
                    os.kill(sim.pid, signal.SIGSTOP)
                    stopped_at = time.monotonic()
                else:
                    os.kill(sim.pid, signal.SIGCONT)
                    self.paused_seconds += time.monotonic() - stopped_at
                time.sleep(0.2)
                before, _ = self.exporter_metrics(exporter)
                r = self.wrk(
                    exporter.url, True, a.p99_duration, 1, a.p99_connections,
                    delay_ms=a.p99_delay_ms, cpu_pids=[exporter.pid],
                )
                after, series_shown = self.exporter_metrics(exporter)
                r["state"] = state
                r["braze_requests_during"] = (
                    after["braze_api_requests_total"] - before["braze_api_requests_total"]
                )
                r["series_shown"] = series_shown
                if r["errors"]:
                    raise BenchError(f"p99 {label} {state}: wrk saw errors {r}")
                if must_stay_in_first_refresh and after.get("braze_refreshes_total", 0) >= 1:
                    raise BenchError("the first refresh ended during the measurement: "
                                     "use more series or fewer/shorter --p99-windows")
                windows.append(r)
                log(f"  {label} {i + 1}/{count} {state:10} p99 {r['p99_us'] / 1000:7.2f} ms  "
                    f"p50 {r['p50_us'] / 1000:.2f} ms  max {r['max_us'] / 1000:.1f} ms  "
                    f"{r['rps']:.0f} scrapes/s  {r['braze_requests_during']:.0f} Braze requests  "
                    f"{series_shown} series shown")
        os.kill(sim.pid, signal.SIGCONT)
        return windows

    def phase_p99(self, apps, segs):
        """/metrics latency while a refresh of every series runs, against the same exporter
        with its refresh stalled; also the first refresh of this many series vs its ideal."""
        a = self.args
        n = series_count(apps, segs)
        latency_s = parse_duration(a.latency)
        ideal = n * latency_s / a.concurrency
        log(f"p99 phase: {n} series, simulator latency {a.latency}, max_concurrency {a.concurrency}, "
            f"interval {a.p99_interval}")
        workload = AppsWorkload(apps, segs)
        sim = self.start_simulator(workload, a.latency)
        config = self.write_config(f"p99-{apps}x{segs}", sim, workload, a.concurrency, a.p99_interval)
        exporter = self.start_exporter(f"exporter-p99-{apps}x{segs}", config)
        # Until the first publish (a few seconds in) the snapshot holds no series at all.
        wait_until("the first partial snapshot", lambda: self.exporter_metrics(exporter)[1] > 0, 120, 0.2)
        first = self.p99_windows(exporter, sim, "first refresh", a.p99_windows, True)
        wall, values = self.wait_first_refresh(exporter, 10 * ideal + 600, poll=0.2)
        paused_s = self.paused_seconds
        first_refresh = {
            "series": n, "ideal_seconds": ideal,
            "metric_seconds": values["braze_refresh_duration_seconds"],
            "paused_seconds": paused_s,
            "metric_minus_paused_seconds": values["braze_refresh_duration_seconds"] - paused_s,
        }
        log(f"  first refresh of {n} series: {first_refresh['metric_seconds']:.1f} s, of which "
            f"{paused_s:.1f} s paused on purpose; ideal {ideal:.1f} s")
        # The next round starts at the next multiple of the interval: wait until it sends.
        wait_until(
            "the second refresh to start",
            lambda: self.exporter_metrics(exporter)[0]["braze_api_requests_total"] > n + 50,
            parse_duration(a.p99_interval) + 120, 0.5,
        )
        later = self.p99_windows(exporter, sim, "later refresh", a.p99_windows, False)
        memory = proc_status(exporter.pid)
        self.procs.stop(exporter)
        self.procs.stop(sim)

        def summary(windows):
            paused = [w for w in windows if w["state"] == "paused"]
            busy = [w for w in windows if w["state"] == "refreshing"]
            return {
                "paused_p99_ms": median([w["p99_us"] / 1000 for w in paused]),
                "refreshing_p99_ms": median([w["p99_us"] / 1000 for w in busy]),
                "paused_max_ms": max(w["max_us"] / 1000 for w in paused),
                "refreshing_max_ms": max(w["max_us"] / 1000 for w in busy),
                "refreshing_braze_requests_per_second": median(
                    [w["braze_requests_during"] / (w["duration_us"] / 1e6) for w in busy]
                ),
                "series_shown": [w["series_shown"] for w in windows],
            }

        return {
            "apps": apps, "segments": segs, "series": n, "interval": a.p99_interval,
            "load": {"threads": 1, "connections": a.p99_connections, "delay_ms": a.p99_delay_ms,
                     "duration_s": a.p99_duration, "accept_encoding": "gzip"},
            "first_refresh_windows": first, "later_refresh_windows": later,
            "first": summary(first), "later": summary(later),
            "first_refresh": first_refresh, "memory_kib": memory,
        }


def parse_duration(text):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True).stdout.strip()


def build(args, bench):
    """Sets the binaries: prebuilt (--bin-dir), a commit (--rev) or the working tree."""
    meta = {}
    if args.bin_dir:
        bin_dir = os.path.abspath(args.bin_dir)
        meta["source"] = f"prebuilt binaries in {bin_dir}"
        meta["commit"] = args.commit or "unknown (prebuilt)"
    elif args.rev:
        commit = git("rev-parse", args.rev)
        if not commit:
            raise BenchError(f"no such revision: {args.rev}")
        src = os.path.join(bench.workdir, "src")
        os.makedirs(src)
        archive = subprocess.run(["git", "-C", REPO, "archive", commit], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
        target = os.path.join(REPO, "target", "bench")
        env = dict(os.environ, CARGO_TARGET_DIR=target, BRAZE_EXPORTER_REVISION=commit[:12])
        log(f"building {commit[:12]} (release) into {target}")
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=src, env=env, check=True,
                       timeout=3600)
        bin_dir = os.path.join(target, "release")
        meta["source"] = f"git archive of {commit}"
        meta["commit"] = commit
        meta["dirty"] = False
    else:
        log("building the working tree (release)")
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO, check=True, timeout=3600)
        bin_dir = os.path.join(REPO, "target", "release")
        meta["source"] = "working tree"
        meta["commit"] = git("rev-parse", "HEAD")
        meta["dirty"] = bool(git("status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock", "build.rs"))
    bench.exporter_bin = os.path.join(bin_dir, "braze-exporter")
    bench.simulator_bin = os.path.join(bin_dir, "braze-simulator")
    for binary in (bench.exporter_bin, bench.simulator_bin):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"missing binary {binary}")
    return meta


def tool_versions():
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except Exception as e:  # a version string is informative only
            return f"unknown ({e})"

    return {
        "wrk": first_line(["wrk", "--version"]),
        "nginx": first_line([shutil.which("nginx") or "/usr/sbin/nginx", "-v"]),
        "pushgateway": first_line([shutil.which("prometheus-pushgateway") or "prometheus-pushgateway", "--version"]),
    }


def machine():
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1), "cpu": model,
            "kernel": platform.release()}


# -------------------------------------------------------------------- report


def fmt_rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def verdict(ok):
    return "**met**" if ok else "**missed**"


# Issue 20: the exporter's CPU per gzip scrape against nginx gzip_static's for the same bytes.
MESSAGING_CPU_RATIO = 1.1
MESSAGING_RSS_MIB = 32


def cpu_row(s, what, target, ok):
    """Server CPU per gzip scrape (user + system from /proc/PID/stat over each run, nginx's
    workers included), exporter against nginx gzip_static, with each round's ratio."""
    c = s["median_cpu_us_per_request"]
    ratio = c["exporter/gzip"] / c["nginx/gzip"]
    rounds = ", ".join(
        f"{e['server_cpu_us_per_request'] / n['server_cpu_us_per_request']:.2f}"
        for e, n in zip(s["runs"]["exporter/gzip"], s["runs"]["nginx/gzip"])
    )
    mark = "" if ok is None else verdict(ok)
    return (f"| server CPU per gzip scrape (/proc user+system), {what} | {c['exporter/gzip']:.0f} µs "
            f"| nginx gzip_static {c['nginx/gzip']:.0f} µs | {ratio:.2f} (rounds {rounds}) | {target} | {mark} |")


def paced_row(s, what):
    """CPU per gzip scrape at Prometheus' pace (one every `gap` s), exporter against nginx."""
    p = s.get("paced")
    if not p:
        return []
    e, n = p["exporter"], p["nginx"]
    ratio = e["net_cpu_us_per_scrape"] / max(1e-9, n["net_cpu_us_per_scrape"])
    return [f"| server CPU per gzip scrape, {e['count']} scrapes one every {e['gap_s']} s (schedstat; over idle), {what} "
            f"| {e['cpu_us_per_scrape']:,.0f} µs ({e['net_cpu_us_per_scrape']:,.0f} µs) "
            f"| nginx gzip_static {n['cpu_us_per_scrape']:,.0f} µs ({n['net_cpu_us_per_scrape']:,.0f} µs) "
            f"| {ratio:,.1f} | reported | |"]


def messaging_rows(s):
    """The messaging size's rows: gzip and plain throughput (reported), CPU per gzip scrape
    and memory (the targets), its first refresh."""
    m, c = s["median_rps"], s["median_cpu_us_per_request"]
    what = f"{s['what']} ({s['series']:,} series, {s['samples_in_body']:,} samples)"
    out = []
    ratio = m["exporter/gzip"] / m["nginx/gzip"]
    out.append(f"| /metrics req/s, gzip, {what} | {fmt_rps(m['exporter/gzip'])} | nginx gzip_static {fmt_rps(m['nginx/gzip'])} | {ratio:.2f} | reported | |")
    cpu_ratio = c["exporter/gzip"] / c["nginx/gzip"]
    out.append(cpu_row(s, "messaging", f"≤ {MESSAGING_CPU_RATIO}", cpu_ratio <= MESSAGING_CPU_RATIO))
    out += paced_row(s, "messaging")
    ratio = m["exporter/plain"] / m["nginx/plain"]
    out.append(f"| /metrics req/s, plain (decompressed on demand), messaging | {fmt_rps(m['exporter/plain'])} | nginx static {fmt_rps(m['nginx/plain'])} | {ratio:.2f} | reported | |")
    rss0 = s["exporter_memory_after_refresh_kib"]["VmRSS"] / 1024
    rss = s["exporter_memory_after_load_kib"]["VmRSS"] / 1024
    hwm = s["exporter_memory_after_load_kib"]["VmHWM"] / 1024
    out.append(f"| resident memory, messaging (after the first refresh / after the load; peak) | {rss0:.1f} / {rss:.1f} MiB; peak {hwm:.1f} MiB | | | ≤ {MESSAGING_RSS_MIB} MiB | {verdict(max(rss0, rss) <= MESSAGING_RSS_MIB)} |")
    fr = s["fast_refresh"]
    out.append(f"| first full refresh, messaging, simulator 0 ms, max_concurrency {fr['max_concurrency']} | {fr['metric_seconds']:.2f} s (metric), {fr['wall_seconds_from_spawn']:.2f} s (wall from spawn), {fr['requests']:.0f} requests, {fr['failures']:.0f} failures | | | reported | |")
    return out


def report(results):
    out = []
    scrape = {r["series"]: r for r in results.get("scrape", [])}
    main = results.get("main_series")
    s = scrape.get(main)
    out.append("| what | braze-exporter | peer / ceiling | ratio | target | |")
    out.append("|---|---|---|---|---|---|")
    if s:
        m = s["median_rps"]
        n = f"{s['series']:,} series"
        ratio = m["exporter/plain"] / m["nginx/plain"]
        out.append(f"| /metrics req/s, plain (decompressed on demand, {PLAIN_RENDERS} at a time), {n} | {fmt_rps(m['exporter/plain'])} | nginx static {fmt_rps(m['nginx/plain'])} | {ratio:.2f} | reported | |")
        ratio = m["exporter/gzip"] / m["nginx/gzip"]
        out.append(f"| /metrics req/s, gzip, {n} | {fmt_rps(m['exporter/gzip'])} | nginx gzip_static {fmt_rps(m['nginx/gzip'])} | {ratio:.2f} | ≥ 1.0 | {verdict(ratio >= 1.0)} |")
        if "pushgateway/gzip" in m:
            ratio = m["exporter/gzip"] / m["pushgateway/gzip"]
            out.append(f"| /metrics req/s, gzip, vs Pushgateway, {n} | {fmt_rps(m['exporter/gzip'])} | Pushgateway {fmt_rps(m['pushgateway/gzip'])} | {ratio:.0f}× | ≥ 20× | {verdict(ratio >= 20)} |")
        rss = s["exporter_memory_after_load_kib"]["VmRSS"] / 1024
        rss0 = s["exporter_memory_after_refresh_kib"]["VmRSS"] / 1024
        hwm = s["exporter_memory_after_load_kib"]["VmHWM"] / 1024
        peer = ""
        if "pushgateway_memory_after_load_kib" in s:
            peer = f"Pushgateway {s['pushgateway_memory_after_load_kib']['VmRSS'] / 1024:.0f} MiB"
        worst = max(rss, rss0)
        out.append(f"| resident memory, {n} (after refresh / after the load; peak) | {rss0:.1f} / {rss:.1f} MiB; peak {hwm:.1f} MiB | {peer} | | ≤ 16 MiB | {verdict(worst <= 16)} |")
        b = s.get("plain_burst")
        if b:
            g = b["gzip_during"]
            alone = median([r["p99_us"] for r in s["runs"]["exporter/gzip"]]) / 1000
            mem = b["exporter_memory_after_kib"]
            out.append(f"| plain burst ({b['connections']} connections, {n}): plain served / refused; gzip scrapes meanwhile; memory after | {fmt_rps(b['plain_served_rps'])} req/s / {b['plain']['status']} refused (503); gzip {fmt_rps(g['rps'])} req/s, p99 {g['p99_us'] / 1000:.2f} ms (alone {alone:.2f} ms); {mem['VmRSS'] / 1024:.1f} MiB, peak {mem['VmHWM'] / 1024:.1f} MiB | | | reported | |")
    if s:
        out.append(cpu_row(s, f"{s['series']:,} series", "reported", None))
        out += paced_row(s, f"{s['series']:,} series")
    msg = results.get("messaging")
    if msg:
        out += messaging_rows(msg)
    r = results.get("refresh")
    if r:
        ratio = r["median_metric_seconds"] / r["ideal_seconds"]
        wall_ratio = r["median_wall_seconds"] / r["ideal_seconds"]
        out.append(f"| first full refresh, {r['series']:,} series, {r['latency']} answers, max_concurrency {r['max_concurrency']} | {r['median_metric_seconds']:.2f} s (metric), {r['median_wall_seconds']:.2f} s (wall from spawn) | ideal {r['ideal_seconds']:.2f} s | {ratio:.3f} ({wall_ratio:.3f} wall) | ≤ 1.15 | {verdict(max(ratio, wall_ratio) <= 1.15)} |")
    p = results.get("p99")
    if p:
        for key, what in (("first", "first refresh (burst)"), ("later", "later refresh (paced)")):
            q = p[key]
            ratio = q["refreshing_p99_ms"] / q["paused_p99_ms"]
            out.append(f"| /metrics p99 during the {what}, {p['series']:,} series, gzip | {q['refreshing_p99_ms']:.2f} ms refreshing | {q['paused_p99_ms']:.2f} ms with the refresh stalled | {ratio:.2f} | ≤ 2 | {verdict(ratio <= 2)} |")
        mem = p["memory_kib"]
        out.append(f"| resident memory, {p['series']:,} series, after several refreshes with a snapshot published every few seconds (now; peak) | {mem['VmRSS'] / 1024:.1f} MiB; peak {mem['VmHWM'] / 1024:.1f} MiB | | | ≤ 30 MiB | {verdict(mem['VmHWM'] / 1024 <= 30)} |")
    out.append("")
    if scrape:
        out.append("Scaling (medians; CPU is the server's user+system time per request during the runs):")
        out.append("")
        out.append("| series | body plain / gzip | exporter plain req/s | nginx plain | ratio | exporter gzip req/s | nginx gzip | ratio | Pushgateway gzip | exporter ÷ Pushgateway | exporter CPU µs/scrape plain / gzip | exporter RSS after refresh / load | Pushgateway RSS | first refresh, simulator 0 ms, max_concurrency 64 |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        rows = [scrape[n] for n in sorted(scrape)] + ([msg] if msg else [])
        for s in rows:
            n = f"{s['series']:,}" + (" (messaging)" if s is msg else "")
            m = s["median_rps"]
            c = s["median_cpu_us_per_request"]
            pg = m.get("pushgateway/gzip")
            pg_rss = s.get("pushgateway_memory_after_load_kib", {}).get("VmRSS")
            fr = s["fast_refresh"]
            pg_rps = fmt_rps(pg) if pg else "—"
            pg_ratio = f"{m['exporter/gzip'] / pg:.0f}×" if pg else "—"
            pg_mem = f"{pg_rss / 1024:.0f} MiB" if pg_rss else "—"
            out.append(
                f"| {n} | {s['body_bytes']['plain'] / 1e6:.2f} MB / {s['body_bytes']['gzip'] / 1e3:.0f} kB "
                f"| {fmt_rps(m['exporter/plain'])} | {fmt_rps(m['nginx/plain'])} | {m['exporter/plain'] / m['nginx/plain']:.2f} "
                f"| {fmt_rps(m['exporter/gzip'])} | {fmt_rps(m['nginx/gzip'])} | {m['exporter/gzip'] / m['nginx/gzip']:.2f} "
                f"| {pg_rps} | {pg_ratio} "
                f"| {c['exporter/plain']:.0f} / {c['exporter/gzip']:.0f} "
                f"| {s['exporter_memory_after_refresh_kib']['VmRSS'] / 1024:.1f} / {s['exporter_memory_after_load_kib']['VmRSS'] / 1024:.1f} MiB "
                f"| {pg_mem} "
                f"| {fr['metric_seconds']:.2f} s ({fr['requests_per_second']:,.0f} req/s) |"
            )
    if p:
        f = p["first_refresh"]
        out.append("")
        out.append(
            f"First refresh of {f['series']:,} series at {results['args']['latency']}, max_concurrency "
            f"{results['args']['concurrency']} (from the p99 phase): {f['metric_seconds']:.1f} s, of which "
            f"{f['paused_seconds']:.1f} s with the simulator frozen on purpose, so {f['metric_minus_paused_seconds']:.1f} s "
            f"of running against an ideal of {f['ideal_seconds']:.1f} s "
            f"(ratio {f['metric_minus_paused_seconds'] / f['ideal_seconds']:.3f})."
        )
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--apps", type=int, default=99, help="apps of the main table (default 99: 10,000 series)")
    p.add_argument("--segments", type=int, default=99, help="segments of the main table")
    p.add_argument("--scaling", action="store_true",
                   help="also run the scrape and memory rows at 31x31 (1,024) and 223x223 (50,176 series)")
    p.add_argument("--sizes", help="comma-separated AxS sizes for the scrape rows (overrides --scaling)")
    p.add_argument("--refresh-size", default="31x31", help="AxS of the refresh row (default 31x31: 1,024 series)")
    p.add_argument("--messaging", type=parse_messaging, default="1000x3x2+100x8",
                   help="the messaging size, CAMPAIGNSxCHANNELSxVARIATIONS+CANVASESxSTEPS (default "
                        "1000x3x2+100x8, Canvas steps exported), or none")
    p.add_argument("--only", default="scrape,messaging,refresh,p99",
                   help="phases to run: scrape,messaging,refresh,p99")
    p.add_argument("--quick", action="store_true", help="short runs: a smoke test, not a result")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per target (default 3)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--paced-scrapes", type=int, default=20,
                   help="gzip scrapes of the paced CPU row, exporter and nginx (0: none)")
    p.add_argument("--paced-gap", type=float, default=1.1,
                   help="seconds between paced scrapes (default 1.1: every one gets a body of its own)")
    p.add_argument("--no-pushgateway", action="store_true", help="leave Pushgateway out")
    p.add_argument("--burst-connections", type=int, default=64,
                   help="connections of the plain burst run beside gzip scrapes (default 64)")
    p.add_argument("--pushgateway-plain", action="store_true", help="also measure Pushgateway without gzip")
    p.add_argument("--latency", default="100ms", help="simulator latency of the refresh and p99 rows")
    p.add_argument("--concurrency", type=int, default=8, help="max_concurrency of the refresh and p99 rows")
    p.add_argument("--fast-concurrency", type=int, default=64,
                   help="max_concurrency of the scrape rows' exporter (simulator latency 0)")
    p.add_argument("--refresh-runs", type=int, default=3)
    p.add_argument("--p99-windows", type=int, default=3, help="paused/refreshing window pairs per state")
    p.add_argument("--p99-duration", type=int, default=10, help="seconds per p99 window")
    p.add_argument("--p99-connections", type=int, default=2)
    p.add_argument("--p99-delay-ms", type=int, default=10, help="pause between a connection's scrapes")
    p.add_argument("--p99-interval", default="30s",
                   help="refresh.interval of the p99 exporter: shorter than a refresh, so that "
                        "after the first one the next always runs")
    p.add_argument("--bin-dir", help="use braze-exporter and braze-simulator from here; no build")
    p.add_argument("--commit", help="with --bin-dir: the commit the binaries were built from")
    p.add_argument("--rev", help="build this commit (git archive, release) instead of the working tree")
    p.add_argument("--json", help="write every raw figure here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, configs)")
    args = p.parse_args()
    if args.quick:
        args.duration, args.warmup, args.rounds = 3, 1, 1
        args.refresh_runs, args.p99_windows, args.p99_duration = 1, 1, 5
    phases = set(args.only.split(","))
    main_size = (args.apps, args.segments)
    if args.sizes:
        sizes = [parse_size(x) for x in args.sizes.split(",")]
    elif args.scaling:
        sizes = sorted({(31, 31), main_size, (223, 223)}, key=lambda s: series_count(*s))
    else:
        sizes = [main_size]

    bench = Bench(args)
    interrupted = []

    def on_signal(signum, _frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    results = {"args": {k: v for k, v in vars(args).items() if k != "messaging"},
               "main_series": series_count(*main_size)}
    if args.messaging:
        results["args"]["messaging"] = vars(args.messaging)
    try:
        results["meta"] = build(args, bench)
        results["meta"].update(
            date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            machine=machine(), tools=tool_versions(), command=" ".join(sys.argv),
        )
        results["meta"]["machine_before"] = machine_busy()
        log(f"machine before: {results['meta']['machine_before']}; work dir {bench.workdir}")
        if "scrape" in phases:
            results["scrape"] = [bench.phase_scrape(AppsWorkload(*size)) for size in sizes]
        if "messaging" in phases and args.messaging:
            results["messaging"] = bench.phase_scrape(args.messaging)
        if "refresh" in phases:
            results["refresh"] = bench.phase_refresh(*parse_size(args.refresh_size))
        if "p99" in phases:
            results["p99"] = bench.phase_p99(*main_size)
        results["meta"]["machine_after"] = machine_busy()
    except KeyboardInterrupt:
        log(f"interrupted ({interrupted or 'SIGINT'}); stopping everything")
        bench.procs.stop_all()
        sys.exit(130)
    except BenchError as e:
        log(f"error: {e}")
        bench.procs.stop_all()
        sys.exit(1)
    finally:
        bench.procs.stop_all()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        if args.keep:
            log(f"kept {bench.workdir}")
        else:
            shutil.rmtree(bench.workdir, ignore_errors=True)
    meta = results["meta"]
    print(f"braze-exporter benchmark — {meta['date']} — {meta['source']}"
          f"{' (dirty)' if meta.get('dirty') else ''}")
    print(f"machine: {meta['machine']}; busy before {meta['machine_before']}, after {meta['machine_after']}")
    print(f"wrk: -t{args.threads} -c{args.connections} -d{args.duration}s x {args.rounds} alternating rounds")
    print()
    print(report(results))


if __name__ == "__main__":
    main()
