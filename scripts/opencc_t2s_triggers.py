"""Derive, from OpenCC's own dictionaries, the characters without which its ``t2s`` conversion
leaves a text as it is; write them to ``src/policy_nlp/data/opencc_t2s.json``.

    python scripts/opencc_t2s_triggers.py [--check]

``text.to_simplified`` converts only the texts that hold one of these characters (nearly every
paragraph of a report in simplified characters holds none), which gives the same output as
converting every text; ``--check`` only compares the file with what the installed OpenCC gives
(exit 1 if they differ). Run it after upgrading OpenCC: the file records the sha256 of the
configuration and the dictionaries it was derived from, and where the installed ones differ,
``to_simplified`` converts every text (correct, slower) until the file is made again.

Why the skip is exact. OpenCC converts a text left to right (its normalisation first, then
the group of ``t2s.json``, the same way): at each position it takes a key of the dictionaries
that starts there (which one, its match policy decides) and writes that key's first value, or,
where no key starts, the character itself (``Conversion::Convert``). So a text changes only where a *changing* key (one
whose first value differs from it) occurs in it: a key that maps to itself writes itself back.
Every changing key contains a trigger character: a changing key of one character is one; of a
changing phrase, the characters where it differs from its value (every character, where the
two differ in length) are. A text without a trigger holds no changing key, and OpenCC returns
it unchanged. ``tests/test_text.py`` checks the skip against converting every text on the
shared corpus, on traditional texts, on every code point outside the set, and on random texts
made of the characters of the dictionaries' keys.

The dictionaries are binary (``.ocd2``); ``opencc_dict``, the tool shipped in the opencc wheel,
writes them out as text (``key<TAB>value value ...``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import opencc

OUT = Path(__file__).resolve().parents[1] / "src" / "policy_nlp" / "data" / "opencc_t2s.json"
CONFIG = "t2s.json"


def share_dir() -> Path:
    """Where the installed OpenCC keeps its configurations and dictionaries: the folder of the
    configuration the converter loads."""
    return Path(opencc.OpenCC("t2s").config).parent


def dict_tool() -> Path:
    """OpenCC's ``opencc_dict``, shipped in the opencc wheel."""
    return Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"


def dictionary_files(config: dict) -> list[str]:
    """The ``.ocd2`` files a configuration names, in order (normalisation, then the chain)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ocd2" and "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in config.items() if k in ("normalization", "conversion_chain")})
    return found


def entries(ocd2: Path, tool: Path) -> list[tuple[str, str]]:
    """(key, first value) of every entry of a binary dictionary, by ``opencc_dict``."""
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "dict.txt"
        subprocess.run([str(tool), "-i", str(ocd2), "-o", str(text), "-f", "ocd2", "-t", "text"],
                       check=True, capture_output=True)
        out = []
        for line in text.read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            out.append((key, values.split(" ")[0]))
        return out


def triggers(pairs: list[tuple[str, str]]) -> set[str]:
    """The characters of the changing keys that make them change (see the module docstring)."""
    chars: set[str] = set()
    for key, value in pairs:
        if key == value:
            continue
        if len(key) != len(value):
            chars.update(key)
        else:
            chars.update(k for k, v in zip(key, value, strict=True) if k != v)
    return chars


def derive() -> dict:
    share = share_dir()
    tool = dict_tool()
    if not tool.is_file():
        raise SystemExit(f"{tool}: not found (the opencc wheel ships it); cannot read the "
                         "dictionaries")
    config = json.loads((share / CONFIG).read_text(encoding="utf-8"))
    names = dictionary_files(config)
    pairs = [pair for name in names for pair in entries(share / name, tool)]
    files = {name: hashlib.sha256((share / name).read_bytes()).hexdigest()
             for name in [CONFIG, *names]}
    return {"about": "characters without which OpenCC's t2s leaves a text unchanged; made by "
                     "scripts/opencc_t2s_triggers.py from the files below (sha256)",
            "opencc": opencc.__version__, "files": files,
            "chars": "".join(sorted(triggers(pairs)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare the file with the installed OpenCC, write nothing")
    args = ap.parse_args(argv)
    derived = derive()
    if args.check:
        stored = json.loads(OUT.read_text(encoding="utf-8"))
        same = {k: stored.get(k) for k in ("files", "chars")} == {
            k: derived[k] for k in ("files", "chars")}
        print(f"{OUT.name}: {'up to date' if same else 'differs from the installed OpenCC'}")
        return 0 if same else 1
    OUT.write_text(json.dumps(derived, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(derived['chars'])} characters from {len(derived['files']) - 1} "
          f"dictionaries of OpenCC {derived['opencc']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
