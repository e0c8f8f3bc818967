"""The annotation tools' files: Label Studio and doccano, written and read.

Written (for coders to code):

* :func:`label_config`: the Label Studio labeling configuration of a codebook: the primary
  theme as one choice (``theme``), its choices grouped under the codebook's groups with their
  Chinese names; secondary themes as several choices (``secondary``);
* :func:`label_studio_tasks` / :func:`write_label_studio_tasks`: Label Studio tasks (a JSON
  list) from sheet rows (``suggest``'s), the model's guess as a prediction (pre-annotation)
  with its probability as score;
* :func:`doccano_records`: doccano text-classification JSONL (``text``, an empty ``label``
  list, the rest as metadata).

Read (coded): :func:`annotations_from_export` turns the records of a Label Studio export
(JSON, JSON-MIN or CSV, already parsed into dicts by :mod:`policy_nlp.read.records`) into one
:class:`Annotation` per annotation, several per task when several annotators coded it; a task
no one coded gives one with ``label=None``. doccano's JSONL needs no reader of its own: its
``label`` list is read by the table reader (:mod:`policy_nlp.read.records`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import quoteattr

from .codebook import Codebook
from .errors import InputError
from .read import jsonl_loads

#: the names of the configuration's controls (``from_name`` in the exports) and text object
PRIMARY, SECONDARY, TEXT = "theme", "secondary", "text"
#: the task field holding our paragraph id (Label Studio's JSON-MIN and CSV exports give the
#: task's own number as ``id``, so ours needs another name)
ID_FIELD = "paragraph_id"
#: the fields of a flat export (JSON-MIN, CSV) that are Label Studio's, not the task's data
_SHEET_FIELDS = {"text", ID_FIELD, "report_id", "guess", "guess_zh", "second", "rank",
                 "probability", "second_probability", "margin", "level", "section"}
_LS_META = {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time",
            "agreement", "drafts", "predictions", "annotations", "data"}


def label_config(codebook: Codebook) -> str:
    """The Label Studio labeling configuration (XML) of ``codebook``.

    Each choice stores the theme id (``alias``) and shows its Chinese and English names; the
    primary theme's choices sit under a header per group (its Chinese name)."""
    def choice(theme) -> str:
        shown = f"{theme.zh} {theme.en} ({theme.id})" if theme.zh else theme.id
        hint = f" hint={quoteattr(theme.description)}" if theme.description else ""
        return f'      <Choice value={quoteattr(shown)} alias={quoteattr(theme.id)}{hint}/>'

    lines = ['<View>', '  <Header value="$report_id"/>',
             f'  <Text name="{TEXT}" value="$text"/>',
             '  <Header value="主题 primary theme (one)"/>',
             f'  <Choices name="{PRIMARY}" toName="{TEXT}" choice="single-radio" '
             'required="true" showInline="false">']
    for group_id, group in codebook.groups.items():
        members = [t for t in codebook.themes if t.group == group_id]
        if not members:
            continue
        title = " ".join(x for x in (group.get("zh", ""), group.get("en", "")) if x) or group_id
        lines.append('    <View>')
        lines.append(f'      <Header size="6" value={quoteattr(title)}/>')
        lines.extend(choice(t) for t in members)
        lines.append('    </View>')
    lines += ['  </Choices>', '  <Header value="次要主题 secondary themes (any)"/>',
              f'  <Choices name="{SECONDARY}" toName="{TEXT}" choice="multiple" '
              'showInline="true">']
    lines.extend(choice(t).replace("      ", "    ", 1) for t in codebook.themes)
    lines += ['  </Choices>', '</View>']
    return "\n".join(lines) + "\n"


def _choice_result(name: str, choices: list[str], score: float | None = None) -> dict:
    out: dict[str, Any] = {"from_name": name, "to_name": TEXT, "type": "choices",
                           "value": {"choices": choices}}
    if score is not None:
        out["score"] = score
    return out


