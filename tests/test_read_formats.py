"""Readers of Word, PDF and web pages: on documents built here from fixture text, and on real
reports of ../shared/samples/raw converted to each format at test time (nothing converted is
committed). Each must give the paragraphs, headings and sections that the splitter gives for the
plain text, whole and in order."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from policy_nlp.errors import InputError
from policy_nlp.read import decode_bytes, iter_documents, read_documents
from policy_nlp.split import split_report

from .conftest import FIXTURES, SHARED
from .docmaker import blocks_of_text, find_cjk_ttf, make_docx, make_html, make_pdf

RAW = SHARED / "samples" / "raw"
REAL = ["nanjing-2024-utf8.txt", "hailaer-2012-gb18030-crlf.txt",
        "national-2017-gb18030-webpage.txt", "hebei-2024-with-header.txt"]

FONTS = ["cid", pytest.param("ttf", marks=pytest.mark.skipif(
    find_cjk_ttf() is None,
    reason="no CJK TrueType font here (apt-get install fonts-wqy-microhei); the CID-font PDF "
           "is tested instead"))]


def _report(text: str):
    """The blocks to lay out and the splitter's result on the plain text."""
    ref = split_report(text, "ref")
    blocks = blocks_of_text(text)
    return blocks, set(ref.headings) & set(blocks), ref


def _same_split(path: Path, ref) -> None:
    (doc,) = read_documents(path)
    got = split_report(doc.text, "x")
    assert [p.text for p in got.paragraphs] == [p.text for p in ref.paragraphs]
    assert [p.section for p in got.paragraphs] == [p.section for p in ref.paragraphs]
    assert got.headings == ref.headings


@pytest.fixture(scope="module")
def fixture_report():
    text = (FIXTURES / "report.txt").read_text("utf-8")
    # a longer report: the fixture's paragraphs repeated, so that the PDF runs over pages
    long_text = text + "\n".join(
        f"{n}. 第{n}项任务。" + "推进重点领域改革，扩大有效投资，稳定和扩大就业，" * (n % 5 + 1)
        + "切实保障和改善民生。" for n in range(1, 40))
    return _report(long_text)


# --- on fixture text ---------------------------------------------------------------------------


def test_docx_paragraphs_whole_and_in_order(tmp_path, fixture_report):
    blocks, headings, ref = fixture_report
    path = make_docx(tmp_path / "r.docx", blocks, headings=headings,
                     header_text="某市人民政府文件", table=[["指标", "目标"], ["增长", "5%"]])
    (doc,) = read_documents(path)
    assert "某市人民政府文件" not in doc.text  # the page header is not body text
    assert "指标\t目标" in doc.text  # a table row is one line, cells tab-separated
    got = split_report(doc.text.replace("指标\t目标\n增长\t5%\n", ""), "x")
    assert [p.text for p in got.paragraphs] == [p.text for p in ref.paragraphs]
    assert [p.section for p in got.paragraphs] == [p.section for p in ref.paragraphs]


@pytest.mark.parametrize("font", FONTS)
@pytest.mark.parametrize("layout", [{}, {"justify": False}, {"glyphs": True},
                                    {"indent": False}, {"indent": False, "justify": False}])
def test_pdf_lines_rejoined_headers_and_page_numbers_dropped(tmp_path, fixture_report, font,
                                                             layout):
    blocks, headings, ref = fixture_report
    path = make_pdf(tmp_path / "r.pdf", blocks, headings=headings, font=font,
                    running_header="某市人民政府工作报告（2031年）", **layout)
    (doc,) = read_documents(path)
    assert "某市人民政府工作报告（2031年）" not in doc.text
    assert "— 2 —" not in doc.text and "— 1 —" not in doc.text
    _same_split(path, ref)


def test_pdf_page_numbers_dropped_on_a_short_document(tmp_path):
    blocks = ["一、总体要求", "坚持稳中求进工作总基调。", "二、主要任务", "扩大国内需求。"]
    path = make_pdf(tmp_path / "r.pdf", blocks, headings={"一、总体要求", "二、主要任务"})
    (doc,) = read_documents(path)
    assert doc.text.splitlines()[-4:] == blocks  # the one running header is kept: not repeated
    assert "—" not in doc.text


