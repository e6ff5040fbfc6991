"""The real file trees of the catalog's Hub repositories (path, size, LFS SHA-256 where known), one
JSON file per repository, recorded from public sources (each file says which). Files marked
`"size_exact": false` carry an estimate (the Hub page's rounded size, or what the file's `note` says) or
no size at all (null); a plan may fetch them only for an entry whose catalog size says it is an estimate
(`size_exact=False`). A file's `revision`, where given, is the one its size was recorded at (the Pocket
TTS repos pin each file at its own revision)."""
from __future__ import annotations

import json
from pathlib import Path

TREES_DIR = Path(__file__).parent


def tree_file(repo: str) -> Path:
    return TREES_DIR / (repo.replace("/", "--") + ".json")


def load_tree(repo: str) -> dict:
    return json.loads(tree_file(repo).read_text())


def listing(repo: str) -> dict[str, int]:
    """path -> size, in the tree's order."""
    return {f["path"]: f["size"] for f in load_tree(repo)["files"]}


def exact_paths(repo: str) -> set[str]:
    return {f["path"] for f in load_tree(repo)["files"] if f.get("size_exact", True)}


def entry_listing(entry) -> dict[str, int]:
    """What a download plan reads for `entry`: each path from the recorded tree of the repo the entry
    takes it from (one tree per repo is recorded, whatever revision a file is pinned at)."""
    from engine.hub.catalog import hub_listing

    return hub_listing(entry, lambda repo, revision: listing(repo))


def entry_exact(entry) -> set[str]:
    """The paths of `entry_listing(entry)` whose size is exact in their repo's tree."""
    return {p for p in entry_listing(entry) if p in exact_paths(entry.source_of(p)[0])}