def label_studio_tasks(rows: Iterable[dict[str, Any]], *, model_version: str = "policy-nlp",
                       text_key: str = "text", id_key: str = "id",
                       guess_key: str = "guess", score_key: str = "probability"
                       ) -> list[dict[str, Any]]:
    """Label Studio tasks from sheet rows: ``data`` holds the row (its id as ``paragraph_id``),
    and a row with a guess gets it as a prediction, its probability as the score. Each task
    has its number (1, 2 …) as ``id``, so that the file, coded without Label Studio, still
    reads as one task per row (Label Studio gives imported tasks numbers of its own).

    The coders see the guess pre-selected and accept or change it; what they submit is the
    annotation, which the readers take (predictions are never read as labels)."""
    tasks = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row.get(text_key), str):
            raise InputError(f"a task needs a text ({text_key!r}): {row!r:.80}")
        data = {(ID_FIELD if k == id_key else k): v for k, v in row.items()
                if k != "label" and v is not None}
        task: dict[str, Any] = {"id": number, "data": data}
        guess = row.get(guess_key)
        if guess:
            score = row.get(score_key)
            score = float(score) if score not in (None, "") else None
            task["predictions"] = [{"model_version": model_version, "score": score,
                                    "result": [_choice_result(PRIMARY, [str(guess)], score)]}]
        tasks.append(task)
    return tasks


