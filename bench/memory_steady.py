#!/usr/bin/env python3
"""Resident memory of braze-exporter at 10,000 series in steady state, under glibc malloc settings.

An investigation helper for BENCHMARKS.md, not part of run.sh. It starts braze-simulator (99 apps
x 99 segments, answering at once) and, in turn for each variant, an exporter with
`refresh.interval: 5s` (so that after the first refresh a paced round always runs and a snapshot
is published every few seconds), samples VmRSS each second for DURATION seconds, and prints the
RSS after the first refresh, the median and last sample, and VmHWM.

    python3 bench/memory_steady.py BIN_DIR [DURATION]     # BIN_DIR holds both binaries
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import free_port, proc_status  # noqa: E402  (bench/ is not a package)

VARIANTS = {
    "default": {},
    "MALLOC_ARENA_MAX=1": {"MALLOC_ARENA_MAX": "1"},
    "MALLOC_MMAP_THRESHOLD_=256K": {"MALLOC_MMAP_THRESHOLD_": "262144"},
    "both": {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_THRESHOLD_": "262144"},
}


def status(pid):
    """VmRSS and VmHWM of `pid` in MiB."""
    return {key: kib / 1024 for key, kib in proc_status(pid).items()}


def main():
    bin_dir, duration = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40
    work = tempfile.mkdtemp(prefix="braze-mem-")
    key = os.path.join(work, "key")
    with open(key, "w") as f:
        f.write("k")
    os.chmod(key, 0o600)
    sim_port = free_port()
    sim = subprocess.Popen(
        [f"{bin_dir}/braze-simulator", "--listen", f"127.0.0.1:{sim_port}", "--apps", "99",
         "--segments", "99", "--api-key", "k", "--rate-limit-per-hour", "1000000000"],
        stdout=subprocess.DEVNULL,
    )
    config = os.path.join(work, "c.yml")
    lines = [
        f"braze: {{url: 'http://127.0.0.1:{sim_port}', api_key_file: {key}, time_zone: UTC, "
        "timeout: 60s, max_concurrency: 64, max_requests_per_hour: 250000}",
        "refresh: {interval: 5s, unit: hour, length: 3, delay: 0s}",
        "apps:",
    ]
    lines += [f"  - {{name: app-{i:04d}, id: app-{i:04d}}}" for i in range(1, 100)]
    lines += ["segments:"] + [f"  - {{name: seg-{i:04d}, id: seg-{i:04d}}}" for i in range(1, 100)]
    with open(config, "w") as f:
        f.write("\n".join(lines) + "\n")
    exporter = None
    try:
        time.sleep(0.5)
        for name, env in VARIANTS.items():
            exporter = subprocess.Popen(
                [f"{bin_dir}/braze-exporter", "--config.file", config, "--web.listen-address",
                 f"127.0.0.1:{free_port()}", "--log.level", "error"],
                env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            samples, first = [], None
            for second in range(duration):
                time.sleep(1)
                samples.append(status(exporter.pid)["VmRSS"])
                if second == 2:
                    first = samples[-1]
            final = status(exporter.pid)
            exporter.terminate()
            exporter.wait(10)
            print(json.dumps({
                "variant": name, "after_first_refresh_mib": round(first, 1),
                "median_mib": round(sorted(samples)[len(samples) // 2], 1),
                "last_mib": round(final["VmRSS"], 1), "peak_mib": round(final["VmHWM"], 1),
            }), flush=True)
    finally:
        for proc in (exporter, sim):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(10)


if __name__ == "__main__":
    main()
