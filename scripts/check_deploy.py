#!/usr/bin/env python3
"""Checks of braze-exporter's deployment files, called by scripts/check-deploy.sh.

Each subcommand checks one thing, prints what is wrong, and exits 1 when anything is:

  k8s-schema FILE VERSION   every object of a rendered kustomization against Kubernetes' own
                            schemas (kubernetes-validate, strict: unknown fields are errors);
                            ServiceMonitor/PodMonitor are left to crd-schema, any other kind
                            without a schema is an error
  crd-schema FILE           ServiceMonitor and PodMonitor objects against schemas derived from
                            prometheus-operator's CRDs (PyPI cloudcoil-models-prometheus-operator),
                            closed: unknown fields are errors there too
  hardening FILE SECRETS [--host-only]
                            restricted Pod Security on every container of every pod template, and
                            on every braze-exporter container: probes, resources, the config and
                            key wiring (SECRETS: the example Secrets the keys come from), the
                            scrape objects and network policies that cover it; no workload
                            selecting another's pods; with a workspaces: config, every workspace
                            run by exactly one exporter (--workspace); the render must run the
                            exporter unless --host-only
  restricted FILE           restricted Pod Security alone, on every pod template of FILE (the
                            backfill Job example, which is no exporter Deployment)
  configs FILE OUTDIR       writes the exporter configurations found in ConfigMaps to OUTDIR
  shards FILE OUTDIR        for every exporter that runs --workspace: writes its config to OUTDIR
                            and prints `WHERE<TAB>CONFIG<TAB>NAME[,NAME...]`; fails unless the
                            workspaces are distinct across the exporters of a config and each
                            names one of its workspaces
  includes ROOT             every kustomization under ROOT with the directories it lists as
                            resources and components, resolved: `KIND<TAB>DIR<TAB>FIELD<TAB>DIR`
  dockerfile ROOT           the container file and .dockerignore, read statically
  libs BINARY               the binary's shared libraries all exist in the distroless/cc image
  start FILE SECRETS BINARY every exporter container of FILE started with the files its volumes
                            mount (SECRETS: the example Secrets), and nothing else: it must serve
                            its workspaces' series and stop on SIGTERM; without its Secrets it
                            must refuse to start (scripts/deploy_start.py)
  start-image ROOT BINARY   the image's own configuration (Dockerfile's CMD and COPY) with the key
                            file deploy/README.md's `docker run` mounts, the same way
  selftest SECRETS VERSION FILE[=SECRETS]...
                            negative controls: known-bad variants of rendered objects must fail
                            each of the checks above (SECRETS: the example Secrets of the render)
"""

import copy
import fnmatch
import json
import os
import posixpath
import re
import shlex
import subprocess
import sys

import yaml

EXPORTER_IMAGE = "braze-exporter"
METRICS_PORT = 9887
METRICS_PORT_NAME = "http-metrics"
MONITORING_GROUP = "monitoring.coreos.com/v1"
MONITOR_KINDS = ("ServiceMonitor", "PodMonitor")
# A kustomize configMapGenerator appends "-" and a 10-character hash of the content.
HASHED_NAME = re.compile(r"-[a-z0-9]{10}$")
# Volume types that the restricted Pod Security profile allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
# What gcr.io/distroless/cc-debian12 carries: glibc, libgcc_s, libgomp, libstdc++, libssl3.
DISTROLESS_CC_LIBS = {
    "linux-vdso.so.1", "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0",
    "librt.so.1", "libutil.so.1", "libresolv.so.2", "libgcc_s.so.1", "libstdc++.so.6",
    "libgomp.so.1", "libssl.so.3", "libcrypto.so.3",
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1",
}


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def name_of(doc):
    return "%s/%s" % (doc.get("kind"), (doc.get("metadata") or {}).get("name"))


# ------------------------------------------------------------------------------------------------
# Kubernetes' own schemas


def k8s_schema_errors(docs, version):
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
    errors = []
    for doc in docs:
        if doc.get("apiVersion") == MONITORING_GROUP and doc.get("kind") in MONITOR_KINDS:
            continue  # crd-schema
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            errors.append("%s: %s (at %s)" % (name_of(doc), e.message, path or "top level"))
        except SchemaNotFoundError as e:
            errors.append("%s: %s" % (name_of(doc), e.message))
    return errors


# ------------------------------------------------------------------------------------------------
# prometheus-operator's CRDs

_CRD_SCHEMAS = {}


def _close(node):
    """Forbids unknown fields in every object schema that lists its properties, as the API server
    does for a CRD with strict field validation (kubectl apply --validate=strict)."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close(value)
    elif isinstance(node, list):
        for value in node:
            _close(value)


def crd_schema(kind):
    if kind not in _CRD_SCHEMAS:
        # Importing the models takes seconds: check-deploy.sh names a directory
        # (CHECK_DEPLOY_CACHE) where the first call keeps each derived schema for the others.
        cache = os.environ.get("CHECK_DEPLOY_CACHE")
        path = os.path.join(cache, "crd-%s.json" % kind) if cache else None
        if path and os.path.exists(path):
            with open(path) as f:
                schema = json.load(f)
        else:
            # Models generated from the CRDs of the prometheus-operator release in the version.
            from cloudcoil.models.prometheus_operator import v1
            schema = getattr(v1, kind).model_json_schema(by_alias=True, mode="validation")
            _close(schema)
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "spec"})
            if path:
                os.makedirs(cache, exist_ok=True)
                with open(path + ".tmp", "w") as f:
                    json.dump(schema, f)
                os.replace(path + ".tmp", path)
        _CRD_SCHEMAS[kind] = schema
    return _CRD_SCHEMAS[kind]


def crd_schema_errors(docs):
    import jsonschema
    errors = []
    for doc in docs:
        if doc.get("apiVersion") != MONITORING_GROUP or doc.get("kind") not in MONITOR_KINDS:
            continue
        validator = jsonschema.Draft202012Validator(crd_schema(doc["kind"]))
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            while e.context:  # anyOf [object, null]: say what is wrong with the object
                e = jsonschema.exceptions.best_match(e.context)
            path = "/".join(str(p) for p in e.path)
            errors.append("%s: %s (at %s)" % (name_of(doc), e.message, path or "top level"))
    return errors


# ------------------------------------------------------------------------------------------------
# Pod templates, containers, selectors


def image_name(image):
    """The last path segment of an image reference, without tag or digest."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def is_exporter(container):
    return image_name(container.get("image", "")) == EXPORTER_IMAGE