def write_label_studio_tasks(rows: Iterable[dict[str, Any]], out: IO[str], **kwargs) -> int:
    """Write :func:`label_studio_tasks` of ``rows`` to ``out`` as one JSON list (what Label
    Studio's import takes); the number of tasks. ``out`` is a text stream, e.g. from
    :func:`policy_nlp.write.atomic_output`."""
    tasks = label_studio_tasks(rows, **kwargs)
    out.write(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    return len(tasks)


def doccano_records(rows: Iterable[dict[str, Any]], *, text_key: str = "text",
                    id_key: str = "id") -> Iterable[dict[str, Any]]:
    """doccano text-classification records: ``text``, ``label`` (empty: the coder fills it;
    doccano would take a label given here as the coder's own) and the rest of the row as
    metadata, the id as ``paragraph_id``."""
    for row in rows:
        rec: dict[str, Any] = {"text": row[text_key], "label": []}
        rec.update({(ID_FIELD if k == id_key else k): v for k, v in row.items()
                    if k not in (text_key, "label") and v is not None})
        yield rec


@dataclass
class Annotation:
    """One coder's coding of one task of an export (``label`` None: not coded)."""

    where: str  # file and task, for messages
    task: str  # the task's number in the tool
    id: str  # our paragraph id (the task's number when the task has none)
    text: str | None
    coder: str  # the annotator, as the export names them ("" when it does not)
    label: str | None
    secondary: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # the task's data


def is_label_studio_records(records: Sequence[dict]) -> bool:
    """Whether parsed records are Label Studio's: tasks with their ``data`` (an export in
    JSON, or the tasks we wrote), or flat rows with ``annotation_id`` / ``annotator``
    (JSON-MIN, CSV)."""
    first = next((r for r in records if isinstance(r, dict)), None)
    if first is None:
        return False
    return isinstance(first.get("data"), dict) or (
        "annotation_id" in first or "annotator" in first)


def _choices(value, where: str) -> list[str]:
    """The choices of a result value in any export's shape: a list, ``{"choices": [...]}``,
    a JSON string of either (CSV), or one plain string."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text[0] in "[{":
            try:
                value = jsonl_loads(text)  # (as every JSON the package reads)
            except json.JSONDecodeError:
                return [text]
        else:
            return [text]
    if isinstance(value, dict):
        value = value.get("choices", [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InputError(f"{where}: cannot read the choices {value!r:.80}")


def _coder(value) -> str:
    if isinstance(value, dict):
        value = value.get("email") or value.get("id")
    return "" if value is None else str(value)


def _task_id(data: dict, task) -> str:
    for key in (ID_FIELD, "id"):
        if data.get(key) not in (None, ""):
            return str(data[key])
    return str(task)


def annotations_from_export(records: Sequence[dict], source: str, *,
                            primary: str = PRIMARY, secondary: str = SECONDARY,
                            text_key: str = "text") -> list[Annotation]:
    """Every annotation of a Label Studio export (JSON, or the flat JSON-MIN and CSV), in
    task order; a task without an annotation (or with only cancelled or empty ones) gives one
    with ``label=None``. ``primary``/``secondary`` name the choice controls."""
    out: list[Annotation] = []
    for k, rec in enumerate(records, 1):
        if not isinstance(rec, dict):
            raise InputError(f"{source}: record {k} is not a JSON object")
        if "data" in rec and isinstance(rec["data"], dict):
            out.extend(_from_task(rec, k, source, primary, secondary, text_key))
        else:
            out.append(_from_flat(rec, k, source, primary, secondary, text_key))
    if not any(a.label for a in out):
        others = _controls(records) - {primary, secondary}
        if others:
            raise InputError(f"{source}: no choices named {primary!r}, but "
                             f"{', '.join(sorted(others))}: a project with another labeling "
                             f"configuration? Name its control: {source}:label=NAME")
    return out


def _controls(records: Sequence[dict]) -> set[str]:
    """The names of the controls the annotations of an export filled in."""
    names: set[str] = set()
    for rec in records:
        if isinstance(rec.get("data"), dict):  # (damaged shapes: refused by _from_task)
            names |= {res.get("from_name") for ann in rec.get("annotations") or []
                      if isinstance(ann, dict) for res in ann.get("result") or []
                      if isinstance(res, dict) and res.get("from_name")}
        elif rec.get("annotation_id") not in (None, ""):
            # a flat export's task fields cannot be told from its controls by name: all but
            # Label Studio's own and those of our tasks (suggest's sheet) are candidates
            names |= {key for key, v in rec.items() if isinstance(v, str | dict | list)
                      and key not in _LS_META and key not in _SHEET_FIELDS}
    return names


def _objects(value: Any, what: str) -> list[dict]:
    """A list of JSON objects of an export (``annotations``, ``result``; absent: none)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(f"{what} is not a list of objects (a damaged export?)")
    return value


def _from_task(task: dict, k: int, source: str, primary: str, secondary: str,
               text_key: str) -> list[Annotation]:
    data = task["data"]
    # a task without a number (ours, before they had one, coded outside Label Studio): its place
    tid = str(task["id"]) if task.get("id") not in (None, "") else str(k)
    where = f"{source}: task {tid}"
    pid = _task_id(data, tid)
    text = data.get(text_key)
    found = []
    for ann in _objects(task.get("annotations"), f"{where}: 'annotations'"):
        if ann.get("was_cancelled"):
            continue
        first: list[str] = []
        second: list[str] = []
        for res in _objects(ann.get("result"), f"{where}: an annotation's 'result'"):
            if res.get("from_name") == primary:
                first += _choices(res.get("value"), where)
            elif res.get("from_name") == secondary:
                second += _choices(res.get("value"), where)
        if len(first) > 1:
            raise InputError(f"{where}: annotator {_coder(ann.get('completed_by'))} chose "
                             f"{len(first)} primary themes ({', '.join(first)}); one is needed")
        found.append(Annotation(where=where, task=tid, id=pid, text=text,
                                coder=_coder(ann.get("completed_by")),
                                label=first[0] if first else None, secondary=second,
                                fields=dict(data)))
    if not any(a.label for a in found):
        return [Annotation(where=where, task=tid, id=pid, text=text, coder="", label=None,
                           fields=dict(data))]
    return found


def _from_flat(rec: dict, k: int, source: str, primary: str, secondary: str,
               text_key: str) -> Annotation:
    tid = str(rec.get("id", k))
    where = f"{source}: task {tid}"
    data = {key: v for key, v in rec.items()
            if key not in _LS_META and key not in (primary, secondary)}
    first = _choices(rec.get(primary), where)
    if len(first) > 1:
        raise InputError(f"{where}: {len(first)} primary themes ({', '.join(first)}); one "
                         "is needed")
    return Annotation(where=where, task=tid, id=_task_id(data, tid), text=rec.get(text_key),
                      coder=_coder(rec.get("annotator")), label=first[0] if first else None,
                      secondary=_choices(rec.get(secondary), where), fields=data)


def write_sheet(rows: Iterable[dict[str, Any]], out: IO[str], fmt: str, **kwargs) -> int:
    """Write a coding sheet's rows in an annotation tool's format: ``"label-studio"`` (tasks,
    JSON; ``kwargs`` go to :func:`label_studio_tasks`) or ``"doccano"`` (JSONL)."""
    if fmt == "label-studio":
        return write_label_studio_tasks(rows, out, **kwargs)
    if fmt == "doccano":
        from .write import write_jsonl

        return write_jsonl(doccano_records(rows), out)
    raise ValueError(f"unknown sheet format {fmt!r}")
