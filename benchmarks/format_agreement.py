"""How far a report's paragraphs agree across the formats it comes in.

Each raw sample report of ../shared/samples/raw (.txt) is rendered here (nothing is written to
the repository) as Word, as PDFs in several shapes -- the report's own title as a running header
with page numbers as footers (a non-embedded CID font, read by pdfminer.six, and an embedded
TrueType font, read by PDFium, where one is found), drawn a character at a time, printed by a
browser -- and as saved web pages, then read back and split. For each, the number of the plain
text's paragraphs found with the same text (in order: difflib's matching blocks) and with the
same text and section path.

Run: .venv/bin/python benchmarks/format_agreement.py [REPORT.txt ...]
"""

from __future__ import annotations

import difflib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.docmaker import blocks_of_text, find_cjk_ttf, make_docx, make_html, make_pdf

from policy_nlp.read import decode_bytes, read_documents
from policy_nlp.split import split_report

RAW = Path(__file__).resolve().parents[2] / "shared" / "samples" / "raw"


def renderings(title: str):
    """(name, maker) for each shape a report is rendered in."""
    url = "file:///home/user/Downloads/report.html"
    yield "docx", lambda p, b, h: make_docx(p.with_suffix(".docx"), b, headings=h,
                                            header_text=title)
    yield "pdf-title-header", lambda p, b, h: make_pdf(p, b, headings=h, running_header=title)
    yield "pdf-header-last-page-footer", lambda p, b, h: make_pdf(
        p, b, headings=h, running_header=title, header_last=True, page_numbers="page")
    yield "pdf-blocks", lambda p, b, h: make_pdf(p, b, headings=h, running_header=title,
                                                 indent=False)
    yield "pdf-glyphs", lambda p, b, h: make_pdf(p, b, headings=h, running_header=title,
                                                 glyphs=True, page_numbers="of")
    yield "pdf-browser", lambda p, b, h: make_pdf(p, b, headings=h, running_header=None,
                                                  browser=url, title=title)
    if find_cjk_ttf() is not None:
        yield "pdf-ttf-title-header", lambda p, b, h: make_pdf(
            p, b, headings=h, running_header=title, font="ttf")
    yield "html", lambda p, b, h: make_html(p.with_suffix(".html"), b, headings=h, title=title)
    yield "html-br", lambda p, b, h: make_html(p.with_suffix(".html"), b, headings=h,
                                               title=title, br=True)


def main(paths: list[Path]) -> None:
    totals: dict[str, list[int]] = {}
    for path in paths:
        text, _ = decode_bytes(path.read_bytes(), source=str(path))
        ref = split_report(text, "ref")
        blocks = blocks_of_text(text)
        headings = set(ref.headings) & set(blocks)
        title = ref.title or "政府工作报告"
        want = [p.text for p in ref.paragraphs]
        for name, make in renderings(title):
            with tempfile.TemporaryDirectory() as tmp:
                out = make(Path(tmp) / "r.pdf", blocks, headings)
                (doc,) = read_documents(out)
            got = split_report(doc.text, "x")
            have = [p.text for p in got.paragraphs]
            matcher = difflib.SequenceMatcher(None, want, have, autojunk=False)
            pairs = [(i + k, j + k) for i, j, n in matcher.get_matching_blocks() for k in range(n)]
            same = len(pairs)
            with_section = sum(ref.paragraphs[i].section == got.paragraphs[j].section
                               for i, j in pairs)
            print(f"{path.name:40s} {name:28s} {same:4d}/{len(want):<4d} same text, "
                  f"{with_section:4d} same section ({len(have)} read)")
            t = totals.setdefault(name, [0, 0, 0])
            t[0] += same
            t[1] += with_section
            t[2] += len(want)
    print()
    for name, (same, with_section, n) in totals.items():
        print(f"{'all':40s} {name:28s} {same:4d}/{n:<4d} same text ({same / n:.1%}), "
              f"{with_section} same section ({with_section / n:.1%})")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(RAW.glob("*.txt"))
    main(args)
