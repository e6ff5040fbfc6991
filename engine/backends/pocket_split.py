"""Pocket TTS's chunk rules, computable without torch (the Synthesize editor previews with them on the
GUI thread, before any model is loaded).

The rules are the pocket-tts package's (pocket_tts.models.text_chunking, used by PocketBackend.split_text
for generation): the text is normalized as the model's config says, cut after sentence-final tokens
(never inside a decimal number), a sentence over the token budget is cut again after its commas,
semicolons and colons, and the pieces are regrouped greedily up to MAX_TOKENS tokens per chunk. Counting
is in the model's own tokens (tokenizer.json via `tokenizers`, tokenizer.model via `sentencepiece`, both
torch-free). tests/engine/test_pocket_split.py proves this equals the backend's split on the same model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

MAX_TOKENS = 50  # the package's chunk size: the model is trained on single sentences

_FINAL = ".!?\u2026"
_WEAK = ",;:-\u2013\u2014"
_CLOSERS = "\"'\u201d\u2019)]\u00bb"


@dataclass(frozen=True)
class TextRules:
    """The text settings of a Pocket TTS config (the package's defaults when a key is absent)."""
    pad_with_spaces_for_short_inputs: bool = False
    remove_semicolons: bool = False
    append_terminal_punctuation: bool = True
    capitalize_first_letter: bool = True
    replace_characters: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config_yaml: Path) -> "TextRules":
        import yaml

        raw = yaml.safe_load(Path(config_yaml).read_text(encoding="utf-8")) or {}
        kw = {k: bool(raw[k]) for k in ("pad_with_spaces_for_short_inputs", "remove_semicolons",
                                        "append_terminal_punctuation", "capitalize_first_letter") if k in raw}
        return cls(**kw, replace_characters=tuple((raw.get("replace_characters") or {}).items()))


def normalize(text: str, rules: TextRules) -> str:
    """The text the model reads (empty in, empty out)."""
    text = text.strip()
    if rules.replace_characters:
        text = " ".join(text.translate(str.maketrans(dict(rules.replace_characters))).split())
        text = re.sub(r"([.!?\u2026])\s*[,;:]", r"\1", text)  # a deleted quote must not leave ".,"
    if not text:
        return ""
    text = text.replace("\n", " ").replace("\r", " ").replace("  ", " ")
    if rules.remove_semicolons:
        text = text.replace(";", ",")
    if rules.capitalize_first_letter and not text[0].isupper():
        text = text[0].upper() + text[1:]
    if rules.append_terminal_punctuation:
        core = text.rstrip(_CLOSERS + " ")
        closers = text[len(core):].strip()
        if core and core[-1] not in _FINAL:
            text = core.rstrip(_WEAK + " ") + "." + closers if core[-1] in _WEAK else text + "."
    if rules.pad_with_spaces_for_short_inputs and len(text.split()) < 5:
        text = " " * 8 + text
    return text


Encode = Callable[[str], list[int]]
Decode = Callable[[list[int]], str]


def _cuts(ids: list[int], marks: set[int], decode: Decode | None = None) -> list[int]:
    """Positions where a piece starts: after a run of mark tokens (0 and len(ids) included). With
    `decode`, a period between two digits (a decimal number) is not a cut."""
    cuts, after_mark = [0], False
    for i, tok in enumerate(ids):
        if tok in marks:
            after_mark = True
            continue
        if after_mark:
            if decode is not None:
                head, tail = decode(ids[:i]), decode(ids[i:])
                if len(head) >= 2 and head[-1] == "." and head[-2].isdigit() and tail[:1].isdigit():
                    after_mark = False
                    continue
            cuts.append(i)
        after_mark = False
    return cuts + [len(ids)]


def _pieces(ids: list[int], cuts: list[int], decode: Decode) -> list[tuple[int, str]]:
    return [(b - a, decode(ids[a:b])) for a, b in zip(cuts, cuts[1:])]


def split(text: str, encode: Encode, decode: Decode, rules: TextRules = TextRules(),
          max_tokens: int = MAX_TOKENS) -> list[str]:
    """The chunks Pocket TTS generates `text` in, one after the other."""
    text = normalize(text, rules).strip()
    if not text:
        return []
    ids = encode(text)
    sentence_marks = set(encode(".!...?")[1:])  # the first id is the word-start marker
    clause_marks = set(encode(",;:")[1:])
    pieces = []
    for n, sentence in _pieces(ids, _cuts(ids, sentence_marks, decode), decode):
        if n > max_tokens:  # too long for one chunk: cut after its commas, semicolons and colons
            sub = encode(sentence.strip())
            clauses = _pieces(sub, _cuts(sub, clause_marks), decode)
            if len(clauses) > 1:
                pieces += clauses
                continue
        pieces.append((n, sentence))
    chunks: list[tuple[int, str]] = []
    for n, piece in pieces:
        if chunks and chunks[-1][0] + n <= max_tokens:
            chunks[-1] = (chunks[-1][0] + n, chunks[-1][1] + " " + piece)
        else:
            chunks.append((n, piece))
    return [c.strip() for _, c in chunks]


def load_tokenizer(path: Path) -> tuple[Encode, Decode]:
    """(encode, decode) of a tokenizer.json or a SentencePiece tokenizer.model, without torch."""
    path = Path(path)
    if path.suffix == ".json":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
        return (lambda t: tok.encode(t).ids), tok.decode
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(str(path))
    return (lambda t: sp.encode(t, out_type=int)), sp.decode


@lru_cache(maxsize=8)
def _splitter(tokenizer: str, config: str, stamp: float) -> Callable[[str], list[str]]:
    encode, decode = load_tokenizer(Path(tokenizer))
    rules = TextRules.from_config(Path(config))
    return lambda text: split(text, encode, decode, rules)


def splitter_for(model_dir: Path) -> Callable[[str], list[str]]:
    """The split rule of the Pocket TTS model in `model_dir` (tokenizer read once, then cached).
    Raises PocketLoadError when the folder is not a Pocket TTS model."""
    from engine.backends.pocket_files import find_folder

    folder = find_folder(Path(model_dir))
    return _splitter(str(folder.tokenizer), str(folder.config), folder.tokenizer.stat().st_mtime)
