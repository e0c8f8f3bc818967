"""The hostile inputs of issue 17 at full scale, each run as a subprocess of the command line.

For each case: the exit code, the first line on standard error, the seconds and the peak
resident memory of that subprocess (``os.wait4``'s rusage of the child alone). The inputs are
built in a temporary folder (about 1 GB of disk at most, deleted at the end); nothing of
``../shared`` is needed. ``tests/test_hostile_inputs.py`` checks the same cases small, in CI.

    python benchmarks/hostile_inputs.py [--only NAME ...] [--timeout 300]

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "policy_nlp"]
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


#: Runs the command as its child and writes its exit code and peak RSS (KB) to argv[1]. A
#: fresh process starts it, because Linux carries a process's peak RSS over fork and exec: a
#: child of this script (which builds big inputs) would report this script's peak.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_maxrss], fh)
"""


def run(args: list[str], timeout: float, shell: bool = False) -> tuple[int | str, str, float, int]:
    """Exit code (or "timeout"), first stderr line, seconds, peak RSS in MB of one command."""
    err = tempfile.TemporaryFile()
    result = Path(tempfile.mkstemp(suffix=".json")[1])
    command = args if not shell else ["bash", "-c", args[0], *args[1:]]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(result), *command],
                            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout)
        code, rss_kb = json.loads(result.read_text())
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        code, rss_kb = "timeout", 0
    finally:
        result.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    err.seek(0)
    lines = err.read().decode("utf-8", "replace").splitlines()
    first = next((line for line in lines if line.startswith("policy-nlp:")), lines[0] if lines
                 else "")
    if any("Traceback" in line for line in lines):
        first = "TRACEBACK: " + lines[-1]
    return code, first, seconds, rss_kb // 1024


# --- inputs ------------------------------------------------------------------------------------