@pytest.mark.parametrize("br", [False, True])
def test_html_article_without_chrome(tmp_path, fixture_report, br):
    blocks, headings, ref = fixture_report
    path = make_html(tmp_path / "r.html", blocks, headings=headings, br=br)
    (doc,) = read_documents(path)
    for chrome in ("首页", "政务公开", "热点专题", "分享到", "相关阅读", "备案号", "统计代码",
                   "当前位置", "无障碍", "发布时间", "打印"):
        assert chrome not in doc.text
    _same_split(path, ref)


@pytest.mark.parametrize("charset", ["gb2312", "gbk", "gb18030", "utf-8"])
def test_html_in_declared_charset(tmp_path, charset):
    blocks = ["各位代表：", "现在，我代表市人民政府向大会报告工作。", "一、过去一年工作回顾",
              "全市地区生产总值增长百分之五。"]
    path = make_html(tmp_path / "r.htm", blocks, headings={"一、过去一年工作回顾"},
                     charset=charset)
    (doc,) = read_documents(path)
    assert [p.text for p in split_report(doc.text, "x").paragraphs] == [blocks[1], blocks[3]]


def test_html_source_line_breaks_inside_chinese_are_not_spaces(tmp_path):
    page = ("<html><body><div id='nav'><a href='/'>首页</a></div><div class='content'>"
            "<p>推进高质量\n   发展，建设 GDP\n增长。</p><p>第二段<br>换行。</p>"
            "</div></body></html>")
    (tmp_path / "p.html").write_text(page, "utf-8")
    (doc,) = read_documents(tmp_path / "p.html")
    assert doc.text.split("\n") == ["推进高质量发展，建设 GDP 增长。", "第二段", "换行。"]


def test_formats_recognised_by_content_whatever_the_extension(tmp_path, caplog):
    blocks = ["一、总体要求", "坚持稳中求进工作总基调。"]
    make_pdf(tmp_path / "download.do", blocks, headings={blocks[0]})
    make_docx(tmp_path / "attachment.bin", blocks)
    make_html(tmp_path / "page.txt", blocks)
    with caplog.at_level(logging.INFO, logger="policy_nlp"):
        docs = list(iter_documents([tmp_path / "download.do", tmp_path / "attachment.bin",
                                    tmp_path / "page.txt"]))
    assert all("坚持稳中求进工作总基调。" in d.text for d in docs)
    assert "首页" not in docs[2].text
    assert "read as pdf (by its content)" in caplog.text


def test_directory_picks_up_the_new_formats(tmp_path):
    blocks = ["坚持稳中求进工作总基调。"]
    make_docx(tmp_path / "a.docx", blocks)
    make_pdf(tmp_path / "b.pdf", blocks)
    make_html(tmp_path / "c.htm", blocks)
    make_html(tmp_path / "d.html", blocks)
    assert [d.id for d in iter_documents(tmp_path)] == ["a", "b", "c", "d"]


# --- refused, with a one-line reason -------------------------------------------------------------


def test_pdf_without_text_layer_is_refused(tmp_path):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    c.rect(72, 72, 400, 600, fill=1)  # a page that is only a picture
    c.save()
    with pytest.raises(InputError, match=r"scan.pdf: the PDF has no text layer .*OCR"):
        list(read_documents(tmp_path / "scan.pdf"))


def test_encrypted_pdf_is_refused(tmp_path):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    enc = pdfencrypt.StandardEncryption("secret", canPrint=0)
    c = canvas.Canvas(str(tmp_path / "locked.pdf"), encrypt=enc)
    c.drawString(72, 720, "text")
    c.save()
    with pytest.raises(InputError, match=r"locked.pdf: the PDF is encrypted"):
        list(read_documents(tmp_path / "locked.pdf"))


@pytest.mark.parametrize(("name", "data", "message"), [
    ("cut.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "not a readable PDF"),
    ("cut.docx", b"PK\x03\x04garbage", "not a readable .docx file"),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "old binary Word .doc"),
    ("empty.pdf", b"", "file is empty"),
])
def test_broken_documents_are_refused(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputError, match=message) as info:
        list(read_documents(tmp_path / name))
    assert "\n" not in str(info.value)


def test_missing_library_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    make_docx(tmp_path / "a.docx", ["一段。"])
    real_import = builtins.__import__

    def no_docx(name, *args, **kwargs):
        if name == "docx" or name.startswith("docx."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_docx)
    monkeypatch.setattr("importlib.import_module", lambda name: no_docx(name))
    with pytest.raises(InputError, match=r"a.docx: reading Word files needs .*pip install "
                                         r"python-docx"):
        list(read_documents(tmp_path / "a.docx"))


