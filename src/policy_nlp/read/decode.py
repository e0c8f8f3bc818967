"""Bytes -> text: the encodings of Chinese reports, detected; binary files refused.

A text arrives in any of the encodings that Chinese government sites and repositories use
(UTF-8 with or without BOM, UTF-16 with or without BOM, GB18030 and its subsets GBK/GB2312);
anything else is detected with charset-normalizer. :func:`decode_bytes` decodes a file read
whole; :func:`open_text` opens one for streaming, its encoding sniffed from its first megabyte
that is not ASCII; :func:`jsonl_lines` gives the lines of a JSONL file each decoded on its own,
so that one bad line is one problem. Every choice is logged on the ``policy_nlp.read`` logger.
"""

from __future__ import annotations

import codecs
import functools
import io
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .. import limits
from ..errors import InputError, InputWarning
from ..text import is_blank
from .problems import OnError, handle_problem

__all__ = ["bounded_lines", "decode_bytes", "decode_line", "decode_report", "decode_text_line",
           "jsonl_encoding", "jsonl_lines", "line_codec", "open_text", "read_bytes",
           "read_head", "read_pipe", "stream_lines"]

log = logging.getLogger("policy_nlp.read")

_FALLBACK_ENCODINGS = ("utf-8", "gb18030")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"\x84\x31\x95\x33", "gb18030"),  # U+FEFF in GB18030
)
_BINARY_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP, e.g. .docx or .xlsx"),
    (b"\xd0\xcf\x11\xe0", "old MS Office, e.g. .doc or .xls; save it as .docx"),
    (b"{\\rtf", "RTF; save it as .docx"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf", "7z archive"),
    (b"Rar!", "RAR archive"),
    (b"\x7fELF", "executable"),
)
_SNIFF_BYTES = 1 << 20
#: A decoded text with more than this share of control characters is binary.
_MAX_CONTROL_SHARE = 0.02
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1a\x1b") + b"\x7f"


def decode_bytes(data: bytes, *, source: str) -> tuple[str, str]:
    """Decode the bytes of a text file, detecting the encoding.

    Tried in order: a UTF-8 or UTF-16 byte-order mark, plain UTF-8, GB18030 (a superset of GBK
    and GB2312) if the result reads as Chinese, UTF-16 without a mark, then the encoding
    charset-normalizer detects (logged, as every choice, on the ``policy_nlp.read`` logger).
    Binary files (known magic numbers, NUL bytes, many control characters) are refused.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : str
        Name used in error messages (a path, ``"<stdin>"``).

    Returns
    -------
    tuple of (str, str)
        The text (not yet normalised) and the name of the encoding used.

    Raises
    ------
    InputError
        If the data is empty or blank, looks binary, or decodes in none of the encodings.
    InputWarning
        If the data is UTF-8 cut inside its last character (a truncated file): ``recovered``
        holds the text without it and the encoding.

    Examples
    --------
    >>> decode_bytes("各位代表：".encode("gb18030"), source="a.txt")
    ('各位代表：', 'gb18030')
    """
    try:
        text, encoding = _decode(data, source)
    except InputWarning as warning:
        text, encoding = warning.recovered
        _check_not_blank(text, source)
        raise
    _check_not_blank(text, source)
    return text, encoding


def _check_not_blank(text: str, source: str) -> None:
    if is_blank(text):
        raise InputError(f"{source}: file is empty")


