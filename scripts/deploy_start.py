"""Starting every shipped configuration as its manifest mounts it, for scripts/check_deploy.py
(`start`): each exporter container of a render gets a directory standing for its root file
system holding exactly the files its volumes mount (its ConfigMaps' keys; its Secrets' keys
with the example Secret's values), and nothing else; the paths of its arguments and of its
configuration (`api_key_file`, `ca_file`) are read under that directory. It must start, answer
/-/ready, and serve the series of the workspaces it runs, and only those; then stop on SIGTERM
with exit 0. Without its Secrets, it must refuse to start (exit 2): the negative control.

Braze is never reached: HTTPS_PROXY points at a closed port on loopback."""

import base64
import os
import posixpath
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import urllib.request

import yaml

import check_deploy as cd

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PATH_ARGS = ("--config.file", "--web.config.file")
PATH_FIELDS = ("api_key_file", "ca_file")
SERVING = re.compile(r'(?:\burl=|"url":")(http://[^\s"]+)')


def mounted_files(container, pod_spec, configmaps, secrets, with_secrets=True):
    """{absolute path: text} of what the container's volume mounts put in its file system."""
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    files = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name")) or {}
        if volume.get("configMap"):
            data = (configmaps.get(volume["configMap"].get("name")) or {}).get("data") or {}
            items = volume["configMap"].get("items")
        elif volume.get("secret") and with_secrets:
            secret = secrets.get(volume["secret"].get("secretName")) or {}
            data = dict(secret.get("stringData") or {})
            data.update({k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()})
            items = volume["secret"].get("items")
        else:
            continue
        paths = {i["key"]: i["path"] for i in items} if items is not None else {k: k for k in data}
        for key, relative in paths.items():
            if key not in data:
                continue
            if mount.get("subPath"):
                if mount["subPath"] == relative:
                    files[mount["mountPath"]] = data[key]
            else:
                files[posixpath.join(mount["mountPath"], relative)] = data[key]
    return files


def under(root, path):
    return os.path.join(root, path.lstrip("/"))


def lay_out(root, files, args):
    """Writes `files` under `root`, the configuration's file paths moved under it too, and
    returns the arguments with their paths moved and a loopback address of a free port."""
    for path, text in files.items():
        os.makedirs(os.path.dirname(under(root, path)), exist_ok=True)
        with open(under(root, path), "w") as f:
            f.write(text)
    config = cd.arg_value(args, "--config.file")
    if config and config in files:
        with open(under(root, config), "w") as f:
            yaml.safe_dump(moved(yaml.safe_load(files[config]), root), f)
    out = [a for a in args if a.partition("=")[0] != "--web.listen-address"]
    out = ["%s=%s" % (flag, under(root, value)) if flag in PATH_ARGS and value.startswith("/")
           else a for a, (flag, _, value) in ((a, a.partition("=")) for a in out)]
    return out + ["--web.listen-address=127.0.0.1:%d" % free_port()]