# --- on real reports, converted here -------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_reports():
    if not RAW.is_dir():
        pytest.skip(f"{RAW} is absent: the raw sample reports sit in ../shared beside the checkout")
    return RAW


@pytest.mark.corpus
@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("fmt", ["docx", "pdf-cid", "pdf-ttf", "pdf-blocks", "html", "html-br",
                                 "html-gb2312"])
def test_real_report_in_each_format(raw_reports, tmp_path, name, fmt):
    text, _ = decode_bytes((raw_reports / name).read_bytes(), source=name)
    blocks, headings, ref = _report(text)
    assert len(ref.paragraphs) > 20
    if fmt == "docx":
        path = make_docx(tmp_path / "r.docx", blocks, headings=headings, header_text="政府工作报告")
    elif fmt.startswith("pdf"):
        if fmt == "pdf-ttf" and find_cjk_ttf() is None:
            pytest.skip("no CJK TrueType font here (apt-get install fonts-wqy-microhei)")
        font, indent = ("cid", False) if fmt == "pdf-blocks" else (fmt[4:], True)
        path = make_pdf(tmp_path / "r.pdf", blocks, headings=headings, font=font, indent=indent)
    else:
        charset = "gb18030" if fmt == "html-gb2312" else "utf-8"
        path = make_html(tmp_path / "r.html", blocks, headings=headings, charset=charset,
                         br=fmt == "html-br")
    _same_split(path, ref)


# --- fonts that are not embedded; text layers that look damaged -----------------------------------


def test_pdf_with_a_non_embedded_cjk_font_reads_the_same_on_any_machine(tmp_path):
    """STSong-Light is named, not embedded: PDFium would draw it with a font of this machine
    and, without a CJK font, drop every text object of one character (a paragraph's last 。
    on a line of its own, all of a PDF drawn a character at a time). Read from the PDF's own
    codes and widths, every character is there, ``·`` (U+00B7) too, on any machine."""
    from policy_nlp.read.formats import pdf as read_formats

    blocks = ["一、总体要求", "开展“服务企业·面对面”活动，稳定和扩大就业，切实保障和改善民生。"
              "推进重点领域改革。", "二、主要任务", "扩大国内需求。"]
    for glyphs in (False, True):
        path = make_pdf(tmp_path / f"g{glyphs}.pdf", blocks, headings={blocks[0], blocks[2]},
                        glyphs=glyphs)
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        assert not read_formats._fonts_embedded(pdf)  # so it is not left to PDFium
        pdf.close()
        (doc,) = read_documents(path)
        assert doc.text.splitlines()[-4:] == blocks  # after the one-page running header


@pytest.mark.skipif(find_cjk_ttf() is None, reason="no CJK TrueType font to embed here")
def test_pdf_with_embedded_fonts_is_read_by_pdfium(tmp_path):
    from policy_nlp.read.formats import pdf as read_formats

    blocks = ["一、总体要求", "坚持稳中求进工作总基调。"]
    path = make_pdf(tmp_path / "t.pdf", blocks, headings={blocks[0]}, font="ttf", glyphs=True)
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    assert read_formats._fonts_embedded(pdf)
    pdf.close()
    (doc,) = read_documents(path)
    assert doc.text.splitlines()[-2:] == blocks


@pytest.mark.parametrize(("text", "problem"), [
    ("各位代表：现在，我代表市人民政府向大会报告工作，请予审议。" * 3, None),
    ("¹ú¼ÒÕþ¸®¹¤×÷±¨¸æ£¬¼á³ÖÎÈÖÐÇó½ø¹¤×÷×Ü»ùµ÷¡£" * 3, "mostly not Chinese"),
    ("\ufffd\ufffd推进\ue001\ue002改革" * 10, "garbled"),
    ("推进重点领域改革扩大有效投资稳定和扩大就业切实保障和改善民生" * 10, "punctuation"),
    ("短页", None),  # too little to judge
    ("推进(cid:4162)(cid:1504)改革，扩大(cid:99)投资。" * 10, "garbled"),
    ("Annex: list of projects, 2024 to 2026, by district and sector." * 2, "not Chinese"),
])
def test_page_problem(text, problem):
    from policy_nlp.read import page_problem

    got = page_problem(text)
    assert (got is None) if problem is None else (problem in got)


