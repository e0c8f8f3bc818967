"""Compare PDF text extraction libraries on Chinese reports rendered to PDF here.

Renders reports (fixture text, or real reports from ../shared/samples/raw) to PDF with
reportlab -- once with the built-in, non-embedded STSong-Light CID font, once with an embedded
CJK TrueType font if the machine has one -- and extracts the text with pypdf, pdfminer.six and
pypdfium2. Prints, per library and font: the share of the report's characters recovered in
order (whitespace ignored; the running header and page numbers are extra text, not counted),
the number of characters that are not CJK, ASCII or common punctuation (mojibake, private-use
glyphs), and the time. Run: .venv/bin/python scripts/compare_pdf_libs.py [REPORT.txt ...]
"""

from __future__ import annotations

import difflib
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.docmaker import blocks_of_text, find_cjk_ttf, make_pdf

from policy_nlp.read import decode_bytes

_ODD = re.compile(r"[^\u4e00-\u9fff\u3000-\u303f\uff00-\uffef\x20-\x7e\s“”‘’—…·]")


def pypdf_text(path):
    import pypdf

    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def pdfminer_text(path):
    from pdfminer.high_level import extract_text

    return extract_text(path)


def pdfium_text(path):
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


LIBS = {"pypdf": pypdf_text, "pdfminer.six": pdfminer_text, "pypdfium2": pdfium_text}


def score(reference: str, text: str) -> float:
    a = re.sub(r"\s", "", reference)
    b = re.sub(r"\s", "", text)
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in m.get_matching_blocks()) / max(len(a), 1)


def main(paths):
    fonts = ["cid"] + (["ttf"] if find_cjk_ttf() else [])
    with tempfile.TemporaryDirectory() as tmp:
        for src in paths:
            text, _ = decode_bytes(Path(src).read_bytes(), source=str(src))
            blocks = blocks_of_text(text)
            reference = "".join(blocks)
            for font in fonts:
                pdf = Path(tmp) / f"{Path(src).stem}-{font}.pdf"
                make_pdf(pdf, blocks, font=font)
                for name, fn in LIBS.items():
                    t0 = time.perf_counter()
                    try:
                        out = fn(str(pdf))
                    except Exception as exc:  # a library failing is a result here
                        print(f"{Path(src).name:40} {font:4} {name:13} FAILED {exc!r}")
                        continue
                    dt = time.perf_counter() - t0
                    odd = len(_ODD.findall(out))
                    print(f"{Path(src).name:40} {font:4} {name:13} recovered "
                          f"{score(reference, out):6.2%}  odd chars {odd:5d}  {dt:5.2f}s")


if __name__ == "__main__":
    raw = Path(__file__).resolve().parents[2] / "shared" / "samples" / "raw"
    main(sys.argv[1:] or sorted(raw.glob("*.txt")))