def moved(node, root):
    if isinstance(node, dict):
        return {k: under(root, v) if k in PATH_FIELDS and isinstance(v, str) and v.startswith("/")
                else moved(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [moved(v, root) for v in node]
    return node


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BRAZE_") and k.lower() not in ("https_proxy", "http_proxy", "all_proxy", "no_proxy")}
    env["HTTPS_PROXY"] = "http://127.0.0.1:1"  # nothing listens there: Braze is never reached
    return env


def start(binary, args, workspaces):
    """Errors of one start: it must serve the series of `workspaces` (None: the single form)."""
    proc = subprocess.Popen([binary] + args, env=environment(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    # A process that neither serves nor exits is stopped: its output then ends.
    watchdog = threading.Timer(30, os.killpg, (proc.pid, signal.SIGKILL))
    watchdog.start()
    url, output = None, []
    for line in proc.stdout:
        output.append(line)
        m = SERVING.search(line)
        if m:
            url = m.group(1)
            break
    watchdog.cancel()
    errors = [] if url else ["it did not start (exit %s)" % proc.wait()]
    if url:
        errors += served_errors(url, workspaces)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = "none in 20 s"
        output += proc.stdout.readlines()
        if code != 0:
            errors.append("SIGTERM: exit %s, not 0" % code)
    return errors + (["  | " + l.rstrip() for l in output[-8:]] if errors else [])


def served_errors(url, workspaces):
    base = re.sub(r"^(http://[^/]+).*", r"\1", url)
    try:
        ready = DIRECT.open(base + "/-/ready", timeout=5).status
        text = DIRECT.open(url, timeout=5).read().decode()
    except OSError as e:
        return ["it does not serve: %s" % e]
    served = set(re.findall(r'^braze_series\{workspace="([^"]*)"\}', text, re.M))
    errors = [] if ready == 200 else ["/-/ready answered %s" % ready]
    if workspaces is None and not re.search(r"^braze_series \d+$", text, re.M):
        errors.append("/metrics has no braze_series")
    if workspaces is not None and served != set(workspaces):
        errors.append("it serves the workspaces %s, not %s" % (sorted(served), sorted(workspaces)))
    return errors


def workspaces_run(container, files):
    config = yaml.safe_load(files.get(cd.arg_value(container.get("args") or [], "--config.file"), "")) or {}
    names = cd.config_workspaces(config)
    if names is None:
        return None
    return cd.arg_values(container.get("args") or [], "--workspace") or names


def start_errors(docs, secret_examples, binary):
    """Every exporter container of a render, started with its mounts; and without its Secrets."""
    configmaps = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    secrets = {(d.get("metadata") or {}).get("name"): d for d in secret_examples}
    errors, started = [], 0
    for workload, _, pod_spec in cd.pod_templates(docs):
        for field, c in cd.all_containers(pod_spec):
            if not cd.is_exporter(c):
                continue
            where = "%s %s[%s]" % (cd.name_of(workload), field, c.get("name"))
            files = mounted_files(c, pod_spec, configmaps, secrets)
            errors += ["%s: %s" % (where, e) for e in run_in(binary, files, c.get("args") or [],
                                                             workspaces_run(c, files))]
            started += 1
            bare = mounted_files(c, pod_spec, configmaps, secrets, with_secrets=False)
            if bare != files and not refused(binary, bare, c.get("args") or []):
                errors.append("%s: it started without its Secrets (negative control)" % where)
            print("  %s: %s files mounted, %s" % (where, len(files), ", ".join(sorted(files))))
    return errors if started else ["no exporter container in the render"]


def run_in(binary, files, args, workspaces):
    root = tempfile.mkdtemp(prefix="pod-")
    try:
        return start(binary, lay_out(root, files, args), workspaces)
    finally:
        shutil.rmtree(root)


def refused(binary, files, args):
    root = tempfile.mkdtemp(prefix="pod-")
    try:
        out = subprocess.run([binary] + lay_out(root, files, args), env=environment(),
                             capture_output=True, text=True, timeout=30)
        return out.returncode == 2
    finally:
        shutil.rmtree(root)


def image_errors(dockerfile_root, binary):
    """The image's own configuration, run as deploy/README.md's `docker run` mounts the key."""
    instructions = cd.dockerfile_instructions(os.path.join(dockerfile_root, "Dockerfile"))
    cmd = next(yaml.safe_load(a) for i, a in reversed(instructions) if i == "CMD")
    copies = [a.split() for i, a in instructions if i == "COPY" and not a.startswith("--from")]
    config = cd.arg_value(cmd, "--config.file")
    source = next(src for src, dst in ((c[0], c[-1]) for c in copies) if dst == config)
    with open(os.path.join(dockerfile_root, source)) as f:
        text = f.read()
    key_file = (yaml.safe_load(text).get("braze") or {}).get("api_key_file")
    files = {config: text, key_file: "stand-in-api-key"}
    errors = run_in(binary, files, cmd, None)
    if not refused(binary, {config: text}, cmd):
        errors.append("it started without its key file (negative control)")
    return errors