def read_bytes(path: Path) -> bytes:
    """A regular file's bytes, within :data:`~policy_nlp.limits.FILE`."""
    try:
        with limits.open_regular(path, str(path), limits.FILE) as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_pipe(path: Path) -> bytes:
    """The bytes of a pipe (a FIFO, a shell's ``<(…)``), within :data:`~policy_nlp.limits.FILE`:
    read once, as standard input is (a pipe cannot be read twice, nor its size known)."""
    try:
        with open(path, "rb") as fh:
            return limits.read_limited(fh, limits.FILE, str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_head(path: Path, n: int = 4096) -> bytes:
    try:
        with limits.open_regular(path, str(path)) as fh:
            return fh.read(n)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def decode_report(data: bytes, source: str, on_error: OnError | None) -> tuple[str, str]:
    try:
        return decode_bytes(data, source=source)
    except InputWarning as warning:
        handle_problem(on_error, warning)
        return warning.recovered


def _decode(data: bytes, source: str, *, final: bool = True) -> tuple[str, str]:
    """Decode ``data`` (BOM, binary check, UTF-8, GB18030, detection); no check for blank text.

    With ``final=False``, ``data`` is the head of a longer file and may end inside a character.
    """
    if not data:
        raise InputError(f"{source}: file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = _decode_as(data[len(bom) :], encoding.removesuffix("-sig"), final)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{source}: cannot decode as {encoding} although it starts with its "
                    f"byte-order mark ({exc.reason} at byte {exc.start + len(bom)})"
                ) from None
            return _not_binary(text, source), encoding
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError(f"{source}: looks like a binary file ({kind}), not text")
    nuls = data.count(b"\x00")
    if nuls:
        found = _utf16_without_bom(data, final)
        if found is not None:
            log.info("%s: encoding %s detected (UTF-16 without a byte-order mark)", source,
                     found[1])
            return _not_binary(found[0], source), found[1]
        if nuls > max(_MAX_CONTROL_SHARE * len(data), 1):
            raise InputError(
                f"{source}: looks like a binary file (it contains NUL bytes), not text")
        # a stray NUL in text (a bad copy, a database export): decoded as the text around it,
        # never the reason to take UTF-8 for another encoding
        log.info("%s: %d NUL bytes in the text", source, nuls)
    try:
        return _not_binary(_decode_as(data, "utf-8", final), source), "utf-8"
    except UnicodeDecodeError as exc:
        if final and exc.reason == "unexpected end of data" and exc.end == len(data):
            kept = data[: exc.start].decode("utf-8", errors="strict")  # valid: the error is last
            raise InputWarning(
                f"{source}: ends inside a UTF-8 character (a truncated file?); the incomplete "
                f"character ({len(data) - exc.start} bytes) was dropped",
                recovered=(_not_binary(kept, source), "utf-8"),
            ) from None
    gb = None
    try:
        gb = _decode_as(data, "gb18030", final)
        if _reads_as_chinese(gb):
            return _not_binary(gb, source), "gb18030"
    except UnicodeDecodeError:
        pass
    _refuse_broken_utf8(data, source)
    detected = _detect(data, source, final)
    if detected is not None:
        return detected
    if gb is not None:
        log.info("%s: read as gb18030, although many characters are rare ones", source)
        return _not_binary(gb, source), "gb18030"
    head = data[:65536]
    controls = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
    if controls > _MAX_CONTROL_SHARE * len(head):
        raise InputError(f"{source}: looks like a binary file ({controls / len(head):.0%} of its "
                         "bytes are control characters), not text")
    raise InputError(
        f"{source}: cannot decode as text (tried utf-8, gb18030 and charset detection)"
    )


def _decode_as(data: bytes, encoding: str, final: bool) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=final)


def _is_control(c: str) -> bool:
    return c not in "\t\n\r\x0b\x0c\x1a\x1c\x1d\x1e\x1f\x85" and unicodedata.category(c) == "Cc"


def _not_binary(text: str, source: str) -> str:
    """``text`` itself, unless so many of its characters are control characters that it is a
    binary file that happened to decode."""
    sample = text[:65536]
    if sample:
        controls = sum(1 for c in sample if _is_control(c))
        # (one stray control character, a NUL say, never makes a short text binary)
        if controls > max(_MAX_CONTROL_SHARE * len(sample), 1):
            raise InputError(
                f"{source}: looks like a binary file ({controls / len(sample):.0%} of its "
                "characters are control characters), not text"
            )
    return text


