#!/usr/bin/env python3
"""What the documentation shows, held to what the code does (scripts/check-docs.sh runs this in
the test command, from the repository's root).

Every rule reads the docs themselves, not a copy of what they say today, so the next drift fails:
  - every fenced block of README.md, docs/*.md and deploy/README.md says what it is: `sh` for
    commands a reader runs, `console` for `$ command` with its output, `text` for output and
    log lines, or the language of a file (yaml, promql, jsonnet...);
  - every relative link of every tracked Markdown file reaches a file, and its #anchor a
    heading of it;
  - README.md's two commands, as written, from the repository's root: the first must serve
    /metrics with data (braze_up 1), the second must be the command .ci/run runs;
  - every command of every `sh` block runs, in order, as a reader would run it (exit 0; one that
    serves must answer on /metrics, refresh, and exit 0 on SIGTERM), unless NOT_RUN below,
    the one list of what is not run here, says why; a YAML block introduced by "`FILE`:" is
    the file FILE a reader writes first (unless the repository has FILE: then it shows it);
  - the log lines the docs show are lines the runs printed (same message, keys in the same
    order, same values but the time and the source line); a `console` block's output has the
    shape of what its command prints;
  - each table of flags has the flags, subcommands and defaults of the matching --help;
  - docs/metrics.md documents every family of scripts/metric-names.txt (generated from the
    exporter's output) and no other, with the labels a scrape of --demo shows;
  - every configuration field the binary accepts (its own "expected one of", at every block
    the docs show) is documented in docs/configuration.md or docs/workspaces.md, and every
    documented field is accepted;
  - Cargo.toml's description, which --help and the landing page print, names every `export`
    block, and the image's description label is the same text.
Braze is never reached: HTTPS goes through a proxy on loopback that presents a certificate of
its own authority (the "proxy that inspects TLS" of docs/running.md).
Ends with `check-docs: N passed, M failed`; exits non-zero when any check failed.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs_markdown as md  # noqa: E402
import docs_run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE_BINARY = os.path.join(ROOT, "target", "release", "braze-exporter")

# What the docs tell a reader to run that cannot run here, and why: the one list of it. Each
# entry is a regular expression over a command of an `sh` block; a command that matches none
# is run, and an entry that matches no command fails (it outlived its command).
NOT_RUN = [
    (r"^scripts/test\.sh$",
     "the test command itself: checked to be the command .ci/run runs"),
    (r"^REV=",
     "sets the revision for the image builds below it"),
    (r"^(docker|podman|buildah) ",
     "no container engine here: scripts/check-image.sh builds the Dockerfile with buildah and "
     "checks the image (CI)"),
    (r"^kubectl ",
     "needs a cluster: scripts/check-deploy.sh renders every kustomization, validates it and "
     "starts each exporter as its manifest mounts it"),
    (r"^curl -s localhost:9887/",
     "needs the kubectl port-forward before it"),
    (r"^braze-exporter backfill ",
     "reads Braze's history: scripts/e2e-backfill.sh runs it against the simulator"),
    (r"^promtool tsdb create-blocks-from openmetrics ",
     "needs a backfill's output: scripts/e2e-backfill.sh runs it"),
    (r"^mv \./blocks/",
     "moves blocks into a Prometheus's data directory"),
]

# The documents whose commands a reader is told to run.
DOCS = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(ROOT, "docs"))
                              if f.endswith(".md")) + ["deploy/README.md"]
# The doc of each table of flags, and the subcommand whose --help it documents.
FLAG_TABLES = {"docs/running.md": [], "docs/backfill.md": ["backfill"]}
# The languages a fenced block may have: what it is, said where it starts.
KNOWN_LANGS = {"sh", "console", "text", "yaml", "promql", "jsonnet", "json"}
# A YAML block a reader writes as a file: the prose before it ends in "`FILE`:".
FILE_INTRO = re.compile(r"`([\w./-]+\.(?:ya?ml|json|txt))`[^`]*:$")
CONFIG_DOCS = ["docs/configuration.md", "docs/workspaces.md"]


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, []

    def check(self, description, errors):
        """One check: passes when `errors` (a list of strings) is empty."""
        if errors:
            self.failed.append(description)
            print("FAIL " + description)
            for e in errors:
                print("     " + e)
        else:
            self.passed += 1
            print("ok   " + description)


def main():
    os.chdir(ROOT)
    checks = Checks()
    docs = {p: md.read(p) for p in DOCS}
    checks.check("every fenced block says what it is (%s)" % ", ".join(sorted(KNOWN_LANGS)),
                 untagged_blocks(docs))
    markdown = subprocess.run(["git", "ls-files", "*.md"], capture_output=True, text=True,
                              check=True).stdout.split()
    checks.check("every relative link and anchor of %d Markdown files resolves" % len(markdown),
                 broken_links(markdown))
    runnable, not_run, stale = plan(docs)
    checks.check("NOT_RUN: every entry names a command of the docs", stale)
    checks.check("README.md's second command is the one .ci/run runs", test_command(docs))
    checks.check("README.md names everything scripts/install-test-deps.sh installs",
                 test_deps_errors(docs["README.md"]))
    checks.check("the LTO the docs name is Cargo.toml's", lto_errors(docs))
    with tempfile.TemporaryDirectory() as work:
        run_everything(checks, docs, runnable, work)
    print("\nnot run here (%d), from NOT_RUN in scripts/check_docs.py:" % len(not_run))
    for where, command, why in not_run:
        print("  %s: %s\n      %s" % (where, command, why))
    if checks.failed:
        print("\nfailed:\n" + "".join("  %s\n" % f for f in checks.failed), end="")
    print("check-docs: %d passed, %d failed" % (checks.passed, len(checks.failed)))
    return 1 if checks.failed else 0


def run_everything(checks, docs, runnable, work):
    """The commands, in the docs' order (README.md's first, which builds the release binary),
    then what needs the binary or what the runs printed."""
    if not docs_run.openssl_available():
        checks.check("openssl, for the loopback proxy (scripts/install-test-deps.sh)", ["missing"])
        return
    proxy = docs_run.InspectingProxy(work)
    reader = docs_run.Reader(ROOT, work, RELEASE_BINARY, proxy.url)
    try:
        demo = run_commands(checks, docs, runnable, reader)
        if not os.path.exists(RELEASE_BINARY):
            checks.check("README.md's first command built %s" % RELEASE_BINARY, ["it did not"])
            return
        checks.check("the requests meant for Braze went to the loopback proxy (%d tunnels)"
                     % len(proxy.tunnels), [] if proxy.tunnels else ["none reached it"])
        checks.check("the log lines the docs show are lines the exporter printed",
                     log_line_errors(docs, reader.printed))
        checks.check("each `console` block's output has the shape its command prints",
                     console_errors(docs, reader))
        checks.check("the tables of flags are those of --help", flag_table_errors(docs))
        checks.check("docs/metrics.md documents every metric family the exporter serves, and "
                     "no other, with the labels of a --demo scrape",
                     metrics_doc_errors(docs["docs/metrics.md"], demo))
        config_docs = [md.read(p) for p in CONFIG_DOCS]
        fields, export_blocks = field_errors(config_docs, work)
        checks.check("every configuration field the binary accepts is documented, and every "
                     "documented field accepted", fields)
        texts = {p: open(p).read() for p in ("Cargo.toml", "Dockerfile")}
        checks.check("Cargo.toml's description (--help, the landing page) names every export "
                     "block, and the image's label is it",
                     description_errors(export_blocks, demo, texts))
        checks.check("negative controls: a known drift of each kind fails its check",
                     selftest(docs, config_docs, reader.printed, demo, texts, work))
    finally:
        proxy.stop()


# ---------------------------------------------------------------------------------------------
# What the docs are made of


def untagged_blocks(docs):
    return ["%s: a fenced block without a language (or an unknown one: %r)" % (b.where, b.lang)
            for doc in docs.values() for b in doc.blocks if b.lang not in KNOWN_LANGS]


def broken_links(paths):
    errors, parsed = [], {}
    for path in paths:
        doc = parsed.setdefault(path, md.read(path))
        for line, target in md.links(doc):
            if re.match(r"^[a-z][a-z+.-]*:", target):
                continue  # absolute: https:, mailto:
            file, anchor = md.resolve(path, target)
            where = "%s:%d: %s" % (path, line, target)
            if not os.path.exists(file):
                errors.append("%s: %s does not exist" % (where, file))
            elif anchor and file.endswith(".md"):
                linked = parsed.setdefault(file, md.read(file))
                if anchor not in md.anchors(linked):
                    errors.append("%s: %s has no heading #%s" % (where, file, anchor))
    return errors


def plan(docs):
    """(commands to run, commands not run with the reason, stale NOT_RUN entries). A command is
    (where, command, files the reader has written by then)."""
    runnable, not_run, used = [], [], set()
    files = {}
    for path, doc in docs.items():
        for block in doc.blocks:
            m = FILE_INTRO.search(block.before)
            # A file of the repository named so is shown, not written.
            if block.lang in ("yaml", "json") and m and not os.path.exists(m.group(1)):
                files[m.group(1)] = "\n".join(block.lines) + "\n"
            if block.lang != "sh":
                continue
            for command in md.commands(block):
                reason = next(((i, why) for i, (pattern, why) in enumerate(NOT_RUN)
                               if re.search(pattern, command)), None)
                if reason:
                    used.add(reason[0])
                    not_run.append((block.where, command, reason[1]))
                elif not any(c == command for _, c, _ in runnable):
                    runnable.append((block.where, command, dict(files)))
    stale = ["%r matches no command of the docs" % NOT_RUN[i][0]
             for i in range(len(NOT_RUN)) if i not in used]
    return runnable, not_run, stale


def test_command(docs):
    blocks = [b for b in docs["README.md"].blocks if b.lang == "sh"]
    if len(blocks) < 2 or md.commands(blocks[1]) != ["scripts/test.sh"]:
        return ["README.md's second sh block is not `scripts/test.sh`"]
    with open(".ci/run") as f:
        ci = [line for line in f if not line.lstrip().startswith("#")]
    if not any(re.search(r"(^|\s)scripts/test\.sh(\s|$)", line) for line in ci):
        return [".ci/run does not run scripts/test.sh"]
    return []


def test_deps_errors(readme):
    """The paragraph before README.md's `scripts/test.sh` names every package the script
    installs (Debian's, PyPI's)."""
    with open("scripts/install-test-deps.sh") as f:
        script = f.read()
    installed = (set(re.findall(r"apt_install ([\w.-]+)", script))
                 | set(re.findall(r'need\+=\("?([\w.-]+)', script))
                 | set(re.findall(r'"([\w.-]+)==\$', script)))
    said = next((b.before for b in readme.blocks if md.commands(b) == ["scripts/test.sh"]), "")
    named = set(md.code_spans(said))
    return ["README.md does not name %s, which scripts/install-test-deps.sh installs" % p
            for p in sorted(installed - named)] + ([] if installed else ["no package found"])


def lto_errors(docs):
    with open("Cargo.toml") as f:
        release = re.search(r'^\[profile\.release\]\n(?:[^\[].*\n)*?lto = "(\w+)"', f.read(), re.M)
    lto = release.group(1) if release else "none"
    return ["%s says %s LTO; Cargo.toml's release profile has lto = %r" % (path, m.group(1), lto)
            for path, doc in docs.items()
            for m in re.finditer(r"\b(thin|fat)\s+LTO\b", doc.text) if m.group(1) != lto]


# ---------------------------------------------------------------------------------------------
# Running the commands


def run_commands(checks, docs, runnable, reader):
    """Runs every command; returns the first --demo run's outcome (its scrape is compared with
    docs/metrics.md)."""
    demo = None
    for where, command, files in runnable:
        for name, text in files.items():
            reader.write(name, text)
        at_root = command.startswith("cargo ")
        timeout = 3600 if at_root else 120
        # --demo polls the built-in simulator: its series must come up, not only be tried.
        wanted = r"^braze_up\{.*\} 1$" if "--demo" in command else docs_run.REFRESHED.pattern
        started = time.monotonic()
        outcome = reader.run(command, at_root=at_root, timeout=timeout,
                             refreshed=re.compile(wanted, re.M))
        errors = outcome_errors(outcome, wanted)
        label = "%s: `%s`%s (%.0f s)" % (where, command, " from the repository's root" if at_root
                                         else "", time.monotonic() - started)
        checks.check(label, errors)
        if "--demo" in command and demo is None:
            demo = outcome
    return demo


def outcome_errors(outcome, wanted):
    tail = ["  | " + l for l in outcome.output.splitlines()[-15:]]
    if outcome.code == "timeout":
        return ["did not finish"] + tail
    errors = []
    if outcome.scrape is not None:
        if "braze_exporter_build_info" not in outcome.scrape:
            errors.append("it said where it serves, but /metrics did not answer")
        elif not re.search(wanted, outcome.scrape, re.M):
            errors.append("/metrics never showed %s" % wanted)
    if outcome.code != 0:
        errors.append("exit code %s" % outcome.code)
    return errors + (tail if errors else [])


# ---------------------------------------------------------------------------------------------
# Log lines, console output, flags


LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
# Values that differ from run to run: compared by their form only.
VOLATILE = {"time": None, "source": re.compile(r":\d+$")}


def logfmt(line):
    return LOGFMT.findall(line)


def comparable(pairs):
    out = []
    for key, value in pairs:
        if key in VOLATILE:
            value = VOLATILE[key].sub(":N", value) if VOLATILE[key] else "*"
        out.append((key, value))
    return out


def log_line_errors(docs, printed):
    """Each log line the docs show (a line of a text block with msg=) must be one that was
    printed: the same keys in the same order, the same values but the time and the source line.
    A line that ends with … shows its first keys only."""
    actual = [comparable(logfmt(l)) for l in printed if " msg=" in l]
    errors = []
    for doc in docs.values():
        for block in doc.blocks:
            if block.lang not in ("text", "console"):
                continue
            for line in block.lines:
                if " msg=" not in line and not line.startswith("msg="):
                    continue
                shown = comparable(logfmt(line.rstrip(" …")))
                elided = line.rstrip().endswith("…")
                if not any(a == shown or (elided and a[:len(shown)] == shown) for a in actual):
                    msg = dict(shown).get("msg")
                    like = [a for a in actual if dict(a).get("msg") == msg][:1]
                    errors.append("%s: %s\n       printed: %s" % (
                        block.where, line.strip(),
                        " ".join("%s=%s" % kv for kv in like[0]) if like else "no line with msg=%s" % msg))
    return errors


def shape(line):
    """A line with its values masked: what follows "key: " or "version ", up to a comma,
    parenthesis or space."""
    return re.sub(r"(:\s+|version )[^,()\s]+", r"\1…", line.rstrip())


def console_errors(docs, reader):
    errors = []
    for doc in docs.values():
        for block in doc.blocks:
            if block.lang != "console":
                continue
            for command, shown in md.console(block):
                outcome = reader.run(command)
                printed = outcome.output.splitlines()
                if outcome.code != 0 or [shape(l) for l in printed] != [shape(l) for l in shown]:
                    errors.append("%s: `%s` printed (exit %s):\n%s" % (
                        block.where, command, outcome.code, "\n".join("       | " + l for l in printed)))
    return errors


def help_text(subcommand):
    return subprocess.run([RELEASE_BINARY] + subcommand + ["--help"], capture_output=True,
                          text=True, check=True).stdout


def help_flags(text):
    """{flag: default or None} and the subcommands, from clap's --help."""
    flags, commands, section = {}, set(), None
    for i, line in enumerate(text.splitlines()):
        if re.match(r"^\S.*:$", line):
            section = line[:-1]
            continue
        if section == "Commands":
            m = re.match(r"^  (\S+)", line)
            if m and m.group(1) != "help":
                commands.add(m.group(1))
        m = re.match(r"^\s+(?:(-\w), )?(--[\w.-]+)", line)
        if section == "Options" and m:
            rest = "\n".join(text.splitlines()[i:i + 4])
            default = re.search(r"\[default: ([^\]]*)\]", rest)
            for flag in filter(None, m.groups()):
                flags[flag] = default.group(1) if default else None
    flags.pop("--help", None), flags.pop("-h", None)
    return flags, commands


