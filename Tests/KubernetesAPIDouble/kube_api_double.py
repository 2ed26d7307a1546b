#!/usr/bin/env python3
"""A small, faithful kube-apiserver double for tests (Python 3 standard library only).

Serves HTTPS (HTTP/1.1) with the certificate and key given on the command line and checks
`Authorization: Bearer …` against the CURRENT content of the token file (re-read per request, so a test
rotates the token by rewriting the file). Implements what helm-cert-server and kubectl need:

  discovery   GET /version, /api, /apis, /api/v1 (plain JSON: kubectl falls back from aggregated discovery)
  secrets     GET/PUT/PATCH/DELETE /api/v1/namespaces/NS/secrets/NAME
              GET (list, ?watch=true|1) and POST /api/v1/namespaces/NS/secrets
              fieldSelector metadata.name=X, resourceVersion (a global counter), timeoutSeconds,
              allowWatchBookmarks; watch replays events after the given resourceVersion, or synthetic ADDED
              events for what exists when it is absent or "0"; answers a compacted one with ERROR 410 Expired.
  reviews     POST /apis/authentication.k8s.io/v1/tokenreviews (201, status.authenticated/user/error/audiences;
              spec.audiences, else the API server's own, must meet the token's audiences, as kube-apiserver checks)
              POST /apis/authorization.k8s.io/v1/subjectaccessreviews (201, status.allowed/reason), answered from
              the review-token registry and the grants below; 403 with the RBAC message when reviews are denied
              to the service account. Their request bodies are kept in the request log ("body").

Test control, JSON, no authentication, under /__double/:
  POST   secrets/NS/NAME        {"data": {key: base64}, "type": "Opaque"}   create or update
  DELETE secrets/NS/NAME
  POST   deny                   {"namespace": NS, "name": NAME}   403 Forbidden for that secret from now on
  POST   fault/status           {"code": 503, "count": K} or {"code": 503, "seconds": S}; "emptyBody": true
                                answers without a Status body
  POST   fault/hang             {"seconds": S} or {"count": K}: accept, read, never answer (close after S s)
  POST   cut-watch              end every open watch mid-event (half an event line, then the TCP connection dies)
  POST   expire                 in-stream ERROR 410 Expired to open watches; older resourceVersions now too old
  POST   bookmark               a BOOKMARK with the current resourceVersion to watches that allow bookmarks
  GET    watches                {"open": N}
  GET    requests               {"requests": [{"verb", "path", "query", "code", "body"?}…]}   (DELETE clears)
  POST   review-tokens          {"token", "username", "uid", "groups": […], "audiences": […]}   a token TokenReview
                                authenticates, for the audiences it was minted for (default: the API server's
                                own, https://kubernetes.default.svc.cluster.local)
  POST   grants                 {"user" | "group", "verb", "apiGroup", "resource", "name"?, "namespace"?}
                                what SubjectAccessReview allows ("*" matches any verb/apiGroup/resource; no
                                name = any name; no namespace = every namespace)
  POST   deny-reviews           {"deny": true|false}   403 for the service account's TokenReviews and SARs

Prints "LISTENING <port>" on stdout once it accepts connections (--port 0 picks a free port).
"""

import argparse
import base64
import copy
import json
import os
import queue
import select
import signal
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


# The API server's own audiences (kube-apiserver --api-audiences): what a pod's default token is minted for, and
# what a TokenReview without spec.audiences checks against.
API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local"]


def go_quoted(strings):
    """A []string as Go's %q prints it: ["a" "b"]."""
    return "[" + " ".join(json.dumps(text) for text in strings) + "]"


def status_object(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           409: "Conflict", 410: "Gone", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
           504: "Timeout"}

# API group -> (resource, kind) of the review APIs the double serves
REVIEW_RESOURCES = {"authentication.k8s.io": ("tokenreviews", "TokenReview"),
                    "authorization.k8s.io": ("subjectaccessreviews", "SubjectAccessReview")}

