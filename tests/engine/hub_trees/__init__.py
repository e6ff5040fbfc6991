"""The real file trees of the catalog's Hub repositories (path, size, LFS SHA-256 where known), one
JSON file per repository, recorded from public sources (each file says which). Files marked
`"size_exact": false` carry the Hub page's rounded size; no plan fetches them."""
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