def flag_table_errors(docs):
    errors = []
    for path, doc in docs.items():
        for line, header, rows in md.tables(doc):
            if not header or header[0] != "flag":
                continue
            if path not in FLAG_TABLES:
                errors.append("%s:%d: a table of flags of no known command (FLAG_TABLES)" % (path, line))
                continue
            sub = FLAG_TABLES[path]
            flags, commands = help_flags(help_text(sub))
            shown, subcommands = {}, set()
            for row in rows:
                spans = md.code_spans(row[0])
                for span in spans:
                    if span.startswith("-"):
                        # A default given as one code span is compared; prose is not.
                        default = re.fullmatch(r"`([^`]*)`", row[1])
                        shown[span.split()[0]] = default.group(1) if default else None
                    elif span.endswith("…"):
                        subcommands.add(span.split()[0])
            shown.pop("--help", None)
            where = "%s:%d (braze-exporter %s--help)" % (path, line, " ".join(sub) + " " if sub else "")
            for flag in sorted(set(flags) - set(shown)):
                errors.append("%s: %s is missing" % (where, flag))
            for flag in sorted(set(shown) - set(flags)):
                errors.append("%s: %s is not a flag of it" % (where, flag))
            for flag, default in sorted(shown.items()):
                if flag in flags and default is not None and flags[flag] != default:
                    errors.append("%s: %s defaults to %r, not %r" % (where, flag, flags[flag], default))
            if subcommands != commands:
                errors.append("%s: subcommands %s, --help has %s" % (where, sorted(subcommands), sorted(commands)))
    return errors


