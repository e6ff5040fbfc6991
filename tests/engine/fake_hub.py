"""A local stand-in for the Hugging Face Hub (HTTP on 127.0.0.1 only): the tree-listing API and
`resolve` downloads for any number of repos, at any revision, with Range requests, gated repos,
corrupt bodies, dropped connections and paused transfers. Shared by every download test."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import unquote, urlparse


class LocalHub:
    """`repos`: {repo: {path: body}} served under the real names.
    `gated`: repos that answer 401 without an Authorization header (or without `token`, when given).
    `lfs(path)`: whether a file is listed with an LFS SHA-256 (the default: weights-like suffixes).
    `corrupt`: LFS files are served with their last byte changed (the SHA-256 check must catch it).
    `cut_once[key] = n`: the first GET of that file sends n bytes, then drops the connection.
    `hold_once[key] = (n, event)`: the first GET sends n bytes, then waits for `event` (a slow network,
    paused until the test has done what it does mid-file) before sending the rest.
    A key is "path" or "repo/path". Records: `listed` (repo, revision), `fetched` (repo, revision,
    path) for every file GET in order, `ranges` (path, start) for every Range request."""

    def __init__(self, repos: dict[str, dict[str, bytes]], *, gated: set[str] = frozenset(),
                 token: str | None = None, lfs: Callable[[str], bool] | None = None, corrupt: bool = False):
        self.repos, self.gated, self.token, self.corrupt = repos, set(gated), token, corrupt
        self.lfs = lfs or (lambda p: p.endswith((".safetensors", ".bin", ".pt", ".wav")))
        self.listed: list[tuple[str, str]] = []
        self.fetched: list[tuple[str, str, str]] = []
        self.ranges: list[tuple[str, int]] = []
        self.cut_once: dict[str, int] = {}
        self.hold_once: dict[str, tuple[int, threading.Event]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _take(self, table: dict, repo: str, path: str):
        return table.pop(f"{repo}/{path}", None) or table.pop(path, None)

    def _allowed(self, repo: str, headers) -> bool:
        if repo not in self.gated:
            return True
        auth = headers.get("Authorization")
        return auth is not None and (self.token is None or auth == f"Bearer {self.token}")

    def _listing(self, files: dict[str, bytes]) -> bytes:
        return json.dumps([
            {"type": "file", "path": p, "size": len(d), "oid": "0" * 40,
             **({"lfs": {"oid": hashlib.sha256(d).hexdigest(), "size": len(d), "pointerSize": 130}}
                if self.lfs(p) else {})} for p, d in files.items()]).encode()

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code: int, body: bytes = b"", ctype: str = "application/octet-stream") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = unquote(urlparse(self.path).path)
                m = re.match(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)", path) or \
                    re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
                if not m or m.group(1) not in hub.repos:
                    return self._send(404)
                repo, rev = m.group(1), m.group(2)
                if not hub._allowed(repo, self.headers):
                    self.send_response(401)
                    self.send_header("X-Error-Code", "GatedRepo")
                    self.send_header("X-Error-Message", f"Access to model {repo} is restricted.")
                    self.end_headers()
                    return
                files = hub.repos[repo]
                if "/tree/" in path:
                    hub.listed.append((repo, rev))
                    return self._send(200, hub._listing(files), "application/json")
                name = m.group(3)
                if name not in files:
                    return self._send(404)
                hub.fetched.append((repo, rev, name))
                data = files[name]
                if hub.corrupt and hub.lfs(name):
                    data = data[:-1] + b"X"
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    hub.ranges.append((name, start))
                self.send_response(206 if self.headers.get("Range") else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                hold = hub._take(hub.hold_once, repo, name)
                if hold is not None:
                    n, release = hold
                    self.wfile.write(data[start:start + n])
                    self.wfile.flush()
                    release.wait(60)
                    start += n
                cut = hub._take(hub.cut_once, repo, name)
                if cut is not None:  # a dropped connection part way through the file
                    self.wfile.write(data[start:start + cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(data[start:])

        return Handler


class OneRepoHub(LocalHub):
    """One repo's files (the common case), with its fetched names and Range requests by path."""

    def __init__(self, files: dict[str, bytes], *, repo: str, gated: bool = False, corrupt: bool = False,
                 lfs: set[str] | None = None):
        super().__init__({repo: files}, gated={repo} if gated else set(), corrupt=corrupt,
                         lfs=None if lfs is None else lfs.__contains__)
        self.repo, self.files = repo, files

    @property
    def requested(self) -> list[str]:
        return [name for _, _, name in self.fetched]

    @property
    def range_requests(self) -> list[tuple[str, int]]:
        return self.ranges

    @property
    def listings(self) -> int:
        return len(self.listed)