_COMMON_TEXT = re.compile(r"[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u3000-\u303f"
                          r"\u4e00-\u9fff\uff00-\uffef]")


def _refuse_broken_utf8(data: bytes, source: str) -> None:
    """Refuse data that starts as UTF-8 text (not only ASCII) and stops being UTF-8 later: a
    file in two encodings (UTF-8 lines, then GB18030 ones), or a damaged one. No encoding reads
    all of it, and a detected one (cp1250, say) would only turn the UTF-8 part into mojibake.
    A stream (JSONL, CSV) is read in UTF-8 instead, its lines that do not decode reported."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start > 0 and not data[: exc.start].isascii():
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{source}: cannot decode as text: UTF-8 until line {line}, which is not "
                f"({exc.reason} at byte {exc.start}); is the file in one encoding? Save it "
                "as UTF-8") from None


def _utf16_without_bom(data: bytes, final: bool) -> tuple[str, str] | None:
    """UTF-16 text without a byte-order mark, little- or big-endian: the byte order in which the
    data decodes to common characters (Chinese, ASCII, punctuation) at least 95% of the time,
    and whose Chinese characters are common ones (:func:`_reads_as_chinese`, however short the
    text). The wrong order, or binary data with NUL bytes (``abc\0def``), gives characters from
    all over Unicode, or rare hanzi."""
    if len(data) % 2 and final:
        return None
    best = None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = _decode_as(data, encoding, final)
        except UnicodeDecodeError:
            continue
        sample = text[:65536]
        share = len(_COMMON_TEXT.findall(sample)) / max(len(sample), 1)
        if share >= 0.95 and _reads_as_chinese(sample, min_sample=1) and (
                best is None or share > best[0]):
            best = (share, text, encoding)
    return (best[1], best[2]) if best else None


def _reads_as_chinese(text: str, min_sample: int = 20) -> bool:
    """Whether GB18030-decoded text reads as Chinese: most non-ASCII characters are common ones
    (GB2312 hanzi and punctuation). Big5, EUC-KR or Shift-JIS bytes also decode as GB18030,
    but into kana, Cyrillic and rare characters. Fewer than ``min_sample`` non-ASCII characters
    are too few to tell: they read as Chinese."""
    sample = [c for c in text[:20000] if ord(c) > 0x7F]
    if len(sample) < min_sample:
        return True
    common = 0
    for c in sample:
        try:
            b = c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if b[0] >= 0xB0 or b[0] in (0xA1, 0xA2, 0xA3):
            common += 1
    return common >= 0.8 * len(sample)


def _detect(data: bytes, source: str, final: bool) -> tuple[str, str] | None:
    """The encoding charset-normalizer detects, if the data decodes in it."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a core dependency
        log.info("%s: charset-normalizer is not installed; no detection", source)
        return None
    best = from_bytes(data[: 4 * _SNIFF_BYTES]).best()
    if best is None:
        return None
    encoding = codecs.lookup(best.encoding).name
    try:
        text = _decode_as(data, encoding, final)
    except (UnicodeDecodeError, LookupError):
        return None
    text = _not_binary(text, source)
    if not _reads_as_east_asian(text):
        log.info("%s: charset-normalizer detects %s, which does not give Chinese (or other "
                 "East Asian) text: not taken", source, encoding)
        return None
    log.info("%s: encoding %s detected by charset-normalizer (not UTF-8 or GB18030)", source,
             encoding)
    return text, encoding


_EAST_ASIAN = re.compile(r"[ᄀ-ᇿ -⁯　-ヿ㄰-㆏ㇰ-鿿"
                         r"가-힯豈-﫿＀-￯𠀀-𿿿]")