# ---------------------------------------------------------------------------------------------
# Metrics


METRIC = re.compile(r"^((?:braze|process)_[a-z0-9_<>*]+)(?:\{([^}]*)\})?$")


def families(scrape):
    """{family: set of label names} of a scrape."""
    out = {}
    for line in scrape.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ", line)
        if not m or line.startswith("#"):
            continue
        name = re.sub(r"_(bucket|sum|count)$", "", m.group(1)) if "_seconds_" in m.group(1) else m.group(1)
        labels = set(re.findall(r"(\w+)=\"", m.group(2) or "")) - {"le"}
        out.setdefault(name, set()).update(labels)
    return out


def metrics_doc_errors(doc, demo):
    with open("scripts/metric-names.txt") as f:
        served = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    shown = {}  # name as written -> documented label names (None: not said)
    for _, line in doc.prose:
        for span in md.code_spans(line):
            m = METRIC.match(span)
            if m:
                labels = m.group(2)
                shown.setdefault(m.group(1), None if labels is None else
                                 {l.strip() for l in labels.split(",")})
    for _, header, rows in md.tables(doc):
        if header[:2] == ["metric", "labels"]:
            for row in rows:
                for name in md.code_spans(row[0]):
                    shown[name] = set(md.code_spans(row[1])[0].replace(" ", "").split(",")) if md.code_spans(row[1]) else None
    kinds = {n for n in shown if n + "_bucket_timestamp_seconds" in served}
    documented = set()
    for name in shown:
        if "<kind>" in name:
            documented |= {name.replace("braze_<kind>", k) for k in kinds}
        elif re.search(r"<\w+>", name):
            # `braze_campaign_message_<field>`: any name the placeholder's place can hold.
            pattern = re.sub(r"<\w+>", "[a-z0-9_]+", re.escape(name).replace("\\<", "<").replace("\\>", ">"))
            documented |= {s for s in served if re.fullmatch(pattern, s)}
        elif name.endswith("*"):
            documented |= {s for s in served if s.startswith(name[:-1])}
        else:
            documented.add(name)
    errors = ["%s is served but not in docs/metrics.md" % n for n in sorted(served - documented)]
    errors += ["docs/metrics.md names %s, which is not served (scripts/metric-names.txt)" % n
               for n in sorted(documented - served)]
    scraped = families(demo.scrape) if demo and demo.scrape else {}
    if not scraped:
        errors.append("no --demo scrape to compare the labels with")
    for name, labels in sorted(shown.items(), key=lambda kv: kv[0]):
        if labels is None or name not in scraped:
            continue
        real = scraped[name] - {"workspace"}
        said = labels - {"...", "…"}
        if not said <= real or (said == labels and said != real):
            errors.append("%s: docs/metrics.md says labels %s, a --demo scrape has %s"
                          % (name, sorted(said), sorted(real)))
    return errors


