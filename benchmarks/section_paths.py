"""Do our splitter's section paths match the shared corpus's ``section`` field?

    python benchmarks/section_paths.py [--out benchmarks/results/section_paths.md]

A model with a section-heading feature must get at prediction time the section paths it was
trained on. ``policy-nlp label`` gets them from ``split.split_report``; the shared labels
carry the ``section`` of ``../shared/corpus/paragraphs.jsonl``, made by another splitter. This
splits every report of ``../shared/corpus/reports.jsonl`` with ours, finds each corpus
paragraph by its text among the split paragraphs of its report, and counts how often the two
paths are equal, and how they differ where they do (all paragraphs, and the labeled ones).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from policy_nlp.split import split_report

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"

KINDS = {
    "own": "ours adds the paragraph's own run-in lead clause one level below the corpus's path",
    "deeper": "ours one level deeper (a heading the corpus's path lacks)",
    "shallower": "the corpus's path one level deeper",
    "last": "the same last heading, different above it",
    "top": "the same top heading, different below it",
    "other": "different top headings",
    "empty": "one of the two paths empty",
    "unmatched": "paragraph text not among our split's paragraphs (cut differently)",
}


def kind_of(ours: list[str] | None, corpus: list[str], text: str) -> str | None:
    """How our path differs from the corpus's (None: equal)."""
    if ours is None:
        return "unmatched"
    if ours == corpus:
        return None
    if not ours or not corpus:
        return "empty"
    if ours[:-1] == corpus:
        return "own" if text.startswith(ours[-1][:10]) else "deeper"
    if corpus[:-1] == ours:
        return "shallower"
    if ours[-1] == corpus[-1]:
        return "last"
    return "top" if ours[0] == corpus[0] else "other"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "section_paths.md")
    args = ap.parse_args(argv)
    if not (SHARED / "corpus" / "reports.jsonl").is_file():
        print(f"{SHARED} is absent: the comparison needs the shared corpus", file=sys.stderr)
        return 2
    paragraphs = defaultdict(list)
    with open(SHARED / "corpus" / "paragraphs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            paragraphs[p["report_id"]].append(p)
    with open(SHARED / "labels" / "train.jsonl", encoding="utf-8") as fh:
        labeled = {json.loads(line)["id"] for line in fh}
    counts = {"all": Counter(), "labeled": Counter()}
    by_level: dict[str, Counter] = defaultdict(Counter)
    with open(SHARED / "corpus" / "reports.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            ours = {}
            for p in split_report(r["text"], r["id"]).paragraphs:
                ours.setdefault(p.text, p.section)
            for p in paragraphs[r["id"]]:
                kind = kind_of(ours.get(p["text"]), list(p["section"] or []), p["text"])
                key = kind or "equal"
                counts["all"][key] += 1
                by_level[p["level"]][key] += 1
                if p["id"] in labeled:
                    counts["labeled"][key] += 1
    lines = ["# Section paths: our splitter against the shared corpus's `section`", "",
             "Command: `python benchmarks/section_paths.py` (every report of "
             "`../shared/corpus/reports.jsonl` split by `split.split_report`; each corpus "
             "paragraph found by its text among the split paragraphs of its report).", "",
             "| paths | all paragraphs | labeled paragraphs |", "|---|---|---|"]
    for key in ["equal", *KINDS]:
        row = [f"{counts[c][key]:,} ({counts[c][key] / sum(counts[c].values()):.1%})"
               for c in ("all", "labeled")]
        lines.append(f"| {'equal' if key == 'equal' else KINDS[key]} | {row[0]} | {row[1]} |")
    lines += ["", "Equal paths by level (share of the level's paragraphs):", "",
              "| level | paragraphs | equal |", "|---|---|---|"]
    for level, c in sorted(by_level.items()):
        n = sum(c.values())
        lines.append(f"| {level} | {n:,} | {c['equal'] / n:.1%} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