def _reads_as_east_asian(text: str) -> bool:
    """Whether a detected encoding's text reads as Chinese, Japanese or Korean: at least 80% of
    its non-ASCII characters are hanzi, kana, hangul or their punctuation. Mojibake (UTF-8 or
    GB18030 bytes read in a single-byte code page such as cp1250) is Latin letters and
    symbols, and is never taken for the text."""
    sample = [c for c in text[:20000] if ord(c) > 0x7F]
    return not sample or sum(1 for c in sample if _EAST_ASIAN.match(c)) >= 0.8 * len(sample)


def _sniff_stream(raw: IO[bytes], source: str) -> tuple[str, bool]:
    """Detect the encoding of a file opened in binary, from its first megabyte -- or, if that is
    all ASCII, from its first megabyte that is not (so that a GB18030 file is not taken for UTF-8
    because its first records are ASCII). Returns the encoding and whether the file is blank."""
    head = raw.read(_SNIFF_BYTES)
    if not head:
        raise InputError(f"{source}: file is empty")
    probe, eof = head, len(head) < _SNIFF_BYTES
    if not any(head.startswith(bom) for bom, _ in _BOMS):
        for magic, kind in _BINARY_MAGIC:
            if head.startswith(magic):
                raise InputError(f"{source}: looks like a binary file ({kind}), not text")
        while probe.isascii() and not eof:
            chunk = raw.read(_SNIFF_BYTES)
            eof = len(chunk) < _SNIFF_BYTES
            if chunk:
                probe = chunk
    try:
        text, encoding = _decode(probe, source, final=eof)
    except InputWarning as warning:  # a truncated last character: the reader reports it
        text, encoding = warning.recovered
    except InputError:
        mixed = _leading_encoding(probe)
        if mixed is None:
            raise
        # a file in two encodings: read it in the one it starts with; the records that do
        # not decode are reported one by one
        log.info("%s: not all in one encoding; read as %s, the one it starts with", source, mixed)
        return mixed, False
    blank = eof and probe is head and is_blank(text)
    return encoding, blank


def _leading_encoding(data: bytes) -> str | None:
    """UTF-8 or GB18030, if the data starts with (non-ASCII) text in it and only later fails."""
    for encoding in _FALLBACK_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start > 0 and not data[: exc.start].isascii():
                return encoding
    return None


def open_text(path: Path, *, newline: str | None = None) -> tuple[IO[str], str]:
    """Open ``path`` for streaming text, the encoding detected as :func:`_sniff_stream` does."""
    raw = limits.open_regular(path, str(path))  # streamed: no limit on the whole
    try:
        encoding, blank = _sniff_stream(raw, str(path))
        if blank:
            raise InputError(f"{path}: file is empty")
        raw.seek(0)
        head = raw.read(4)
        # past a byte-order mark the codec would read as U+FEFF (UTF-8's: utf-8-sig, or the
        # JSONL reader, drops it)
        raw.seek(next((len(bom) for bom, name in _BOMS if name == encoding
                       and head.startswith(bom)), 0))
        if encoding.startswith("utf-16") and raw.tell() == 0:
            raw.seek(2 if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else 0)
        log.info("%s: encoding %s", path, encoding)
        # bytes that do not decode become lone surrogates, which stream_lines finds in the
        # line that has them (a strict stream fails at the chunk of 8 KB that holds them)
        errors = "strict" if encoding.startswith("utf-16") else "surrogateescape"
        return (io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline=newline),
                encoding)
    except BaseException:
        raw.close()
        raise


_UNDECODED = re.compile("[\udc80-\udcff]")  # a byte that did not decode (surrogateescape)