# ---------------------------------------------------------------------------------------------
# Configuration fields and the description


def documented_fields(config_docs):
    """{path: keys} of the YAML blocks of `config_docs` (lists as `name[]`), and the field names
    of their tables."""
    keys, tabled = {}, set()

    def walk(node, path):
        if isinstance(node, dict):
            keys.setdefault(path, set()).update(node)
            for k, v in node.items():
                walk(v, "%s.%s" % (path, k) if path else k)
        elif isinstance(node, list):
            for item in node:
                walk(item, path + "[]")

    for doc in config_docs:
        for block in doc.blocks:
            if block.lang == "yaml":
                walk(yaml.safe_load("\n".join(block.lines)), "")
        for _, header, rows in md.tables(doc):
            if header and header[0] == "field":
                tabled |= {s.split(".")[-1] for row in rows for s in md.code_spans(row[0])}
    return keys, tabled


def accepted_fields(path, work):
    """What the binary accepts at `path`: the names of its error for an unknown field there."""
    node = {"zz_not_a_field": 1}
    for part in reversed([p for p in path.split(".") if p]):
        node = {part[:-2]: [node]} if part.endswith("[]") else {part: node}
    file = os.path.join(work, "probe.yml")
    with open(file, "w") as f:
        yaml.safe_dump(node, f)
    out = subprocess.run([RELEASE_BINARY, "--config.check", "--config.file=" + file],
                         capture_output=True, text=True).stderr
    m = re.search(r"unknown field `zz_not_a_field`, expected (.*)", out)
    return set(re.findall(r"`(\w+)`", m.group(1))) if m else None


