"""Download a catalog model from the Hugging Face Hub: progress, cancel, resume, SHA-256 check.

Why not `hf_hub_download`: in huggingface_hub 2.x a failed or cancelled download deletes its
partial file, so a 6 GB checkpoint would restart from zero after every interruption. We list the
repo with `HfApi.list_repo_tree` (sizes and LFS SHA-256s), then stream each file ourselves with
the hub's own HTTP session and auth headers into `<file>.part`, resuming with a Range request.

The access token (gated repos) is kept in the system keyring when one exists; it is never logged
or written into a file by Mynah.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.hub.catalog import CatalogEntry, hub_listing, missing_files, plan_files

log = logging.getLogger(__name__)

KEYRING_SERVICE = "mynah-huggingface"
KEYRING_USER = "token"
MANIFEST = "mynah-manifest.json"
_CHUNK = 1 << 20

ProgressFn = Callable[[int, int, str], None]  # bytes done, bytes total, current file


class DownloadError(Exception):
    """The download failed; the message is for the user."""


class OfflineError(DownloadError):
    pass


class InterruptedDownload(OfflineError):
    """The connection dropped mid-file; the partial file is kept and the next attempt resumes."""


class GatedError(DownloadError):
    pass


class DownloadCancelled(DownloadError):
    pass


# --- token ----------------------------------------------------------------------------------
_session_token: str | None = None  # used when no keyring backend exists (kept in memory only)


def keyring_available() -> bool:
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        return not isinstance(keyring.get_keyring(), FailKeyring)
    except Exception:  # keyring missing or broken: fall back to memory
        return False


def save_token(token: str) -> str:
    """Store the token; returns where ("keyring" or "memory") so the UI can say so."""
    global _session_token
    token = token.strip()
    _session_token = token or None
    if keyring_available():
        import keyring

        try:
            if token:
                keyring.set_password(KEYRING_SERVICE, KEYRING_USER, token)
            else:
                keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
            return "keyring"
        except Exception as e:  # locked keyring etc.: keep it for this session only
            log.warning("could not use the keyring (%s); token kept for this session", type(e).__name__)
    return "memory"


def load_token() -> str | None:
    if _session_token:
        return _session_token
    if keyring_available():
        import keyring

        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception:
            return None
    return os.environ.get("HF_TOKEN") or None


# --- plan -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files only; small git files have a SHA-1 blob id instead
    repo: str | None = None  # None: the entry's own repo (entries whose files span repos name it)
    revision: str | None = None


def offline_message(entry: CatalogEntry, dest: Path, reason: str = "") -> str:
    by_repo: dict[str, list[str]] = {}
    for name in [*entry.needed_files(), *entry.extra_patterns]:
        by_repo.setdefault(entry.source_of(name)[0], []).append(name)
    if len(by_repo) <= 1:
        where = f"{', '.join(n for names in by_repo.values() for n in names)} from {entry.homepage or entry.model_id}"
    else:  # files from several repos: name each repo's files and its page
        where = " and ".join(f"{', '.join(names)} from https://huggingface.co/{repo}" for repo, names in by_repo.items())
    return (f"Cannot reach the Hugging Face Hub{f' ({reason})' if reason else ''}. On a machine with "
            f"internet, download {where}"
            f"{' (sign in and accept its terms first: the repo is gated)' if entry.gated else ''}, "
            f"put them in one folder (keeping their folders), and use \"Import local folder\" (or copy them to {dest}).")


def hub_reachable(endpoint: str | None = None, timeout_s: float = 3.0) -> tuple[bool, str]:
    """A quick TCP probe, so an offline machine gets its message in seconds: the hub client itself
    retries connection errors with back-off for ~25 s."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False, "HF_HUB_OFFLINE is set"
    u = urlparse(endpoint or constants.ENDPOINT)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname, port), timeout=timeout_s):
            return True, ""
    except OSError as e:
        return False, f"{u.hostname}: {e.strerror or type(e).__name__}"