def pod_templates(docs):
    """(workload, pod metadata, pod spec) for every object that runs pods."""
    out = []
    for doc in docs:
        kind, spec = doc.get("kind"), doc.get("spec") or {}
        if kind == "Pod":
            out.append((doc, doc.get("metadata") or {}, spec))
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            t = spec.get("template") or {}
            out.append((doc, t.get("metadata") or {}, t.get("spec") or {}))
        elif kind == "CronJob":
            t = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
            out.append((doc, t.get("metadata") or {}, t.get("spec") or {}))
    return out


def all_containers(pod_spec):
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod_spec.get(field) or []:
            yield field, c


def selector_matches(selector, labels, where):
    """matchLabels only: the manifests use nothing else, and a checker that half-understood
    matchExpressions would pass what it cannot judge."""
    if not selector:
        raise ValueError("%s: empty selector" % where)
    if set(selector) - {"matchLabels"}:
        raise ValueError("%s: the check understands matchLabels only" % where)
    wanted = selector.get("matchLabels") or {}
    if not wanted:
        raise ValueError("%s: selector has no matchLabels" % where)
    return all(labels.get(k) == v for k, v in wanted.items())


def arg_value(args, flag):
    values = arg_values(args, flag)
    return values[0] if values else None


def arg_values(args, flag):
    """Every value of a flag, in order (--flag=V and --flag V)."""
    out = []
    for i, a in enumerate(args):
        if a.startswith(flag + "="):
            out.append(a.split("=", 1)[1])
        elif a == flag and i + 1 < len(args):
            out.append(args[i + 1])
    return out


def config_workspaces(config):
    """The workspace names of a `workspaces:` config, in order; None for the single form."""
    if not isinstance(config, dict) or "workspaces" not in config:
        return None
    return [(w or {}).get("name") for w in config.get("workspaces") or []]


def run_workspaces(c, config):
    """The workspaces (name, its block) that an exporter container runs with this config:
    those its --workspace flags name, or all; [(None, config)] for the single form. Names that
    are not in the config come with block None."""
    names = config_workspaces(config)
    if names is None:
        return [(None, config)]
    blocks = {(w or {}).get("name"): (w or {}) for w in config.get("workspaces") or []}
    wanted = arg_values(c.get("args") or [], "--workspace") or names
    return [(n, blocks.get(n)) for n in wanted]


def port_of(container, name_or_number):
    for p in container.get("ports") or []:
        if name_or_number in (p.get("name"), p.get("containerPort")):
            return p
    return None


def memory_bytes(q):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)?", str(q))
    if not m:
        raise ValueError("memory quantity %r" % q)
    factor = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
              "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}[m.group(2) or ""]
    return float(m.group(1)) * factor


# ------------------------------------------------------------------------------------------------
# Hardening


def restricted_errors(where, pod_spec):
    """The restricted Pod Security profile, for every container of a pod template."""
    errors = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            errors.append("%s: %s is set" % (where, field))
    psc = pod_spec.get("securityContext") or {}
    for v in pod_spec.get("volumes") or []:
        types = set(v) - {"name"}
        if not types <= RESTRICTED_VOLUMES:
            errors.append("%s: volume %s of type %s" % (where, v.get("name"), sorted(types)))
    for field, c in all_containers(pod_spec):
        at = "%s %s[%s]" % (where, field, c.get("name"))
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            errors.append("%s: privileged" % at)
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append("%s: allowPrivilegeEscalation is not false" % at)
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            errors.append("%s: capabilities do not drop ALL" % at)
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            errors.append("%s: capabilities add %s" % (at, caps.get("add")))
        if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            errors.append("%s: runAsNonRoot is not true" % at)
        if sc.get("runAsUser", psc.get("runAsUser")) == 0:
            errors.append("%s: runAsUser is 0" % at)
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            errors.append("%s: seccompProfile is %s, not RuntimeDefault" % (at, seccomp))
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                errors.append("%s: hostPort %s" % (at, p["hostPort"]))
    return errors