def field_errors(config_docs, work):
    """Both ways, at every block the docs show. A `workspaces:` entry takes the top level's
    blocks (docs/workspaces.md says so), and an export block the fields of `refresh`
    (docs/configuration.md says so)."""
    keys, tabled = documented_fields(config_docs)
    errors, export_blocks = [], set()
    for path in sorted(keys):
        accepted = accepted_fields(path, work)
        if accepted is None:
            errors.append("%s: the binary names no fields for an unknown one there" % (path or "top level"))
            continue
        if path == "export":
            export_blocks = accepted
        same = re.sub(r"^workspaces\[\]\.?", "", path)
        documented = keys[path] | keys.get(same, set()) | tabled
        if same.startswith("export."):
            documented |= keys.get("refresh", set())
        for field in sorted(accepted - documented):
            errors.append("%s: %s is accepted but not documented in %s" % (path or "top level", field, " or ".join(CONFIG_DOCS)))
        for field in sorted(keys[path] - accepted):
            errors.append("%s: %s is documented but not accepted" % (path or "top level", field))
    return errors, export_blocks


def description_errors(export_blocks, demo, texts):
    description = re.search(r'^description = "(.*)"$', texts["Cargo.toml"], re.M).group(1)
    errors = ["Cargo.toml's description does not name the export block %s" % b
              for b in sorted(export_blocks)
              if b.replace("_", " ").lower() not in description.lower()]
    if not export_blocks:
        errors.append("no export blocks read from the binary")
    about = help_text([]).splitlines()[0]
    if about != description:
        errors.append("--help says %r" % about)
    if demo is None or description not in (demo.landing or ""):
        errors.append("the landing page of --demo does not say it")
    label = re.search(r'org\.opencontainers\.image\.description="([^"]*)"', texts["Dockerfile"])
    if not label or label.group(1) != description:
        errors.append("the Dockerfile's description label is %r" % (label and label.group(1)))
    return errors