CUT = object()     # queue sentinel: cut the stream mid-event
CLOSE = object()   # queue sentinel: end the stream cleanly


class Watcher:
    def __init__(self, namespace, name, bookmarks):
        self.namespace = namespace
        self.name = name
        self.bookmarks = bookmarks
        self.queue = queue.Queue()

    def matches(self, namespace, name):
        return self.namespace == namespace and (self.name is None or self.name == name)


class Store:
    """Secrets, the event history, watchers and injected faults, behind one lock."""

    def __init__(self, service_account):
        self.lock = threading.Lock()
        self.resource_version = 100
        self.objects = {}           # (namespace, name) -> secret dict
        self.history = []           # (rv, type, namespace, name, object)
        self.compacted = 0          # watches from an rv below this get 410
        self.watchers = []
        self.denied = set()
        self.status_fault = None    # {"code", "count" | "until", "message"}
        self.hang_fault = None      # {"count" | "until", "seconds"}
        self.requests = []
        self.service_account = service_account
        self.review_tokens = {}     # token -> {"username", "uid", "groups"}
        self.grants = []            # [{"user"|"group", "verb", "apiGroup", "resource", "name"?, "namespace"?}]
        self.reviews_denied = False

    def _next_rv(self):
        self.resource_version += 1
        return str(self.resource_version)

    def _publish(self, event_type, obj):
        ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        rv = int(obj["metadata"]["resourceVersion"])
        snapshot = copy.deepcopy(obj)
        self.history.append((rv, event_type, ns, name, snapshot))
        for watcher in self.watchers:
            if watcher.matches(ns, name):
                watcher.queue.put({"type": event_type, "object": snapshot})

    def put(self, namespace, name, secret, must_exist=None, expected_rv=None):
        """Create or replace. Returns (code, object or Status)."""
        with self.lock:
            key = (namespace, name)
            current = self.objects.get(key)
            if must_exist is True and current is None:
                return 404, status_object(404, "NotFound", f'secrets "{name}" not found',
                                          {"name": name, "kind": "secrets"})
            if must_exist is False and current is not None:
                return 409, status_object(409, "AlreadyExists", f'secrets "{name}" already exists',
                                          {"name": name, "kind": "secrets"})
            if expected_rv and current is not None and expected_rv != current["metadata"]["resourceVersion"]:
                return 409, status_object(409, "Conflict", f'Operation cannot be fulfilled on secrets "{name}": '
                                          'the object has been modified; please apply your changes to the latest '
                                          'version and try again', {"name": name, "kind": "secrets"})
            data = dict(secret.get("data") or {})
            for k, v in (secret.get("stringData") or {}).items():
                data[k] = base64.b64encode(v.encode()).decode()
            metadata = {k: v for k, v in (secret.get("metadata") or {}).items()
                        if k in ("labels", "annotations")}
            metadata.update({"name": name, "namespace": namespace, "resourceVersion": self._next_rv()})
            if current is None:
                metadata["uid"] = str(uuid.uuid4())
                metadata["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            else:
                metadata["uid"] = current["metadata"]["uid"]
                metadata["creationTimestamp"] = current["metadata"]["creationTimestamp"]
            obj = {"kind": "Secret", "apiVersion": "v1", "metadata": metadata,
                   "type": secret.get("type") or (current or {}).get("type") or "Opaque"}
            if data:
                obj["data"] = data
            self.objects[key] = obj
            self._publish("ADDED" if current is None else "MODIFIED", obj)
            return (201 if current is None else 200), copy.deepcopy(obj)

    def delete(self, namespace, name):
        with self.lock:
            current = self.objects.pop((namespace, name), None)
            if current is None:
                return 404, status_object(404, "NotFound", f'secrets "{name}" not found',
                                          {"name": name, "kind": "secrets"})
            current["metadata"]["resourceVersion"] = self._next_rv()
            self._publish("DELETED", current)
            return 200, copy.deepcopy(current)

    def get(self, namespace, name):
        with self.lock:
            obj = self.objects.get((namespace, name))
            return copy.deepcopy(obj) if obj else None

    def list(self, namespace, name):
        with self.lock:
            items = [copy.deepcopy(o) for (ns, n), o in sorted(self.objects.items())
                     if ns == namespace and (name is None or n == name)]
            return {"kind": "SecretList", "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(self.resource_version)}, "items": items}

    def open_watch(self, namespace, name, rv, bookmarks):
        """Registers a watcher and queues what it must see first. Returns it, or a 410 Status if rv is too old."""
        with self.lock:
            watcher = Watcher(namespace, name, bookmarks)
            if rv in (None, "", "0"):
                for (ns, n), obj in sorted(self.objects.items()):
                    if watcher.matches(ns, n):
                        watcher.queue.put({"type": "ADDED", "object": copy.deepcopy(obj)})
            else:
                try:
                    start = int(rv)
                except ValueError:
                    return None, status_object(400, "BadRequest", f'invalid resource version "{rv}"')
                if start < self.compacted:
                    return None, status_object(410, "Expired", f"too old resource version: {start} ({self.compacted})")
                for (erv, etype, ns, n, obj) in self.history:
                    if erv > start and watcher.matches(ns, n):
                        watcher.queue.put({"type": etype, "object": obj})
            self.watchers.append(watcher)
            return watcher, None

    def close_watch(self, watcher):
        with self.lock:
            if watcher in self.watchers:
                self.watchers.remove(watcher)

    def expire(self):
        with self.lock:
            self.compacted = self.resource_version  # every earlier RV is gone; a fresh list's RV still works
            error = {"type": "ERROR", "object": status_object(
                410, "Expired", f"The resourceVersion for the provided watch is too old.")}
            for watcher in self.watchers:
                watcher.queue.put(error)
                watcher.queue.put(CLOSE)

    def broadcast(self, item, only_bookmarks=False):
        with self.lock:
            for watcher in self.watchers:
                if not only_bookmarks or watcher.bookmarks:
                    watcher.queue.put(item() if callable(item) else item)
            return len(self.watchers)

    def authorize(self, spec):
        """(allowed, reason) for a SubjectAccessReview spec, from the grants."""
        attributes = spec.get("resourceAttributes") or {}
        user, groups = spec.get("user") or "", spec.get("groups") or []

        def matches(grant):
            if grant.get("user") is not None and grant["user"] != user:
                return False
            if grant.get("group") is not None and grant["group"] not in groups:
                return False
            for field, attribute in (("verb", "verb"), ("apiGroup", "group")):
                if grant.get(field) not in ("*", attributes.get(attribute) or ""):
                    return False
            # RBAC names a subresource as "resource/subresource": a grant of "bundles" does not cover
            # "bundles/certificates", and "*" covers resources but not their subresources ("*/*" does).
            resource = attributes.get("resource") or ""
            if attributes.get("subresource"):
                resource += "/" + attributes["subresource"]
            if grant.get("resource") not in ("*/*", resource) and not (grant.get("resource") == "*" and "/" not in resource):
                return False
            if grant.get("name") and grant["name"] != attributes.get("name"):
                return False
            if grant.get("namespace") and grant["namespace"] != attributes.get("namespace"):
                return False
            return True

        with self.lock:
            for index, grant in enumerate(self.grants):
                if matches(grant):
                    subject = f'User "{user}"' if grant.get("user") is not None else f'Group "{grant["group"]}"'
                    if grant.get("namespace"):
                        binding = f'RoleBinding "double-grant-{index}/{grant["namespace"]}" of Role "double-grant-{index}"'
                    else:
                        binding = f'ClusterRoleBinding "double-grant-{index}" of ClusterRole "double-grant-{index}"'
                    return True, f"RBAC: allowed by {binding} to {subject}"
            return False, None

    def take_fault(self, kind):
        """The active fault of `kind` ("status" or "hang") for this request, consuming one count."""
        with self.lock:
            fault = self.status_fault if kind == "status" else self.hang_fault
            if fault is None:
                return None
            if "until" in fault:
                if time.monotonic() < fault["until"]:
                    return fault
            elif fault.get("count", 0) > 0:
                fault["count"] -= 1
                return fault
            if kind == "status":
                self.status_fault = None
            else:
                self.hang_fault = None
            return None


def _protobuf_fields(buf):
    """(field number, value) pairs of one protobuf message; length-delimited values as bytes."""
    i = 0

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            byte = buf[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            length = varint()
            yield number, buf[i:i + length]
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"protobuf wire type {wire} not supported")


def _protobuf_map(entries):
    result = {}
    for entry in entries:
        fields = dict(_protobuf_fields(entry))
        result[fields.get(1, b"").decode()] = fields.get(2, b"")
    return result


def decode_protobuf_secret(raw):
    """A Secret (or DeleteOptions, whose fields are ignored) sent as application/vnd.kubernetes.protobuf, as
    kubectl does for built-in types: the "k8s\\0" magic, then runtime.Unknown{typeMeta, raw}."""
    if not raw.startswith(b"k8s\x00"):
        raise ValueError("protobuf body without the k8s magic")
    unknown = list(_protobuf_fields(raw[4:]))
    type_meta = dict(_protobuf_fields(next((v for n, v in unknown if n == 1), b"")))
    if type_meta.get(2, b"") != b"Secret":
        return {}
    secret = {"metadata": {}}
    data, string_data = [], []
    for number, value in _protobuf_fields(next((v for n, v in unknown if n == 2), b"")):
        if number == 1:
            labels, annotations = [], []
            for field, item in _protobuf_fields(value):
                names = {1: "name", 3: "namespace", 5: "uid", 6: "resourceVersion"}
                if field in names and item:
                    secret["metadata"][names[field]] = item.decode()
                elif field == 11:
                    labels.append(item)
                elif field == 12:
                    annotations.append(item)
            if labels:
                secret["metadata"]["labels"] = {k: v.decode() for k, v in _protobuf_map(labels).items()}
            if annotations:
                secret["metadata"]["annotations"] = {k: v.decode() for k, v in _protobuf_map(annotations).items()}
        elif number == 2:
            data.append(value)
        elif number == 3 and value:
            secret["type"] = value.decode()
        elif number == 4:
            string_data.append(value)
    secret["data"] = {k: base64.b64encode(v).decode() for k, v in _protobuf_map(data).items()}
    secret["stringData"] = {k: v.decode() for k, v in _protobuf_map(string_data).items()}
    return secret


def field_selector_name(query):
    """The name a fieldSelector pins (metadata.name=X or ==X), None for no selector; raises ValueError."""
    selector = query.get("fieldSelector", [""])[0]
    name = None
    for term in filter(None, selector.split(",")):
        key, sep, value = term.partition("==") if "==" in term else term.partition("=")
        if not sep or key.strip() not in ("metadata.name", "metadata.namespace"):
            raise ValueError(f'"{key}" is not a known field selector: only "metadata.name", "metadata.namespace"')
        if key.strip() == "metadata.name":
            name = value.strip()
    return name


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-api-double"

    def log_message(self, format, *args):  # quiet: tests read the request log instead
        pass

    # ---- plumbing ----

    def _raw_body(self):
        if getattr(self, "_raw", None) is None:
            length = int(self.headers.get("Content-Length") or 0)
            self._raw = self.rfile.read(length) if length else b""
        return self._raw

    def _body(self):
        raw = self._raw_body()
        if not raw:
            return {}
        if (self.headers.get("Content-Type") or "").startswith("application/vnd.kubernetes.protobuf"):
            return decode_protobuf_secret(raw)
        return json.loads(raw)

    def _send_json(self, code, body, log=True):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if log and self._log_entry is not None:
            self._log_entry["code"] = code

    def _status(self, code, message, reason=None, details=None):
        self._send_json(code, status_object(code, reason or REASONS.get(code, "Unknown"), message, details))

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # ---- dispatch ----

    def do_GET(self): self._dispatch("GET")
    def do_POST(self): self._dispatch("POST")
    def do_PUT(self): self._dispatch("PUT")
    def do_PATCH(self): self._dispatch("PATCH")
    def do_DELETE(self): self._dispatch("DELETE")

    def _dispatch(self, method):
        store = self.server.store
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        self._log_entry = None
        self._raw = None
        try:
            if path.startswith("/__double/"):
                return self._control(method, path[len("/__double/"):].strip("/"), query)
            segments = [s for s in path.split("/") if s]
            verb = self._verb(method, segments, query)
            self._log_entry = {"verb": verb, "path": path, "query": parts.query, "code": None}
            raw = self._raw_body()  # read before any answer, so a keep-alive connection stays in step
            if segments[:1] == ["apis"] and method == "POST":
                self._log_entry["body"] = raw.decode(errors="replace")
            with store.lock:
                store.requests.append(self._log_entry)
            hang = store.take_fault("hang")
            if hang is not None:
                self._body()
                time.sleep(max(0.0, hang["until"] - time.monotonic()) if "until" in hang else hang.get("seconds", 30))
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            token = self._token()
            auth = self.headers.get("Authorization", "")
            if not token or auth != f"Bearer {token}":
                return self._status(401, "Unauthorized")
            fault = store.take_fault("status")
            if fault is not None:
                if fault.get("emptyBody"):  # as a proxy or load balancer in front of the API might answer
                    self.send_response(fault["code"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self._log_entry["code"] = fault["code"]
                    return
                return self._status(fault["code"], fault.get("message") or f"injected fault {fault['code']}")
            self._api(method, segments, query, verb)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def _token(self):
        try:
            with open(self.server.token_file) as f:
                return f.read().strip()
        except OSError:
            return ""

    @staticmethod
    def _verb(method, segments, query):
        if method == "GET":
            if len(segments) == 5 and segments[:3] == ["api", "v1", "namespaces"]:
                return "watch" if query.get("watch", [""])[0] in ("true", "1") else "list"
            return "get"
        return {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]

    # ---- the API ----

    def _api(self, method, segments, query, verb):
        store = self.server.store
        if method == "GET" and segments == ["version"]:
            return self._send_json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-double",
                                         "platform": "linux/amd64"})
        if method == "GET" and segments == ["api"]:
            return self._send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.server.server_address[1]}"}]})
        if method == "GET" and segments == ["apis"]:
            return self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
                 "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"}}
                for group in REVIEW_RESOURCES]})
        if method == "GET" and len(segments) == 3 and segments[0] == "apis" and segments[1] in REVIEW_RESOURCES \
                and segments[2] == "v1":
            plural, kind = REVIEW_RESOURCES[segments[1]]
            return self._send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                         "groupVersion": f"{segments[1]}/v1", "resources": [
                {"name": plural, "singularName": plural[:-1], "namespaced": False, "kind": kind,
                 "verbs": ["create"]}]})
        if len(segments) == 4 and segments[0] == "apis" and segments[1] in REVIEW_RESOURCES and segments[2] == "v1" \
                and segments[3] == REVIEW_RESOURCES[segments[1]][0]:
            if method != "POST":
                return self._status(405, "the server does not allow this method on the requested resource")
            return self._review(segments[1], segments[3])
        if method == "GET" and segments == ["api", "v1"]:
            verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            return self._send_json(200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
                 "verbs": ["get", "list", "watch"], "shortNames": ["ns"]},
                {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
                 "verbs": verbs, "storageVersionHash": "S6u1pOWzb84="}]})
        if method == "GET" and len(segments) == 4 and segments[:3] == ["api", "v1", "namespaces"]:
            # every namespace exists here (kubectl asks after a 404 to tell "no such namespace" apart)
            return self._send_json(200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {
                "name": segments[3], "resourceVersion": "1"}, "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}})
        if len(segments) in (5, 6) and segments[:3] == ["api", "v1", "namespaces"] and segments[4] == "secrets":
            namespace = segments[3]
            name = segments[5] if len(segments) == 6 else None
            return self._secrets(method, namespace, name, query, verb)
        return self._status(404, "the server could not find the requested resource")

    def _review(self, group, resource):
        store = self.server.store
        raw = self._raw_body()
        if store.reviews_denied:
            return self._status(403, f'{resource}.{group} is forbidden: User "{store.service_account}" cannot create '
                                f'resource "{resource}" in API group "{group}" at the cluster scope',
                                details={"group": group, "kind": resource})
        plural, kind = REVIEW_RESOURCES[group]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as error:
            return self._status(400, f"the object provided is unrecognized: {error}")
        if not isinstance(body, dict) or body.get("kind") != kind or body.get("apiVersion") != f"{group}/v1":
            return self._status(400, f'the object provided is unrecognized (must be of type {kind} in {group}/v1)')
        spec = body.get("spec") or {}
        answer = {"kind": kind, "apiVersion": f"{group}/v1", "metadata": {"creationTimestamp": None}, "spec": spec}
        if kind == "TokenReview":
            token = spec.get("token") or ""
            if not token:
                return self._status(400, "token is required for TokenReview in authentication")
            with store.lock:
                user = copy.deepcopy(store.review_tokens.get(token))
            # As kube-apiserver: the audiences asked for, else the API server's own; a token is authenticated
            # only for an audience it was minted for, and status.audiences is the intersection.
            target = spec.get("audiences") or API_AUDIENCES
            if user is None:
                answer["status"] = {"user": {}, "error": "[invalid bearer token, service account token has been "
                                                         "invalidated]"}
            else:
                minted = user.pop("audiences")
                common = [audience for audience in target if audience in minted]
                if not common:
                    answer["status"] = {"user": {}, "error": f"[invalid bearer token, token audiences {go_quoted(minted)} "
                                                             f"is invalid for the target audiences {go_quoted(target)}]"}
                else:
                    answer["status"] = {"authenticated": True,
                                        "user": {k: v for k, v in user.items() if v is not None},
                                        "audiences": common}
        else:
            if not spec.get("user") and not spec.get("groups"):
                return self._status(422, f'{kind}.{group} "" is invalid: spec.user: Invalid value: "": at least '
                                    f'one of user or group must be specified', reason="Invalid")
            if "resourceAttributes" not in spec and "nonResourceAttributes" not in spec:
                return self._status(422, f'{kind}.{group} "" is invalid: spec.resourceAttributes: Invalid value: '
                                    f'"null": exactly one of nonResourceAttributes or resourceAttributes must be '
                                    f'specified', reason="Invalid")
            allowed, reason = store.authorize(spec)
            answer["status"] = {"allowed": allowed}
            if reason:
                answer["status"]["reason"] = reason
        return self._send_json(201, answer)

    def _forbidden(self, verb, namespace, name):
        user = self.server.store.service_account
        subject = f'secrets "{name}"' if name else "secrets"
        self._status(403, f'{subject} is forbidden: User "{user}" cannot {verb} resource "secrets" in API group "" '
                     f'in the namespace "{namespace}"', details={"name": name or "", "kind": "secrets"})

    def _secrets(self, method, namespace, name, query, verb):
        store = self.server.store
        if name is None and method == "GET":
            try:
                selected = field_selector_name(query)
            except ValueError as error:
                return self._status(400, str(error))
            if (namespace, selected) in store.denied:
                return self._forbidden(verb, namespace, None)
            if verb == "watch":
                return self._watch(namespace, selected, query)
            return self._send_json(200, store.list(namespace, selected))
        if name is None and method == "POST":
            body = self._body()
            name = (body.get("metadata") or {}).get("name")
            if not name:
                return self._status(422, "Secret \"\" is invalid: metadata.name: Required value: name is required",
                                     reason="Invalid")
            if (namespace, name) in store.denied:
                return self._forbidden(verb, namespace, name)
            if query.get("dryRun"):
                return self._send_json(201, body)
            code, obj = store.put(namespace, name, body, must_exist=False)
            return self._send_json(code, obj)
        if name is None:
            return self._status(405, f"the server does not allow this method on the requested resource")
        if (namespace, name) in store.denied:
            return self._forbidden(verb, namespace, name)
        not_found = lambda: self._status(404, f'secrets "{name}" not found', details={"name": name, "kind": "secrets"})
        if method == "GET":
            obj = store.get(namespace, name)
            return self._send_json(200, obj) if obj else not_found()
        if method == "PUT":
            body = self._body()
            expected = (body.get("metadata") or {}).get("resourceVersion")
            code, obj = store.put(namespace, name, body, must_exist=True, expected_rv=expected)
            return self._send_json(code, obj)
        if method == "PATCH":
            patch = self._body()
            current = store.get(namespace, name)
            if current is None:
                return not_found()
            for field in ("data", "stringData"):
                if field in patch:
                    merged = dict(current.get(field) or {})
                    for k, v in (patch[field] or {}).items():
                        if v is None:
                            merged.pop(k, None)
                        else:
                            merged[k] = v
                    current[field] = merged
            code, obj = store.put(namespace, name, current, must_exist=True)
            return self._send_json(code, obj)
        if method == "DELETE":
            self._body()
            code, obj = store.delete(namespace, name)
            return self._send_json(code, obj)
        return self._status(405, "the server does not allow this method on the requested resource")

    def _watch(self, namespace, name, query):
        store = self.server.store
        rv = query.get("resourceVersion", [None])[0]
        bookmarks = query.get("allowWatchBookmarks", [""])[0] in ("true", "1")
        try:
            timeout = float(query.get("timeoutSeconds", ["1800"])[0])
        except ValueError:
            return self._status(400, "invalid timeoutSeconds")
        watcher, error = store.open_watch(namespace, name, rv, bookmarks)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self._log_entry is not None:
            self._log_entry["code"] = 200
        if error is not None:  # as the real server: 200, then one ERROR event, then the end
            self._chunk(json.dumps({"type": "ERROR", "object": error}).encode() + b"\n")
            self._chunk(b"")
            return
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = watcher.queue.get(timeout=min(remaining, 0.2))
                except queue.Empty:
                    if self._client_gone():
                        self.close_connection = True
                        return
                    continue
                if item is CLOSE:
                    break
                if item is CUT:
                    half = b'{"type":"MODIFIED","object":{"kind":"Secret","apiVersion":"v1","metadata":{"na'
                    self._chunk(half)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._chunk(json.dumps(item, separators=(",", ":")).encode() + b"\n")
            self._chunk(b"")
        finally:
            store.close_watch(watcher)

    def _client_gone(self):
        """Whether the watch client closed its connection (as the real server notices through its context)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            self.connection.setblocking(False)
            try:
                return self.connection.recv(1) == b""
            finally:
                self.connection.setblocking(True)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except (OSError, ValueError):
            return True

    # ---- test control ----

    def _control(self, method, path, query):
        store = self.server.store
        parts = path.split("/")
        if parts[0] == "secrets" and len(parts) == 3:
            if method == "POST":
                body = self._body()
                code, obj = store.put(parts[1], parts[2], {"data": body.get("data") or {}, "type": body.get("type")})
                return self._send_json(200, obj, log=False)
            if method == "DELETE":
                code, obj = store.delete(parts[1], parts[2])
                return self._send_json(code, obj, log=False)
        if path == "deny" and method == "POST":
            body = self._body()
            with store.lock:
                store.denied.add((body["namespace"], body.get("name")))
            return self._send_json(200, {"denied": len(store.denied)}, log=False)
        if path in ("fault/status", "fault/hang") and method == "POST":
            body = self._body()
            fault = dict(body)
            if "seconds" in body and path == "fault/status":
                fault["until"] = time.monotonic() + float(body["seconds"])
            if path == "fault/hang" and "count" not in body:
                fault["until"] = time.monotonic() + float(body.get("seconds", 30))
            with store.lock:
                if path == "fault/status":
                    store.status_fault = fault
                else:
                    store.hang_fault = fault
            return self._send_json(200, {"ok": True}, log=False)
        if path == "cut-watch" and method == "POST":
            return self._send_json(200, {"cut": store.broadcast(CUT)}, log=False)
        if path == "expire" and method == "POST":
            store.expire()
            return self._send_json(200, {"compacted": store.compacted}, log=False)
        if path == "bookmark" and method == "POST":
            def bookmark():
                return {"type": "BOOKMARK", "object": {"kind": "Secret", "apiVersion": "v1", "metadata": {
                    "resourceVersion": str(store.resource_version), "creationTimestamp": None}}}
            return self._send_json(200, {"sent": store.broadcast(bookmark, only_bookmarks=True)}, log=False)
        if path == "review-tokens" and method == "POST":
            body = self._body()
            with store.lock:
                store.review_tokens[body["token"]] = {"username": body.get("username"), "uid": body.get("uid"),
                                                      "groups": body.get("groups"),
                                                      "audiences": body.get("audiences") or API_AUDIENCES}
                count = len(store.review_tokens)
            return self._send_json(200, {"tokens": count}, log=False)
        if path == "grants" and method == "POST":
            body = self._body()
            if (body.get("user") is None) == (body.get("group") is None):
                return self._send_json(400, {"error": "a grant names exactly one of user or group"}, log=False)
            with store.lock:
                store.grants.append(dict(body))
                count = len(store.grants)
            return self._send_json(200, {"grants": count}, log=False)
        if path == "deny-reviews" and method == "POST":
            body = self._body()
            with store.lock:
                store.reviews_denied = bool(body.get("deny", True))
            return self._send_json(200, {"denied": store.reviews_denied}, log=False)
        if path == "watches" and method == "GET":
            with store.lock:
                return self._send_json(200, {"open": len(store.watchers)}, log=False)
        if path == "requests":
            with store.lock:
                if method == "DELETE":
                    store.requests.clear()
                log = [dict(r) for r in store.requests]
            return self._send_json(200, {"requests": log}, log=False)
        return self._send_json(404, {"error": f"no control endpoint {method} {path}"}, log=False)


class Server(ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake on the connection's own thread, so a silent client
    never blocks the accept loop."""
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        request.settimeout(None)
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        import traceback
        traceback.print_exc(file=sys.stderr)  # a bug in the double: show it in the test's output


def main():
    # A parent's thread may have blocked signals (Swift's test runner does); SIGTERM must still end the double.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", required=True, help="PEM server certificate (chain)")
    parser.add_argument("--key", required=True, help="PEM server key")
    parser.add_argument("--token-file", required=True, help="file with the accepted bearer token (re-read per request)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--service-account", default="system:serviceaccount:kyma-installer:helm-cert-server",
                        help="the user named in 403 messages")
    parser.add_argument("--deny", action="append", default=[], metavar="NS/NAME", help="answer 403 for this secret")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit when stdin reaches end of file (the parent died), so no double outlives its test")
    parser.add_argument("--secrets", help="JSON file: [{namespace, name, data: {key: base64}, type}] to start with")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["http/1.1"])
    server = Server((args.host, args.port), Handler)
    server.tls = context
    server.token_file = args.token_file
    server.store = Store(args.service_account)
    for entry in args.deny:
        namespace, _, name = entry.partition("/")
        server.store.denied.add((namespace, name or None))
    if args.secrets:
        with open(args.secrets) as f:
            for s in json.load(f):
                server.store.put(s["namespace"], s["name"], {"data": s.get("data") or {}, "type": s.get("type")})
    if args.exit_with_stdin:
        def exit_at_end_of_stdin():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=exit_at_end_of_stdin, daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