def docx_bomb(path: Path, megabytes: int) -> Path:
    """A .docx whose document.xml is ``megabytes`` MB of empty paragraphs (compresses ~1000:1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                   'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/><Override PartName='
                   '"/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
                   '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="word/document.xml"/></Relationships>')
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>'
                     '<w:p><w:r><w:t>推进改革开放。</w:t></w:r></w:p>'.encode())
            block = b"<w:p/>" * 100_000
            for _ in range(megabytes * 1_000_000 // len(block)):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    return path


def docx_entities(path: Path, prolog: str, text: str) -> Path:
    with zipfile.ZipFile(docx_bomb(path.with_suffix(".tmp"), 0)) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = (f'<?xml version="1.0"?>{prolog}<w:document xmlns:w="{W}"><w:body><w:p>'
                        f'<w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>').encode()
            dst.writestr(item.filename, data)
    path.with_suffix(".tmp").unlink()
    return path


def model_copy(tmp: Path, name: str) -> Path:
    dst = tmp / name
    shutil.copytree(ROOT / "models" / "fast", dst)
    return dst


def edit_card(model: Path, edit: Callable[[dict], None]) -> None:
    card = json.loads((model / "model.json").read_text("utf-8"))
    edit(card)
    (model / "model.json").write_text(json.dumps(card), "utf-8")


def forge_coef_shape(model: Path, shape: tuple[int, ...]) -> None:
    """weights.npz with coef.npy's header claiming ``shape`` (the data unchanged), the card's
    hash fixed: a hostile model handed out whole."""
    src = model / "weights.npz"
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    buf = io.BytesIO(members["coef.npy"])
    version = np.lib.format.read_magic(buf)
    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
              np.lib.format.read_array_header_2_0)
    _, fortran, dtype = reader(buf)
    out = io.BytesIO()
    np.lib.format.write_array_header_2_0(out, {"descr": np.lib.format.dtype_to_descr(dtype),
                                               "fortran_order": fortran, "shape": shape})
    members["coef.npy"] = out.getvalue() + members["coef.npy"][buf.tell():]
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    edit_card(model, lambda c: c["files"].__setitem__("weights.npz", sha))


def cases(tmp: Path) -> dict[str, Callable[[], list[str]]]:
    """Each case: a function that builds its input and returns the command to run."""
    def nul_csv():
        p = tmp / "nul.csv"
        p.write_bytes("id,text\nc1,推进\0改革\nc2,稳就业。\n".encode())
        return [*CLI, "label", str(p), "--model", "fast", "-o", str(tmp / "nul.jsonl")]

    def gbk_name():
        d = tmp / "gbk"
        d.mkdir()
        Path(os.fsdecode(os.fsencode(d) + b"/" + "报告".encode("gbk") + b".txt")).write_text(
            "各位代表：\n推进改革开放。\n", "utf-8")
        return [*CLI, "label", str(d), "--model", "fast", "-o", "-"]

    def docx_400mb():
        return [*CLI, "classify", str(docx_bomb(tmp / "bomb.docx", 400)), "--model", "fast"]

    def docx_18mb_allowed():  # under the zip limit, over the paragraph count it allows
        return [*CLI, "classify", str(docx_bomb(tmp / "big.docx", 18)), "--model", "fast"]

    def xlsx_bomb():
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["id", "text", "label"])
        book.active.append(["p1", "推进改革开放。", "reform_opening"])
        buf = io.BytesIO()
        book.save(buf)
        path = tmp / "bomb.xlsx"
        with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename != "xl/worksheets/sheet1.xml":
                    dst.writestr(item.filename, data)
                    continue
                head, tail = data.split(b"</worksheet>")
                with dst.open(item.filename, "w", force_zip64=True) as fh:  # 400 MB, streamed
                    fh.write(head)
                    for _ in range(400):
                        fh.write(b" " * 1_000_000)
                    fh.write(b"</worksheet>" + tail)
        return [*CLI, "validate-labels", "--labels", str(path)]

    def npz_huge_shape():
        m = model_copy(tmp, "npz")
        forge_coef_shape(m, (17, 50_000_000_000))
        return [*CLI, "classify", "--text", "推进改革开放。", "--model", str(m)]

    def card_dev_zero():
        m = model_copy(tmp, "zero")
        (m / "model.json").unlink()
        (m / "model.json").symlink_to("/dev/zero")
        return [*CLI, "classify", "--text", "推进改革开放。", "--model", str(m)]

    def card_fifo():
        m = model_copy(tmp, "fifo")
        (m / "model.json").unlink()
        os.mkfifo(m / "model.json")
        return [*CLI, "classify", "--text", "推进改革开放。", "--model", str(m)]

    def card_edit(edit):
        def make():
            m = model_copy(tmp, f"card{len(list(tmp.iterdir()))}")
            edit(m)
            return [*CLI, "classify", "--text", "推进改革开放。", "--model", str(m)]
        return make

    def card_text(m: Path, text: str):
        (m / "model.json").write_text(text, "utf-8")

    def set_temp(value):
        return card_edit(lambda m: edit_card(m, lambda c: c.__setitem__("temperature", value)))

    def csv_field():
        p = tmp / "field.csv"
        with open(p, "w", encoding="utf-8") as fh:
            fh.write('id,text\na,推进改革开放。\nb,"')
            for _ in range(200):
                fh.write("稳" * 333_334)  # 200 MB of UTF-8
            fh.write('"\nc,稳就业。\n')
        return [*CLI, "label", str(p), "--model", "fast", "-o", str(tmp / "field.jsonl")]

    def jsonl_line():
        p = tmp / "line.jsonl"
        with open(p, "w", encoding="utf-8") as fh:
            fh.write('{"id": "a", "text": "推进改革开放。"}\n{"id": "big", "text": "')
            for _ in range(200):
                fh.write("稳" * 333_334)
            fh.write('"}\n{"id": "c", "text": "稳就业。"}\n')
        return [*CLI, "label", str(p), "--model", "fast", "-o", str(tmp / "line.out.jsonl")]

    def lines(n):
        def make():
            p = tmp / f"lines{n}.txt"
            p.write_text("\n".join(["推进改革开放深化体制机制创新"] * n) + "\n", "utf-8")
            return [*CLI, "label", str(p), "--model", "fast", "-o", str(tmp / f"lines{n}.jsonl")]
        return make

    def bad_ids():
        p = tmp / "ids.jsonl"
        p.write_text('{"id": 1e400, "text": "推进改革。"}\n{"id": true, "text": "稳就业。"}\n'
                     '{"id": "ok", "text": "稳就业。"}\n', "utf-8")
        return [*CLI, "label", str(p), "--model", "fast", "-o", str(tmp / "ids.out.jsonl")]

    def process_substitution():
        return ['"$0" -m policy_nlp classify <(printf "各位代表：\\n推进改革开放。\\n") '
                "--model fast", sys.executable]

    def newline_name():
        d = tmp / "nl"
        d.mkdir()
        (d / "evil\npolicy-nlp: error: forged.txt").write_bytes(b"")
        (d / "good.txt").write_text("推进改革开放。\n", "utf-8")
        return [*CLI, "classify", str(d), "--model", "fast"]

    def codebook_100k():
        n = 100_000
        book, labels = tmp / "cb100k.toml", tmp / "lab100k.jsonl"
        with open(book, "w", encoding="utf-8") as f:
            f.write('name = "big"\n[[groups]]\nid = "g"\nzh = "g"\nen = "g"\n')
            for i in range(n):
                f.write(f'[[themes]]\nid = "t{i}"\ngroup = "g"\nzh = "主题{i}"\nen = "T{i}"\n')
        with open(labels, "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"id": f"p{i}", "text": f"第{i}段推进改革发展。",
                                    "label": f"t{i}", "report_id": f"r{i % 500}"},
                                   ensure_ascii=False) + "\n")
        return [*CLI, "validate-labels", "--labels", str(labels), "--codebook", str(book)]

    def xxe_docx():
        (tmp / "secret.txt").write_text("机密", "utf-8")
        p = docx_entities(tmp / "xxe.docx",
                          f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{tmp}/secret.txt">]>',
                          "推进改革开放。&x;")
        return [*CLI, "classify", str(p), "--model", "fast"]

    def laughs_docx():
        ents = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
        p = docx_entities(tmp / "laughs.docx", f'<!DOCTYPE d [<!ENTITY l0 "哈">{ents}]>',
                          "推进改革开放。&l9;")
        return [*CLI, "classify", str(p), "--model", "fast"]

    def pickle_npz():
        m = model_copy(tmp, "pickle")
        with zipfile.ZipFile(m / "weights.npz") as z:
            members = {n: z.read(n) for n in z.namelist()}
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.array([{"payload": 1}], dtype=object),
                                  allow_pickle=True)
        members["coef.npy"] = buf.getvalue()
        with zipfile.ZipFile(m / "weights.npz", "w") as z:
            for n, data in members.items():
                z.writestr(n, data)
        sha = hashlib.sha256((m / "weights.npz").read_bytes()).hexdigest()
        edit_card(m, lambda c: c["files"].__setitem__("weights.npz", sha))
        return [*CLI, "classify", "--text", "推进改革开放。", "--model", str(m)]

    return {
        "4 NUL byte in a UTF-8 CSV": nul_csv,
        "5 GBK file name, label -o -": gbk_name,
        "7 .docx of 400 MB XML": docx_400mb,
        "7 .docx of 18 MB XML: 3 million empty paragraphs": docx_18mb_allowed,
        "7 .xlsx labels of 400 MB XML": xlsx_bomb,
        "7/8 .npz with a huge .npy shape": npz_huge_shape,
        "7 model.json = /dev/zero": card_dev_zero,
        "7 model.json = FIFO": card_fifo,
        "7 200 MB CSV field": csv_field,
        "7 200 MB JSONL line": jsonl_line,
        "8 card with Infinity": card_edit(lambda m: card_text(
            m, (m / "model.json").read_text("utf-8").replace(
                '"temperature": 0.19', '"temperature": Infinity, "x": 0.19'))),
        "8 card nested 100,000 deep": card_edit(lambda m: card_text(
            m, '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")),
        "11 temperature 0": set_temp(0),
        "11 temperature NaN": set_temp(float("nan")),
        "11 temperature -1": set_temp(-1.0),
        "11 ids 1e400 and true": bad_ids,
        "10 25k lines, no end punctuation": lines(25_000),
        "10 50k lines, no end punctuation": lines(50_000),
        "10 100k lines, no end punctuation": lines(100_000),
        "12 <(…) input": process_substitution,
        "12 newline in a file name": newline_name,
        "12 validate a 100k-theme codebook": codebook_100k,
        "passes: XXE in .docx": xxe_docx,
        "passes: billion laughs in .docx": laughs_docx,
        "passes: pickle (object array) in weights.npz": pickle_npz,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="run the cases whose name holds one of these")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        print("| case | exit | first line on stderr | seconds | peak RSS (MB) |")
        print("|---|---|---|---|---|")
        for name, make in cases(tmp).items():
            if args.only and not any(o in name for o in args.only):
                continue
            command = make()
            shell = command[0].startswith('"$0"')
            code, first, seconds, rss = run(command, args.timeout, shell)
            first = first.replace(str(tmp), "$TMP").replace("|", "\\|")
            if len(first) > 160:
                first = first[:157] + "…"
            print(f"| {name} | {code} | `{first}` | {seconds:.1f} | {rss} |", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