def exporter_container_errors(at, field, c, pod_spec, configmaps, secret_examples):
    """What every container that runs the exporter must have, beyond restricted Pod Security."""
    errors = []
    sc = c.get("securityContext") or {}
    # On the container itself: as a sidecar, the pod's security context is the host's.
    expected = {
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
    }
    for key, value in expected.items():
        if sc.get(key) is not value:
            errors.append("%s: securityContext.%s is %r, not %r" % (at, key, sc.get(key), value))
    if not isinstance(sc.get("runAsUser"), int) or sc.get("runAsUser") == 0:
        errors.append("%s: securityContext.runAsUser is %r, not a non-zero uid" % (at, sc.get("runAsUser")))
    if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
        errors.append("%s: securityContext.capabilities.drop is not [ALL]" % at)
    if (sc.get("capabilities") or {}).get("add"):
        errors.append("%s: securityContext.capabilities.add is set" % at)
    if (sc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        errors.append("%s: securityContext.seccompProfile.type is not RuntimeDefault" % at)
    if sc.get("privileged"):
        errors.append("%s: privileged" % at)

    if field == "initContainers" and c.get("restartPolicy") != "Always":
        errors.append("%s: an init container without restartPolicy: Always would block the pod" % at)
    if field == "ephemeralContainers":
        errors.append("%s: the exporter as an ephemeral container" % at)

    port = port_of(c, METRICS_PORT_NAME)
    if not port or port.get("containerPort") != METRICS_PORT or port.get("protocol", "TCP") != "TCP":
        errors.append("%s: no TCP port %s on %d" % (at, METRICS_PORT_NAME, METRICS_PORT))
    args = c.get("args") or []
    listen = arg_value(args, "--web.listen-address") or ":9887"
    if not listen.endswith(":%d" % METRICS_PORT):
        errors.append("%s: --web.listen-address %s is not on port %d" % (at, listen, METRICS_PORT))
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path:
            errors.append("%s: %s does not GET %s" % (at, probe, path))
        if get.get("port") not in (METRICS_PORT_NAME, METRICS_PORT):
            errors.append("%s: %s is not on the metrics port" % (at, probe))
        if get.get("scheme", "HTTP") != "HTTP":
            errors.append("%s: %s scheme %s" % (at, probe, get.get("scheme")))

    res = c.get("resources") or {}
    req, lim = res.get("requests") or {}, res.get("limits") or {}
    for what, table, key in (("request", req, "cpu"), ("request", req, "memory"), ("limit", lim, "memory")):
        if not table.get(key):
            errors.append("%s: no %s %s" % (at, key, what))
    if req.get("memory") and lim.get("memory") and memory_bytes(lim["memory"]) < memory_bytes(req["memory"]):
        errors.append("%s: memory limit below the request" % at)

    for env in c.get("env") or []:
        if env.get("name") == "BRAZE_API_KEY":
            errors.append("%s: the key comes through the environment, not a mounted file" % at)
    if c.get("envFrom"):
        errors.append("%s: envFrom could carry the key; mount it as a file" % at)

    # Config: --config.file lies on a read-only mount of a content-hashed ConfigMap.
    mounts = {m.get("name"): m for m in c.get("volumeMounts") or []}
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    config_file = arg_value(args, "--config.file")
    config = None
    if not config_file:
        errors.append("%s: no --config.file argument" % at)
    else:
        mount = next((m for m in mounts.values()
                      if m.get("mountPath") == posixpath.dirname(config_file) and not m.get("subPath")), None)
        cm_ref = ((volumes.get(mount.get("name")) or {}).get("configMap") or {}) if mount else {}
        if not cm_ref.get("name"):
            errors.append("%s: %s is not on a ConfigMap volume mounted at %s"
                          % (at, config_file, posixpath.dirname(config_file)))
        else:
            if not mount.get("readOnly"):
                errors.append("%s: the config mount is not readOnly" % at)
            cm = configmaps.get(cm_ref["name"])
            if cm is None:
                errors.append("%s: ConfigMap %s is not in the rendered output" % (at, cm_ref["name"]))
            elif posixpath.basename(config_file) not in (cm.get("data") or {}):
                errors.append("%s: ConfigMap %s has no key %s" % (at, cm_ref["name"], posixpath.basename(config_file)))
            else:
                config = yaml.safe_load(cm["data"][posixpath.basename(config_file)]) or {}
            if not HASHED_NAME.search(cm_ref["name"]):
                errors.append("%s: ConfigMap %s has no content hash in its name: a config change "
                              "would not roll the pods out" % (at, cm_ref["name"]))

    # Key: braze.api_key_file (of every workspace the container runs) lies on a read-only mount
    # of a Secret that an example shows, with a key of that example.
    if config is not None:
        if arg_values(args, "--workspace") and config_workspaces(config) is None:
            errors.append("%s: --workspace with a config that has no workspaces: list" % at)
        for name, block in run_workspaces(c, config):
            what = "the config" if name is None else "workspace %s" % name
            if block is None:
                errors.append("%s: --workspace=%s is not a workspace of the config (it has %s)"
                              % (at, name, ", ".join(map(str, config_workspaces(config)))))
                continue
            errors += key_errors(at, what, (block.get("braze") or {}).get("api_key_file"),
                                 mounts, volumes, secret_examples)
    return errors


def key_errors(at, what, key_file, mounts, volumes, secret_examples):
    errors = []
    if not key_file:
        return ["%s: %s sets no braze.api_key_file: the key must come from a mounted file" % (at, what)]
    mount = next((m for m in mounts.values()
                  if m.get("mountPath") == posixpath.dirname(key_file) and not m.get("subPath")), None)
    secret = ((volumes.get(mount.get("name")) or {}).get("secret") or {}) if mount else {}
    if not secret.get("secretName"):
        return ["%s: %s: %s is not on a Secret volume mounted at %s" % (at, what, key_file, posixpath.dirname(key_file))]
    if not mount.get("readOnly"):
        errors.append("%s: the key mount is not readOnly" % at)
    items = secret.get("items")
    key = posixpath.basename(key_file)
    if items is not None:
        item = next((i for i in items if i.get("path") == key), None)
        key = item.get("key") if item else None
        if key is None:
            errors.append("%s: %s: Secret volume has no item at %s" % (at, what, posixpath.basename(key_file)))
    examples = {(e.get("metadata") or {}).get("name"): e for e in secret_examples}
    example = examples.get(secret["secretName"])
    if example is None:
        errors.append("%s: mounts Secret %s, the example%s %s" % (
            at, secret["secretName"], "s are" if len(examples) > 1 else " is", ", ".join(sorted(map(str, examples)))))
    else:
        skeys = set(example.get("stringData") or {}) | set(example.get("data") or {})
        if key is not None and key not in skeys:
            errors.append("%s: Secret key %s is not in the example %s" % (at, key, sorted(skeys)))
    return errors


def workload_selector_errors(docs):
    """No workload's selector matches another workload's pods: a Deployment would count, and
    fight over, the other's pods."""
    errors = []
    workloads = [(w, m) for w, m, _ in pod_templates(docs) if w.get("kind") != "Pod"]
    for w, _ in workloads:
        selector = (w.get("spec") or {}).get("selector")
        if w.get("kind") in ("Job", "CronJob") or not selector:
            continue
        for other, other_meta in workloads:
            if other is w or other.get("kind") in ("Job", "CronJob"):
                continue
            try:
                if selector_matches(selector, other_meta.get("labels") or {}, name_of(w)):
                    errors.append("%s: its selector matches the pods of %s" % (name_of(w), name_of(other)))
            except ValueError as e:
                errors.append(str(e))
    return errors


def exporter_configs(docs):
    """(where, container, ConfigMap name, config key, parsed config) of every exporter container
    whose --config.file lies on a ConfigMap of the render."""
    configmaps = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    out = []
    for workload, _, pod_spec in pod_templates(docs):
        volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
        for field, c in all_containers(pod_spec):
            if not is_exporter(c):
                continue
            config_file = arg_value(c.get("args") or [], "--config.file")
            if not config_file:
                continue
            for m in c.get("volumeMounts") or []:
                if m.get("mountPath") != posixpath.dirname(config_file) or m.get("subPath"):
                    continue
                cm_name = ((volumes.get(m.get("name")) or {}).get("configMap") or {}).get("name")
                key = posixpath.basename(config_file)
                text = ((configmaps.get(cm_name) or {}).get("data") or {}).get(key)
                if text is not None:
                    out.append(("%s %s[%s]" % (name_of(workload), field, c.get("name")), c, cm_name, key,
                                yaml.safe_load(text) or {}))
    return out


def shard_errors(docs):
    """With a workspaces: config, every workspace is run by exactly one exporter workload, and
    every --workspace names one of the config's workspaces."""
    errors = []
    runs = {}  # (ConfigMap, key) -> {workspace: [where]}
    names_of = {}
    for where, c, cm, key, config in exporter_configs(docs):
        names = config_workspaces(config)
        if names is None:
            continue
        names_of[(cm, key)] = names
        seen = runs.setdefault((cm, key), {})
        given = arg_values(c.get("args") or [], "--workspace")
        if len(given) != len(set(given)):
            errors.append("%s: a --workspace repeated: %s" % (where, ", ".join(given)))
        for name, block in run_workspaces(c, config):
            if block is None:
                errors.append("%s: --workspace=%s is not a workspace of %s (it has %s)"
                              % (where, name, cm, ", ".join(map(str, names))))
                continue
            if where not in seen.setdefault(name, []):
                seen[name].append(where)
    for (cm, key), seen in sorted(runs.items()):
        for name in names_of[(cm, key)]:
            by = seen.get(name) or []
            if not by:
                errors.append("ConfigMap %s: workspace %s is run by no exporter: nothing polls it" % (cm, name))
            elif len(by) > 1:
                errors.append("ConfigMap %s: workspace %s is run by %d exporters (%s): twice the Braze "
                              "calls and every series twice" % (cm, name, len(by), ", ".join(by)))
    return errors


def hardening_errors(docs, secret_examples, exporter_required=True):
    errors = []
    configmaps = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
    exporter_pods = []  # (where, pod labels, exporter container, standalone?)
    for workload, pod_meta, pod_spec in pod_templates(docs):
        where = name_of(workload)
        errors += restricted_errors(where, pod_spec)
        containers = list(all_containers(pod_spec))
        exporters = [(f, c) for f, c in containers if is_exporter(c)]
        if len(exporters) > 1:
            errors.append("%s: %d exporter containers in one pod" % (where, len(exporters)))
        for field, c in exporters:
            errors += exporter_container_errors("%s %s[%s]" % (where, field, c.get("name")),
                                                field, c, pod_spec, configmaps, secret_examples)
        if not exporters:
            continue
        standalone = all(is_exporter(c) for _, c in containers)
        exporter_pods.append((where, pod_meta.get("labels") or {}, exporters[0][1], standalone))
        if standalone:
            # One replica: each one would poll Braze on its own and duplicate every series.
            if workload.get("kind") != "Deployment":
                errors.append("%s: the standalone exporter should be a Deployment" % where)
            elif (workload.get("spec") or {}).get("replicas") != 1:
                errors.append("%s: replicas is %r, not 1" % (where, (workload.get("spec") or {}).get("replicas")))
            if pod_spec.get("automountServiceAccountToken") is not False:
                errors.append("%s: automountServiceAccountToken is not false" % where)
    if exporter_required and not exporter_pods:
        errors.append("no container runs the image %s" % EXPORTER_IMAGE)
    errors += scrape_errors(docs, exporter_pods)
    errors += network_errors(docs, exporter_pods)
    errors += workload_selector_errors(docs)
    errors += shard_errors(docs)
    return errors


def scrape_errors(docs, exporter_pods):
    """Every exporter pod is scraped by exactly one ServiceMonitor or PodMonitor, on its metrics
    port and path, without relabeling anything into an `app` label."""
    errors = []
    services = [d for d in docs if d.get("kind") == "Service"]
    scrapes = {where: [] for where, _, _, _ in exporter_pods}
    for mon in docs:
        if mon.get("apiVersion") != MONITORING_GROUP or mon.get("kind") not in MONITOR_KINDS:
            continue
        mname, spec = name_of(mon), mon.get("spec") or {}
        endpoints = spec.get("endpoints" if mon["kind"] == "ServiceMonitor" else "podMetricsEndpoints") or []
        for label_list in ("targetLabels", "podTargetLabels"):
            if "app" in (spec.get(label_list) or []):
                errors.append("%s: %s copies a label into `app`" % (mname, label_list))
        for ep in endpoints:
            for rl in (ep.get("relabelings") or []) + (ep.get("metricRelabelings") or []):
                if rl.get("targetLabel") == "app":
                    errors.append("%s: a relabeling writes the `app` label" % mname)
        try:
            for where, pod_labels, c, _ in exporter_pods:
                metrics_path = arg_value(c.get("args") or [], "--web.telemetry-path") or "/metrics"
                if mon["kind"] == "PodMonitor":
                    if not selector_matches(spec.get("selector"), pod_labels, mname):
                        continue
                    for ep in endpoints:
                        if port_of(c, ep.get("port")) is None:
                            continue
                        scrapes[where].append(mname)
                        if ep.get("path", "/metrics") != metrics_path:
                            errors.append("%s: scrapes %s, the exporter serves %s" % (mname, ep.get("path"), metrics_path))
                else:
                    for svc in services:
                        if not selector_matches(spec.get("selector"), (svc.get("metadata") or {}).get("labels") or {}, mname):
                            continue
                        svc_selector = (svc.get("spec") or {}).get("selector") or {}
                        if not svc_selector or not all(pod_labels.get(k) == v for k, v in svc_selector.items()):
                            continue
                        for ep in endpoints:
                            sport = next((p for p in (svc.get("spec") or {}).get("ports") or []
                                          if p.get("name") == ep.get("port")), None)
                            if sport is None or port_of(c, sport.get("targetPort", sport.get("port"))) is None:
                                continue
                            scrapes[where].append(mname)
                            if ep.get("path", "/metrics") != metrics_path:
                                errors.append("%s: scrapes %s, the exporter serves %s" % (mname, ep.get("path"), metrics_path))
        except ValueError as e:
            errors.append(str(e))
    for where, by in scrapes.items():
        if not by:
            errors.append("%s: no ServiceMonitor or PodMonitor scrapes the exporter" % where)
        elif len(by) > 1:
            errors.append("%s: scraped %d times (%s): every series would come twice" % (where, len(by), ", ".join(by)))
    return errors


def network_errors(docs, exporter_pods):
    """Policies that select exporter pods let in only the metrics port and out only DNS and
    HTTPS; the standalone exporter must have one."""
    errors = []
    policies = [d for d in docs if d.get("kind") == "NetworkPolicy"]
    want_egress = {(53, "UDP"), (53, "TCP"), (443, "TCP")}
    for where, pod_labels, _, standalone in exporter_pods:
        selecting = []
        for pol in policies:
            spec = pol.get("spec") or {}
            try:
                if selector_matches(spec.get("podSelector"), pod_labels, name_of(pol)):
                    selecting.append(pol)
            except ValueError as e:
                errors.append(str(e))
        if standalone and not selecting:
            errors.append("%s: no NetworkPolicy selects the exporter" % where)
        for pol in selecting:
            spec, pname = pol["spec"], name_of(pol)
            if set(spec.get("policyTypes") or []) != {"Ingress", "Egress"}:
                errors.append("%s: policyTypes %s, not Ingress and Egress" % (pname, spec.get("policyTypes")))
            for rule in spec.get("ingress") or []:
                ports = rule.get("ports") or []
                if not ports:
                    errors.append("%s: an ingress rule opens every port" % pname)
                for p in ports:
                    if p.get("port") not in (METRICS_PORT, METRICS_PORT_NAME) or p.get("protocol", "TCP") != "TCP":
                        errors.append("%s: ingress on %s/%s" % (pname, p.get("port"), p.get("protocol", "TCP")))
            if not spec.get("ingress"):
                errors.append("%s: no ingress rule: Prometheus could not scrape" % pname)
            seen = set()
            for rule in spec.get("egress") or []:
                ports = rule.get("ports") or []
                if not ports:
                    errors.append("%s: an egress rule opens every port" % pname)
                for p in ports:
                    seen.add((p.get("port"), p.get("protocol", "TCP")))
            if seen != want_egress:
                errors.append("%s: egress %s, not DNS (53 UDP/TCP) and HTTPS (443 TCP)" % (pname, sorted(seen)))
    return errors


# ------------------------------------------------------------------------------------------------
# Configurations in ConfigMaps


def extract_configs(docs, outdir):
    """The data keys of ConfigMaps that exporter containers mount, or that carry the exporter's
    name label, each as a file. Identical contents are written once."""
    referenced = set()
    for _, _, pod_spec in pod_templates(docs):
        if any(is_exporter(c) for _, c in all_containers(pod_spec)):
            for v in pod_spec.get("volumes") or []:
                if v.get("configMap"):
                    referenced.add(v["configMap"].get("name"))
    written = {}
    for d in docs:
        if d.get("kind") != "ConfigMap":
            continue
        meta = d.get("metadata") or {}
        if meta.get("name") not in referenced and (meta.get("labels") or {}).get("app.kubernetes.io/name") != EXPORTER_IMAGE:
            continue
        for key, text in sorted((d.get("data") or {}).items()):
            if text in written.values():
                continue
            path = os.path.join(outdir, "%s__%s" % (meta["name"], key))
            with open(path, "w") as f:
                f.write(text)
            written[path] = text
    return sorted(written)


# ------------------------------------------------------------------------------------------------
# Container file


def dockerfile_instructions(path):
    """(instruction, arguments) with continuations joined and comments dropped."""
    out, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if current and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


def dockerignore_excludes(patterns, path):
    """Whether the Docker build context leaves `path` out: the last matching pattern wins, and a
    pattern that matches a directory matches everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for pat in patterns:
        negate = pat.startswith("!")
        p = pat[1:] if negate else pat
        p = p.strip().strip("/")
        p = posixpath.normpath(p) if p else p
        if any(fnmatch.fnmatchcase(pre, p) for pre in prefixes):
            excluded = not negate
    return excluded


def dockerfile_errors(root):
    errors = []
    path = os.path.join(root, "Dockerfile")
    if not os.path.exists(path):
        return ["no Dockerfile at the root"]
    ins = dockerfile_instructions(path)
    ignore_path = os.path.join(root, ".dockerignore")
    if not os.path.exists(ignore_path):
        errors.append("no .dockerignore")
        patterns = []
    else:
        with open(ignore_path) as f:
            patterns = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    stages = []
    for word, rest in ins:
        if word == "FROM":
            stages.append({"from": rest, "ins": []})
        elif stages:
            stages[-1]["ins"].append((word, rest))
        elif word != "ARG":
            errors.append("%s before the first FROM" % word)
    if len(stages) < 2:
        return errors + ["not a multi-stage build (%d stage)" % len(stages)]
    builds = [r for s in stages[:-1] for w, r in s["ins"] if w == "RUN" and "cargo build" in r]
    if not any("--release" in r and "--locked" in r for r in builds):
        errors.append("no `cargo build --release --locked` in a build stage")
    final = stages[-1]
    base = final["from"].split()[0]
    if not (base.startswith("gcr.io/distroless/") or base == "scratch"):
        errors.append("the final image is %s, not distroless or scratch" % base)
    fins = final["ins"]
    for word, rest in fins:
        if word == "RUN":
            errors.append("RUN in the final stage (no shell there): %s" % rest)
    if any(w == "HEALTHCHECK" for s in stages for w, _ in s["ins"]):
        errors.append("HEALTHCHECK: the final image has no shell or client to run it")
    users = [r for w, r in fins if w == "USER"]
    if not users:
        errors.append("no USER in the final stage")
    elif not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", users[-1]):
        errors.append("USER %s is not a numeric non-root uid[:gid]" % users[-1])
    entry = [r for w, r in fins if w == "ENTRYPOINT"]
    cmd = [r for w, r in fins if w == "CMD"]
    argv = []
    for what, values in (("ENTRYPOINT", entry), ("CMD", cmd)):
        if not values:
            continue
        try:
            v = json.loads(values[-1])
            assert isinstance(v, list) and all(isinstance(x, str) for x in v)
            argv += v
        except (ValueError, AssertionError):
            errors.append("%s is not in exec (JSON array) form" % what)
    if not entry:
        errors.append("no ENTRYPOINT")
    exposed = " ".join(r for w, r in fins if w == "EXPOSE").split()
    if str(METRICS_PORT) not in [e.split("/")[0] for e in exposed]:
        errors.append("does not EXPOSE %d" % METRICS_PORT)
    # Every COPY from the context exists and is in the context; the config the image runs with
    # is the example it copies.
    copied = {}
    for s in stages:
        for w, r in s["ins"]:
            if w not in ("COPY", "ADD"):
                continue
            words = shlex.split(r)
            if any(x.startswith("--from") for x in words):
                if s is final:
                    copied[words[-1]] = "(from another stage)"
                continue
            words = [x for x in words if not x.startswith("--")]
            for src in words[:-1]:
                full = os.path.join(root, src)
                if not os.path.exists(full):
                    errors.append("COPY source %s does not exist" % src)
                    continue
                files = [src] if os.path.isfile(full) else [
                    os.path.relpath(os.path.join(dp, fn), root)
                    for dp, _, fns in os.walk(full) for fn in fns]
                left_out = [f for f in files if dockerignore_excludes(patterns, f)]
                if left_out:
                    errors.append("COPY %s: .dockerignore leaves out %s" % (src, ", ".join(left_out[:3])))
                if s is final:
                    copied[words[-1]] = src
    for big in ("target", ".git"):
        if os.path.exists(os.path.join(root, big)) and not dockerignore_excludes(patterns, big + "/x"):
            errors.append(".dockerignore lets %s/ into the build context" % big)
    config_file = arg_value(argv, "--config.file")
    if not config_file:
        errors.append("the image's command sets no --config.file")
    elif config_file not in copied:
        errors.append("--config.file %s is not a file the final stage copies" % config_file)
    elif copied[config_file] != "deploy/braze-exporter.example.yml":
        errors.append("%s is copied from %s, not the example config" % (config_file, copied[config_file]))
    if argv and argv[0] not in copied:
        errors.append("ENTRYPOINT %s is not a file the final stage copies" % argv[0])
    return errors


# ------------------------------------------------------------------------------------------------
# Shared libraries


def libs_errors(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if out.returncode != 0:
        if "not a dynamic executable" in out.stdout + out.stderr:
            return []
        return ["ldd %s: %s" % (binary, (out.stdout + out.stderr).strip())]
    errors = []
    for line in out.stdout.splitlines():
        name = os.path.basename(line.strip().split()[0])
        if "not found" in line:
            errors.append("%s: not found" % name)
        elif name not in DISTROLESS_CC_LIBS:
            errors.append("%s is not in gcr.io/distroless/cc-debian12" % name)
    return errors


# ------------------------------------------------------------------------------------------------
# Negative controls


def _exporter_container(docs):
    for _, _, pod_spec in pod_templates(docs):
        for _, c in all_containers(pod_spec):
            if is_exporter(c):
                return c
    raise SystemExit("selftest: no exporter container in the input")


def _first(docs, kind):
    return next(d for d in docs if d.get("kind") == kind)


def _shard_containers(docs):
    """The exporter containers that run --workspace, in render order."""
    return [c for _, c, _, _, _ in exporter_configs(docs) if arg_values(c.get("args") or [], "--workspace")]


def _set_workspace(c, names):
    c["args"] = [a for a in c["args"] if not a.startswith("--workspace")] + ["--workspace=%s" % n for n in names]


def _drop_label(docs, label):
    for w, meta, _ in pod_templates(docs):
        (w["spec"]["selector"].get("matchLabels") or {}).pop(label, None)
        (meta.get("labels") or {}).pop(label, None)


def _add_workspace(docs):
    """A third workspace in the shards' config, which no shard runs."""
    _, _, cm, key, config = next(x for x in exporter_configs(docs) if config_workspaces(x[4]))
    extra = copy.deepcopy(config["workspaces"][0])
    extra["name"] = "not-run"
    config["workspaces"].append(extra)
    next(d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == cm)["data"][key] = yaml.safe_dump(config)


def selftest(files, version):
    """Each check must fail on a known-bad variant of good input; returns the failures to fail."""
    failures = []
    if not files:
        return ["no rendered input to mutate"]

    def expect(name, errs):
        if errs:
            print("  ok: %s is caught: %s" % (name, errs[0]))
        else:
            failures.append(name)
            print("  MISSED: %s" % name)

    for f, secret_example in files:
        good = load_docs(f)
        base = os.path.basename(f)
        if hardening_errors(good, secret_example) or k8s_schema_errors(good, version) or crd_schema_errors(good):
            failures.append("%s is not good to begin with" % base)
            continue
        cases = []

        def case(name, mutate, check):
            docs = copy.deepcopy(good)
            mutate(docs)
            cases.append(("%s: %s" % (base, name), check(docs)))

        hard = lambda d: hardening_errors(d, secret_example)
        case("readOnlyRootFilesystem false", lambda d: _exporter_container(d)["securityContext"].update(readOnlyRootFilesystem=False), hard)
        case("allowPrivilegeEscalation dropped", lambda d: _exporter_container(d)["securityContext"].pop("allowPrivilegeEscalation"), hard)
        case("capabilities kept", lambda d: _exporter_container(d)["securityContext"].pop("capabilities"), hard)
        case("seccomp Unconfined", lambda d: _exporter_container(d)["securityContext"].update(seccompProfile={"type": "Unconfined"}), hard)
        case("runAsNonRoot false", lambda d: _exporter_container(d)["securityContext"].update(runAsNonRoot=False), hard)
        case("liveness on /metrics", lambda d: _exporter_container(d)["livenessProbe"]["httpGet"].update(path="/metrics"), hard)
        case("no readiness probe", lambda d: _exporter_container(d).pop("readinessProbe"), hard)
        case("no memory limit", lambda d: _exporter_container(d)["resources"].pop("limits"), hard)
        case("config without hash", lambda d: [v["configMap"].update(name="braze-exporter-config")
                                              for _, _, ps in pod_templates(d) for v in ps.get("volumes", []) if "configMap" in v], hard)
        case("key in the environment", lambda d: _exporter_container(d).setdefault("env", []).append({"name": "BRAZE_API_KEY", "value": "x"}), hard)
        case("monitor selects nothing", lambda d: [m["spec"]["selector"]["matchLabels"].update(nothing="here")
                                                  for m in d if m.get("kind") in MONITOR_KINDS], hard)
        case("monitor duplicated", lambda d: d.append(copy.deepcopy(next(m for m in d if m.get("kind") in MONITOR_KINDS))), hard)
        case("unknown Deployment field", lambda d: _first(d, "Deployment")["spec"].update(replica=2), lambda d: k8s_schema_errors(d, version))
        case("unknown container field", lambda d: _exporter_container(d).update(readinesProbe={}), lambda d: k8s_schema_errors(d, version))
        case("unknown monitor endpoint field", lambda d: [(m["spec"].get("endpoints") or m["spec"].get("podMetricsEndpoints"))[0].update(intervall="1m")
                                                         for m in d if m.get("kind") in MONITOR_KINDS], crd_schema_errors)
        case("bad monitor interval", lambda d: [(m["spec"].get("endpoints") or m["spec"].get("podMetricsEndpoints"))[0].update(interval="a minute")
                                               for m in d if m.get("kind") in MONITOR_KINDS], crd_schema_errors)
        if any(d.get("kind") == "NetworkPolicy" for d in good):
            case("policy opens every ingress port", lambda d: [p["spec"]["ingress"].append({}) for p in d if p.get("kind") == "NetworkPolicy"], hard)
        placement = next(("standalone" if all(is_exporter(c) for _, c in all_containers(ps)) else field)
                         for _, _, ps in pod_templates(good) for field, c in all_containers(ps) if is_exporter(c))
        if placement == "standalone":
            case("two replicas", lambda d: _first(d, "Deployment")["spec"].update(replicas=2), hard)
        elif placement == "initContainers":
            case("native sidecar without restartPolicy", lambda d: _exporter_container(d).pop("restartPolicy"), hard)
        else:
            def to_init(d):
                for _, _, ps in pod_templates(d):
                    for c in list(ps.get("containers") or []):
                        if is_exporter(c):
                            ps["containers"].remove(c)
                            ps.setdefault("initContainers", []).append(c)
            case("classic sidecar moved to initContainers as is", to_init, hard)
        shards = _shard_containers(good)
        if len(shards) >= 2:
            first = arg_values(shards[0]["args"], "--workspace")
            case("two shards run the same workspace", lambda d: _set_workspace(_shard_containers(d)[1], first), shard_errors)
            case("a shard names no workspace of the config", lambda d: _set_workspace(_shard_containers(d)[0], ["not-a-workspace"]), shard_errors)
            case("a shard without --workspace runs them all", lambda d: _set_workspace(_shard_containers(d)[0], []), shard_errors)
            case("a workspace run by no shard", _add_workspace, shard_errors)
            case("the shards' selectors match each other's pods", lambda d: _drop_label(d, "braze-exporter/workspace"), workload_selector_errors)
        else:
            case("--workspace with a config without workspaces:", lambda d: _set_workspace(_exporter_container(d), ["eu"]), hard)
        for name, errs in cases:
            expect(name, errs)
    return failures


# ------------------------------------------------------------------------------------------------


def includes(root):
    """KIND DIR FIELD TARGET for every directory a kustomization lists as a resource or a
    component, resolved against the kustomization's own directory (files are left out)."""
    for dirpath, _, filenames in sorted(os.walk(root)):
        if "kustomization.yaml" not in filenames:
            continue
        doc = load_docs(os.path.join(dirpath, "kustomization.yaml"))[0]
        for field in ("resources", "components"):
            for entry in doc.get(field) or []:
                target = os.path.normpath(os.path.join(dirpath, entry))
                if os.path.isdir(target):
                    print("%s\t%s\t%s\t%s" % (doc.get("kind"), os.path.normpath(dirpath), field, target))
    return 0


def report(errors):
    for e in errors:
        print("  " + e)
    return 1 if errors else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "k8s-schema":
        return report(k8s_schema_errors(load_docs(args[0]), args[1]))
    if cmd == "crd-schema":
        docs = load_docs(args[0])
        monitors = [d for d in docs if d.get("kind") in MONITOR_KINDS]
        print("  %d ServiceMonitor/PodMonitor" % len(monitors))
        return report(crd_schema_errors(docs))
    if cmd == "hardening":
        # --host-only: an example host workload, checked for restricted Pod Security alone.
        required = "--host-only" not in args
        args = [a for a in args if a != "--host-only"]
        return report(hardening_errors(load_docs(args[0]), load_docs(args[1]), required))
    if cmd == "restricted":
        docs = load_docs(args[0])
        templates = pod_templates(docs)
        errors = [e for w, _, spec in templates for e in restricted_errors(name_of(w), spec)]
        return report(errors + ([] if templates else ["no pod template in %s" % args[0]]))
    if cmd == "configs":
        for p in extract_configs(load_docs(args[0]), args[1]):
            print(p)
        return 0
    if cmd == "dockerfile":
        return report(dockerfile_errors(args[0]))
    if cmd == "libs":
        return report(libs_errors(args[0]))
    if cmd == "shards":
        docs, outdir = load_docs(args[0]), args[1]
        for where, c, cm, key, config in exporter_configs(docs):
            names = arg_values(c.get("args") or [], "--workspace")
            if not names:
                continue
            path = os.path.join(outdir, "%s__%s" % (cm, key))
            with open(path, "w") as f:
                f.write(((next(d for d in docs if d.get("kind") == "ConfigMap" and d["metadata"]["name"] == cm)
                          .get("data") or {})[key]))
            print("%s\t%s\t%s" % (where, path, ",".join(names)))
        errors = shard_errors(docs)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1 if errors else 0
    if cmd in ("start", "start-image"):
        import deploy_start
        if cmd == "start":
            return report(deploy_start.start_errors(load_docs(args[0]), load_docs(args[1]), args[2]))
        return report(deploy_start.image_errors(args[0], args[1]))
    if cmd == "includes":
        return includes(args[0])
    if cmd == "selftest":
        secret, version, specs = args[0], args[1], args[2:]
        files = [(f, load_docs(sec or secret)) for f, _, sec in (x.partition("=") for x in specs)]
        failed = selftest(files, version)
        return report(["not caught: " + f for f in failed])
    print("unknown subcommand %s" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
