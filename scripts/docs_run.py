"""Running what the docs tell a reader to run, for scripts/check_docs.py: a reader's directory
beside the repository, a shell with the exporter on its PATH, servers probed on /metrics and
stopped, and an HTTPS proxy on loopback so that nothing meant for Braze leaves the machine."""

import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass

# Where a server says it serves: the start-up log line, or what --demo prints.
SERVING = re.compile(r"(?:\burl=|\bopen )(https?://\S+)")
# A scrape that has refreshed once: a braze_up sample per series (0 or 1).
REFRESHED = re.compile(r"^braze_up\{.*\} [01]$", re.M)
# The checker's own requests go straight to loopback, whatever the environment says.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy")


@dataclass
class Outcome:
    code: object  # the exit code, or "timeout"
    output: str
    # The /metrics a server answered before it was stopped (None: it did not serve).
    scrape: object = None
    # Its landing page, /.
    landing: object = None


class InspectingProxy:
    """An HTTPS proxy on 127.0.0.1 that answers every CONNECT with a certificate of its own
    authority, as a TLS-inspecting company proxy does: a request meant for Braze reaches no one
    and fails with reason `tls`, the failure docs/running.md shows."""

    def __init__(self, workdir):
        self.cert = _inspecting_certificate(workdir)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(self.cert)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.tunnels = []  # the hosts asked for
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                request = conn.recv(4096).decode("latin-1")
                m = re.match(r"CONNECT (\S+) HTTP/1\.[01]", request)
                if not m:
                    conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                self.tunnels.append(m.group(1))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                with self.tls.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass  # the client refused the certificate: what is wanted

    def stop(self):
        self.server.close()


def _inspecting_certificate(workdir):
    """A server certificate for Braze's host names, issued by an authority of the proxy's own
    (a certificate that is its own authority would be refused for that, not as unknown)."""
    def openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=workdir)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=inspecting proxy CA", "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=*.braze.com", "-keyout", "proxy.key", "-out", "proxy.csr")
    with open(os.path.join(workdir, "proxy.ext"), "w") as f:
        f.write("subjectAltName=DNS:*.braze.com,DNS:*.braze.eu\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "proxy.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "proxy.ext", "-out", "proxy.crt")
    with open(os.path.join(workdir, "proxy.pem"), "w") as out:
        for part in ("proxy.crt", "proxy.key"):
            with open(os.path.join(workdir, part)) as f:
                out.write(f.read())
    return os.path.join(workdir, "proxy.pem")


class Reader:
    """A reader's shell: commands run from the repository's root (cargo) or from a directory of
    the reader's own beside it, whose entries link to the repository's, so that the files a
    doc has the reader write never land in the checkout. `braze-exporter` is on the PATH."""

    def __init__(self, root, workdir, binary, proxy_url):
        self.root = root
        self.home = os.path.join(workdir, "reader")
        os.makedirs(self.home)
        for entry in os.listdir(root):
            if entry not in (".git",):
                os.symlink(os.path.join(root, entry), os.path.join(self.home, entry))
        # deploy/README.md's overlay sits "next to a checkout of this repository".
        os.symlink(root, os.path.join(self.home, "braze-exporter"))
        bindir = os.path.join(workdir, "bin")
        os.makedirs(bindir)
        os.symlink(binary, os.path.join(bindir, "braze-exporter"))
        self.env = {k: v for k, v in os.environ.items()
                    if k not in PROXY_VARIABLES and not k.startswith("BRAZE_")}
        self.env["PATH"] = bindir + os.pathsep + os.environ["PATH"]
        self.env["HTTPS_PROXY"] = proxy_url
        self.printed = []  # every line every run printed

    def write(self, relative, text):
        """Writes a file of the reader's own; a directory on its way that links into the
        repository becomes a directory of links first, so nothing is written there."""
        path = self.home
        for part in relative.split("/")[:-1]:
            path = os.path.join(path, part)
            if os.path.islink(path):
                target = os.readlink(path)
                os.unlink(path)
                os.makedirs(path)
                for entry in os.listdir(target):
                    os.symlink(os.path.join(target, entry), os.path.join(path, entry))
            os.makedirs(path, exist_ok=True)
        path = os.path.join(path, os.path.basename(relative))
        if os.path.islink(path):
            os.unlink(path)
        with open(path, "w") as f:
            f.write(text)

    def run(self, command, at_root=False, timeout=120, refreshed=REFRESHED):
        """Runs `command` with bash. A command that serves is probed: /metrics must answer, and
        show `refreshed` within a minute; then SIGTERM stops it."""
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.root if at_root else self.home,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, text=True)
        lines = queue.Queue()
        reader = threading.Thread(target=_forward, args=(proc.stdout, lines), daemon=True)
        reader.start()
        printed, scrape, landing, code = [], None, None, None
        deadline = time.monotonic() + timeout
        while reader.is_alive() or not lines.empty():
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if time.monotonic() > deadline:
                    _stop(proc)
                    code = "timeout"
                continue
            printed.append(line)
            m = SERVING.search(line)
            if m and scrape is None:
                scrape = _scrape(m.group(1), refreshed) or ""
                landing = _get(re.sub(r"^(https?://[^/]+).*", r"\1/", m.group(1)))
                _stop(proc)
        proc.wait()
        self.printed.extend(printed)
        return Outcome(code or proc.returncode, "".join(printed), scrape, landing)


def _forward(stream, lines):
    for line in stream:
        lines.put(line)


def _get(url):
    """The body of `url`, or None."""
    try:
        with DIRECT.open(url, timeout=5) as r:
            return r.read().decode()
    except OSError:
        return None


def _scrape(url, refreshed):
    """The body of `url` once it matches `refreshed` (None when it never answered)."""
    body, deadline = None, time.monotonic() + 60
    while time.monotonic() < deadline:
        body = _get(url) or body
        if body and refreshed.search(body):
            return body
        time.sleep(0.5)
    return body


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def openssl_available():
    return shutil.which("openssl") is not None