def _mojibake_pdf(path: Path) -> Path:
    """A PDF whose second page's text layer is GBK bytes read as Latin-1 (a font without a
    proper Unicode map): in the standard font Helvetica, which PDFium carries."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 12)
    c.drawString(72, 720, "第一页：全市地区生产总值增长百分之五，城乡居民收入稳步增长。")
    c.setFont("Helvetica", 12)
    c.showPage()
    c.drawString(72, 720, "推进重点领域改革，扩大有效投资。".encode("gbk").decode("latin-1") * 2)
    c.showPage()
    c.save()
    return path


def test_damaged_page_is_reported_with_file_and_page(tmp_path):
    from policy_nlp.errors import InputWarning

    path = _mojibake_pdf(tmp_path / "m.pdf")
    with pytest.raises(InputWarning, match=r"m.pdf: page 2: the text layer is mostly not Chinese"):
        list(read_documents(path))
    seen = []
    (doc,) = read_documents(path, on_error=seen.append)
    assert len(seen) == 1 and seen[0].outcome == "kept"
    assert "全市地区生产总值增长百分之五" in doc.text and "ÍÆ½ø" in doc.text  # kept as read


@pytest.mark.parametrize(("strict", "code"), [(False, 5), (True, 2)])
def test_damaged_page_exit_codes(tmp_path, strict, code):
    from typer.testing import CliRunner

    from policy_nlp.cli import app

    path = _mojibake_pdf(tmp_path / "m.pdf")
    args = ["label", str(path), "--output", str(tmp_path / "out.jsonl")]
    result = CliRunner().invoke(app, args + (["--strict"] if strict else []))
    assert result.exit_code == code, result.output
    assert "m.pdf: page 2:" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "out.jsonl").exists() is not strict


# --- the fixture set: one report as it comes, each reading to its clean text ----------------------

SAVED = FIXTURES / "saved"
TITLE = "青川市2031年政府工作报告"


@pytest.fixture(scope="module")
def clean_report():
    return _report((SAVED / "clean.txt").read_text("utf-8"))


@pytest.mark.parametrize("layout", [
    pytest.param({"running_header": TITLE}, id="title-as-running-header"),
    pytest.param({"running_header": TITLE, "header_last": True, "page_numbers": "page"},
                 id="title-header-drawn-last-page-footer"),
    pytest.param({"running_header": TITLE, "glyphs": True, "page_numbers": "of"},
                 id="character-at-a-time"),
    pytest.param({"browser": "file:///home/user/Downloads/qingchuan.html", "title": TITLE,
                  "running_header": None}, id="browser-printed-file"),
    pytest.param({"browser": "https://www.qingchuan.gov.cn/zwgk/2031/0114/art_1.html",
                  "title": TITLE, "running_header": None, "glyphs": True},
                 id="browser-printed-url-glyphs"),
])
@pytest.mark.parametrize("font", FONTS)
def test_fixture_pdf_reads_as_its_clean_text(tmp_path, clean_report, layout, font):
    blocks, headings, ref = clean_report
    path = make_pdf(tmp_path / "r.pdf", blocks, headings=headings, font=font, **layout)
    (doc,) = read_documents(path)
    for chrome in ("file://", "https://", "2031/1/12", "/2", "第 2 页"):
        assert chrome not in doc.text
    assert doc.text.count(TITLE) == 1  # the title heading of page 1, not the running header
    _same_split(path, ref)


def test_saved_page_chrome_inside_the_article_of_a_web_page(tmp_path, clean_report):
    """Pagination, source, next-article and share lines inside the article's own block (where
    the page's markup does not set them apart) are left out as in a .txt."""
    blocks, headings, ref = clean_report
    chrome_top = [f"{TITLE}-36篇(第12/80页)", "信息来源：青川市人民政府办公室 浏览次数：1024"]
    chrome_end = ["分享到：微信 微博 QQ空间", "上一篇：青川市2030年政府工作报告",
                  "下一篇:关于青川市2030年国民经济和社会发展计划执行情况的报告"]
    path = make_html(tmp_path / "r.html", chrome_top + blocks + chrome_end, headings=headings,
                     title=TITLE)
    _same_split(path, ref)