# ---------------------------------------------------------------------------------------------
# Negative controls


def mutated(doc, old, new):
    """`doc` with `old` replaced by `new` (which must be there: a control of nothing proves
    nothing)."""
    if old not in doc.text:
        raise ValueError("%s no longer contains %r: update the negative control" % (doc.path, old))
    return md.parse(doc.path, doc.text.replace(old, new, 1))


def selftest(docs, config_docs, printed, demo, texts, work):
    """Each rule above must catch a drift of the kind it exists for: the drifts of issue 23."""
    readme, running = docs["README.md"], docs["docs/running.md"]
    metrics, configuration = docs["docs/metrics.md"], config_docs[0]
    with_doc = lambda path, doc: dict(docs, **{path: doc})  # noqa: E731
    started = next(l for l in running.text.splitlines() if 'msg="braze-exporter started"' in l)
    os.makedirs(os.path.join(work, "selftest"), exist_ok=True)
    linked = os.path.join(work, "selftest", "linked.md")
    with open(linked, "w") as f:
        f.write("# Title\n[up](../nowhere.md) [here](#no-such-heading) [there](linked.md#title)\n")
    key_row = next(l for l in metrics.text.splitlines() if "braze_api_key_last_reload_successful" in l)
    controls = {
        "an untagged block": untagged_blocks(with_doc("README.md", mutated(readme, "```sh\n", "```\n"))),
        "a broken link and anchor": broken_links([linked]),
        "thin LTO": lto_errors(with_doc("README.md", mutated(readme, "## Running it for real", "thin LTO"))),
        "a package the README does not name": test_deps_errors(mutated(readme, "`openssl`", "openssl")),
        "a start-up line the exporter no longer prints":
            log_line_errors(with_doc("docs/running.md", mutated(running, started, started.replace("workspaces=1 ", ""))), printed),
        "a flag missing from the table":
            flag_table_errors(with_doc("docs/running.md", mutated(running, "| `--demo` |", "| demo |"))),
        "a wrong default": flag_table_errors(with_doc("docs/backfill.md", mutated(docs["docs/backfill.md"], "`60s`", "`30s`"))),
        "a metric family left out": metrics_doc_errors(mutated(metrics, key_row, ""), demo),
        "a field left out": field_errors([mutated(configuration, "  max_concurrency: 4", "")] + config_docs[1:], work)[0],
        "an export block the description does not name":
            description_errors({"newsletters"}, demo, texts),
    }
    return ["not caught: " + what for what, errors in controls.items() if not errors]


if __name__ == "__main__":
    sys.exit(main())