def plan_download(entry: CatalogEntry, *, token: str | None = None, endpoint: str | None = None,
                  dest: Path | None = None) -> list[RemoteFile]:
    """The repo files this model needs, with sizes and SHA-256s. Raises OfflineError/GatedError."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    ok, why = hub_reachable(endpoint)
    if not ok:
        raise OfflineError(offline_message(entry, dest or Path("the models folder"), why))
    api = HfApi(endpoint=endpoint)

    def listing(repo: str, revision: str) -> list:
        try:
            return list(api.list_repo_tree(repo, recursive=True, revision=revision, token=token or False))
        except GatedRepoError:
            raise GatedError(f"{entry.name} is gated: sign in at {entry.homepage}, accept its terms, then paste "
                             "an access token (Settings → Access Tokens, read) in the token field.") from None
        except RepositoryNotFoundError:
            if not token and entry.gated:
                raise GatedError(f"{entry.name} needs an access token: paste one in the token field "
                                 f"(and accept the terms at {entry.homepage}).") from None
            raise DownloadError(f"the repository {repo} was not found (or the token cannot see it)") from None
        except HfHubHTTPError as e:
            raise DownloadError(f"the Hub refused the request: {e}") from None
        except Exception as e:  # connection refused, DNS failure, timeout, HF_HUB_OFFLINE
            raise OfflineError(offline_message(entry, dest or Path("the models folder"), type(e).__name__)) from None

    trees = {}
    for repo, revision in entry.hub_trees():  # one tree for most models; Pocket TTS reads two repos
        trees[(repo, revision)] = {f.path: f for f in listing(repo, revision)
                                   if getattr(f, "size", None) is not None}  # files only, not folders
    by_path = hub_listing(entry, lambda repo, revision: trees[(repo, revision)])
    plan = plan_files(entry, {p: int(f.size) for p, f in by_path.items()}, hub=True)
    if plan.layout is None or plan.missing:
        lacks = [*plan.missing, *([entry.preferred_layout.describe()] if plan.layout is None else [])]
        repos = list(dict.fromkeys(repo for repo, _ in entry.hub_trees()))
        raise DownloadError(f"{' and '.join(repos)} {'does' if len(repos) == 1 else 'do'} not hold {', '.join(lacks)} (the files Mynah reads); "
                            "nothing was downloaded")
    out = []
    for name, size in plan.files:
        repo, revision = entry.source_of(name)
        out.append(RemoteFile(name, size, getattr(getattr(by_path[name], "lfs", None), "sha256", None),
                              repo=repo, revision=revision))
    return out


# --- download -------------------------------------------------------------------------------
def sha256_file(path: Path, cancel: threading.Event | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled("cancelled")
            h.update(block)
    return h.hexdigest()


def download_model(entry: CatalogEntry, dest: Path, *, token: str | None = None,
                   endpoint: str | None = None, progress: ProgressFn | None = None,
                   cancel: threading.Event | None = None) -> Path:
    """Download (or resume) every file `entry` needs into `dest`; returns `dest` when complete and
    verified. Cancel leaves `<file>.part` files so the next call resumes where this one stopped."""
    from huggingface_hub import constants, hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session

    dest = Path(dest)
    files = plan_download(entry, token=token, endpoint=endpoint, dest=dest)
    dest.mkdir(parents=True, exist_ok=True)  # only now: an offline attempt leaves no empty folder
    total = sum(f.size for f in files)
    done = sum(f.size for f in files if (dest / f.path).is_file())
    session = get_session()
    headers = build_hf_headers(token=token or False, library_name="mynah")
    for rf in files:
        final = dest / rf.path
        if final.is_file() and final.stat().st_size == rf.size:
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(final.name + ".part")
        have = part.stat().st_size if part.exists() else 0
        if have > rf.size:
            part.unlink()
            have = 0
        done += have
        url = hf_hub_url(rf.repo or entry.model_id, rf.path, revision=rf.revision or entry.revision,
                         endpoint=endpoint or constants.ENDPOINT)
        req_headers = dict(headers)
        if have:
            req_headers["Range"] = f"bytes={have}-"
        try:
            with session.stream("GET", url, headers=req_headers, follow_redirects=True, timeout=30) as resp:
                if resp.status_code in (401, 403):
                    raise GatedError(f"the Hub refused {rf.path} (HTTP {resp.status_code}): check the token "
                                     f"and that you accepted the terms at {entry.homepage}")
                if resp.status_code >= 400:
                    raise DownloadError(f"downloading {rf.path} failed: HTTP {resp.status_code}")
                if have and resp.status_code == 200:  # server ignored Range: start this file over
                    done -= have
                    have = 0
                with open(part, "ab" if have else "wb") as out:
                    # Chunks as they arrive (not re-buffered to 1 MB): a dropped connection keeps
                    # every byte received. Progress is reported about once per MB.
                    reported = done
                    for chunk in resp.iter_bytes():
                        if cancel is not None and cancel.is_set():
                            raise DownloadCancelled(f"download cancelled; {done} of {total} bytes kept "
                                                    "to resume later")
                        out.write(chunk)
                        done += len(chunk)
                        if progress and done - reported >= _CHUNK:
                            progress(done, total, rf.path)
                            reported = done
                    if progress:
                        progress(done, total, rf.path)
        except DownloadError:
            raise
        except Exception as e:
            kept = part.stat().st_size if part.exists() else 0
            if kept:  # the connection dropped mid-file: what arrived is kept for the next attempt
                raise InterruptedDownload(
                    f"the connection dropped while downloading {rf.path} ({type(e).__name__}); {kept} of "
                    f"{rf.size} bytes are kept: click Download again to resume") from None
            raise OfflineError(offline_message(entry, dest, f"{type(e).__name__} during {rf.path}")) from None
        if part.stat().st_size != rf.size:
            raise DownloadError(f"{rf.path} stopped at {part.stat().st_size} of {rf.size} bytes; try again to resume")
        if rf.sha256:
            got = sha256_file(part, cancel)
            if got != rf.sha256:
                part.unlink()
                raise DownloadError(f"{rf.path} is corrupt (SHA-256 {got[:12]}… expected {rf.sha256[:12]}…); "
                                    "it was removed, download again")
        part.replace(final)
    still = missing_files(entry, dest)
    if still:
        raise DownloadError(f"the repository did not provide {', '.join(still)}")
    write_manifest(dest, entry, {f.path: f.sha256 for f in files}, source="hub")
    if progress:
        progress(total, total, "")
    return dest


def write_manifest(folder: Path, entry: CatalogEntry, sha256: dict[str, str | None], *, source: str) -> Path:
    """Record what was installed, so "Verify" can re-hash the files later."""
    path = Path(folder) / MANIFEST
    path.write_text(json.dumps({"model_id": entry.model_id, "revision": entry.revision, "source": source,
                                "installed": time.time(), "sha256": sha256}, indent=2))
    return path


def verify_folder(folder: Path, cancel: threading.Event | None = None) -> list[str]:
    """Re-hash files recorded in the manifest; returns the names that do not match (empty: all good)."""
    folder = Path(folder)
    man = folder / MANIFEST
    if not man.is_file():
        return [f"{MANIFEST} (no record of the installed files)"]
    bad = []
    for name, want in json.loads(man.read_text())["sha256"].items():
        p = folder / name
        if not p.is_file():
            bad.append(f"{name} (missing)")
        elif want and sha256_file(p, cancel) != want:
            bad.append(f"{name} (changed)")
    return bad