def stream_lines(stream: IO[str], source: str, encoding: str) -> Iterator[str]:
    """Iterate over the lines of a stream of :func:`open_text`, turning a decoding error into
    :class:`InputError` at the line that has it (the lines before it are yielded)."""
    n = 0
    cap = limits.FIELD.bytes
    try:
        for line in iter(functools.partial(stream.readline, cap + 1), ""):
            if len(line) > cap and line[-1] != "\n":
                raise InputError(limits.FIELD.message(f"{source}:{n + 1}") +
                                 "; the rest of the file was not read")
            n += 1
            if _UNDECODED.search(line) is not None:
                codec = line_codec(encoding)
                problem = decode_text_line(Path(source), n,
                                           line.encode(codec, "surrogateescape"), codec)
                if isinstance(problem, InputError):
                    raise InputError(f"{problem} The rest of the file was not read")
            yield line
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: cannot decode as {encoding} after line {n} ({exc.reason}); "
            "is the file in one encoding? The rest of the file was not read"
        ) from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read after line {n} ({exc.strerror or exc})") from None


def jsonl_lines(path: Path, stream: IO[str], encoding: str
                 ) -> Iterator[tuple[int, str | bytes | InputError]]:
    """The lines of a JSONL file, numbered from 1, each decoded on its own (UTF-8 lines are
    left to orjson, see :func:`decode_line`): a line that does not decode is an
    :class:`InputError` in place of its text, and the lines after it still count.
    (UTF-16 files, whose line breaks are two bytes, are decoded as a stream instead.)"""
    if encoding.startswith("utf-16"):
        with stream:
            yield from enumerate(stream_lines(stream, str(path), encoding), 1)
        return
    raw = stream.detach()
    codec = line_codec(encoding)
    with raw:
        lineno = 0
        try:
            for lineno, data in enumerate(bounded_lines(raw), 1):
                yield lineno, decode_line(path, lineno, data, codec)
        except OSError as exc:
            raise InputError(
                f"{path}: cannot read after line {lineno} ({exc.strerror or exc})"
            ) from None


def bounded_lines(raw: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary file as iterating it gives them, but a line longer than
    :data:`~policy_nlp.limits.FIELD` is cut to one byte over it (the rest is read and
    dropped), so that no line fills memory; :func:`decode_line` reports it."""
    cap = limits.FIELD.bytes
    for data in iter(functools.partial(raw.readline, cap + 1), b""):
        if len(data) > cap and data[-1] != 10:
            rest = data
            while rest and rest[-1] != 10:
                rest = raw.readline(1 << 20)
            data += b"\n"
        yield data


def line_codec(encoding: str) -> str:
    """The codec each line of a JSONL file in ``encoding`` is decoded with (not UTF-16)."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def decode_line(path: Path, lineno: int, data: bytes, codec: str) -> str | bytes | InputError:
    """One line of a JSONL file (bytes; a byte-order mark on line 1 and the line break dropped) for
    :func:`jsonl_records`: in UTF-8 the bytes as they are (orjson reads them without a decoded
    copy, and checks that they are UTF-8; the few lines it cannot read are decoded then), in
    other encodings the text, or the :class:`InputError` that says it does not decode."""
    if lineno == 1:  # a byte-order mark (UTF-8's, or GB18030's in a file in GB18030)
        for bom, name in _BOMS:
            if data.startswith(bom) and (name == "utf-8-sig" or name == codec):
                data = data[len(bom):]
                break
    if data.endswith(b"\n"):  # as the workers' blocks give it: the same columns in messages
        data = data[:-1]
    if len(data) > limits.SHORT and len(data) > limits.FIELD.bytes:  # cut by bounded_lines
        return InputError(limits.FIELD.message(f"{path}:{lineno}") + "; the line was skipped")
    if codec == "utf-8":
        return data
    return decode_text_line(path, lineno, data, codec)


def decode_text_line(path: Path, lineno: int, data: bytes, codec: str) -> str | InputError:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        return InputError(
            f"{path}:{lineno}: cannot decode as {codec} ({exc.reason} at byte "
            f"{exc.start}); is the file in one encoding?"
        )


def jsonl_encoding(path: Path) -> str:
    """The encoding :func:`read_documents` reads a JSONL file in (InputError for a file it
    cannot read at all: missing, empty, binary, undecodable)."""
    stream, encoding = open_text(path)
    stream.close()
    return encoding
