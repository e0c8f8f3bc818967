"""The model: TF-IDF features -> a linear classifier -> calibrated theme probabilities.

A trained model is stored as *data*, never as pickled code, in a directory::

    model.json        the model card: themes, features, hyperparameters, metrics, provenance,
                      and the sha256 of each file below
    weights.npz       coefficients, intercepts and idf vectors (numpy arrays, no pickles)
    vocabulary.json   the feature vocabularies, one list of terms per feature block

Loading reads JSON and ``numpy.load(..., allow_pickle=False)``, so it cannot run code from the
files; each file's sha256 is checked against the card first, and a mismatch (a corrupted or
tampered file) is refused with :class:`~policy_nlp.errors.ModelError`.

Probabilities are ``softmax(scores / temperature)`` of the linear scores, where the
temperature was fitted on out-of-fold scores at training time (calibration).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import limits
from .errors import InputError, ModelError
from .features import Featurizer, FeatureSpec

CARD = "model.json"
WEIGHTS = "weights.npz"
VOCAB = "vocabulary.json"
FORMAT = "policy-nlp-linear/1"

log = logging.getLogger("policy_nlp.model")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with _open_model_file(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def text_hashes(texts: list[str]) -> np.ndarray:
    """64-bit BLAKE2b hashes of texts with their whitespace removed: a model keeps those of its
    training paragraphs (no text), so that scoring it on them can be told apart."""
    return np.fromiter((int.from_bytes(hashlib.blake2b("".join(t.split()).encode("utf-8"),
                                                       digest_size=8).digest(), "little")
                        for t in texts), np.uint64, len(texts))


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def sparse_dot(indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray,
               dense: np.ndarray) -> np.ndarray:
    """CSR ``(indptr, cols, vals)`` @ ``dense`` in float64.

    Small products are summed with numpy (so that classifying one paragraph does not import
    scipy, ~0.1 s); large ones use scipy's sparse product, without a (nnz, k) temporary. Both
    add a row's products one after the other in column order, as the compiled kernel does
    (:func:`policy_nlp.kernels.ngram_scores`), so a paragraph gets the same bits whichever
    way, and whatever the batch it comes in (``np.add.reduceat`` summed them otherwise).
    """
    n = len(indptr) - 1
    if len(cols) > 50_000:
        from scipy.sparse import csr_matrix

        x = csr_matrix((vals, cols, indptr), shape=(n, dense.shape[0]))
        return np.asarray(x @ dense)
    out = np.zeros((n, dense.shape[1]))
    contrib = dense[cols] * vals[:, None]
    for row, (start, end) in enumerate(zip(indptr[:-1].tolist(), indptr[1:].tolist(),
                                           strict=True)):
        if end > start:  # a running sum, in order: the last one is the row's product
            out[row] = np.add.accumulate(contrib[start:end], axis=0)[-1]
    return out


@dataclass
class ThemeModel:
    """A fitted linear theme classifier over TF-IDF features.

    Attributes
    ----------
    themes : list of str
        Theme ids in column order of :meth:`predict_proba`.
    featurizer : Featurizer
    coef : ndarray of shape (n_themes, n_features)
    intercept : ndarray of shape (n_themes,)
    temperature : float
        Softmax temperature fitted on out-of-fold scores.
    secondary_threshold : float
        Another theme is secondary when its probability reaches this.
    max_secondary : int
        At most this many secondary themes (the codebook allows two).
    card : dict
        Everything else recorded at training time (see ``model.json``).
    """

    themes: list[str]
    featurizer: Featurizer
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float = 1.0
    secondary_threshold: float = 0.3
    max_secondary: int = 2
    card: dict[str, Any] = field(default_factory=dict)
    #: :func:`text_hashes` of the training paragraphs (sorted), to tell when labels given for
    #: evaluation were training data; None for models saved without them
    training_hashes: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.coef = np.asarray(self.coef, dtype=np.float32)
        self.intercept = np.asarray(self.intercept, dtype=np.float64)
        n_themes = len(self.themes)
        if self.coef.shape != (n_themes, self.featurizer.n_features):
            raise ModelError(
                f"model weights have shape {self.coef.shape}, expected "
                f"({n_themes}, {self.featurizer.n_features})"
            )
        # one row of weights per feature: what the compiled kernel reads (float32, widened
        # exactly to float64 before each product)
        self._coef_t = np.ascontiguousarray(self.coef.T)
        self._coef_t64: np.ndarray | None = None

    # -- prediction -------------------------------------------------------------------------
    def decision_function(self, texts: list[str]) -> np.ndarray:
        """Linear scores, shape (len(texts), n_themes)."""
        texts = list(texts)
        scores = self.featurizer.dot(texts, self._coef_t)
        if scores is None:  # the same bits from the tf-idf matrix and its sparse product
            if self._coef_t64 is None:  # scipy would convert float32 at every batch
                self._coef_t64 = self._coef_t.astype(np.float64)
            indptr, cols, vals = self.featurizer.transform_arrays(texts)
            scores = sparse_dot(indptr, cols, vals, self._coef_t64)
        scores += self.intercept
        return scores

    def seen_in_training(self, texts: list[str]) -> np.ndarray | None:
        """Which of ``texts`` (whitespace aside) the model was trained on; None when the model
        did not keep its training paragraphs' hashes."""
        if self.training_hashes is None:
            return None
        return np.isin(text_hashes(texts), self.training_hashes)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), n_themes); rows sum to 1.

        Raises :class:`ModelError` if they are not finite numbers (weights so large that the
        scores overflow): written out, they would be invalid JSON (``NaN``)."""
        if isinstance(texts, str):
            raise TypeError("predict_proba expects a list of texts, not one string")
        scores = self.decision_function(texts)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            proba = softmax(scores, self.temperature)
        if not np.isfinite(proba).all():
            raise ModelError("the model gives scores that are not finite numbers (its weights "
                             "overflow); it is corrupt, retrain it")
        return proba

    def predict(self, texts: list[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.themes[i] for i in proba.argmax(axis=1)]

    @property
    def theme_groups(self) -> dict[str, str]:
        """Theme id -> group id, from the codebook in the card (empty if it has none)."""
        groups = getattr(self, "_theme_groups", None)
        if groups is None:
            themes = (self.card.get("codebook") or {}).get("themes") or []
            groups = {t["id"]: t["group"] for t in themes if "id" in t and "group" in t}
            self._theme_groups = groups
        return groups

    def secondary(self, proba_row: np.ndarray) -> list[str]:
        """Themes other than the top one whose probability reaches the threshold."""
        order = np.argsort(-proba_row, kind="stable")
        out = []
        for j in order[1 : 1 + self.max_secondary]:
            if proba_row[j] >= self.secondary_threshold:
                out.append(self.themes[j])
        return out

    def secondary_matrix(self, proba: np.ndarray, order: np.ndarray | None = None
                         ) -> list[list[str]]:
        """:meth:`secondary` of every row of ``proba`` at once; ``order`` is
        ``np.argsort(-proba, axis=1, kind="stable")`` if the caller has it."""
        if order is None:
            order = np.argsort(-proba, axis=1, kind="stable")
        cand = order[:, 1 : 1 + self.max_secondary]
        ok = np.take_along_axis(proba, cand, axis=1) >= self.secondary_threshold
        themes = self.themes
        if not ok.any():
            return [[] for _ in range(len(proba))]
        return [[themes[j] for j, good in zip(c, g, strict=True) if good]
                for c, g in zip(cand.tolist(), ok.tolist(), strict=True)]

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the model directory atomically (files written, then the directory renamed)."""
        directory = Path(directory)
        check_model_output(directory)
        parent = directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{directory.name}.tmp-{os.getpid()}"
        if tmp.exists():
            _rmtree(tmp)
        tmp.mkdir()
        blocks = self.featurizer.blocks
        arrays = {"coef": self.coef, "intercept": self.intercept}
        for b in blocks:
            arrays[f"idf_{b.kind}"] = b.idf
        if self.training_hashes is not None:
            arrays["training_hashes"] = np.asarray(self.training_hashes, np.uint64)
        _savez_reproducible(tmp / WEIGHTS, arrays)
        vocab = {b.kind: b.terms for b in blocks}
        (tmp / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
        card = dict(self.card)
        card.update(
            {
                "format": FORMAT,
                "themes": self.themes,
                "features": self.featurizer.spec.to_dict(),
                "feature_blocks": [b.kind for b in blocks],
                "n_features": self.featurizer.n_features,
                "temperature": self.temperature,
                "secondary_threshold": self.secondary_threshold,
                "max_secondary": self.max_secondary,
                "files": {
                    WEIGHTS: sha256_file(tmp / WEIGHTS),
                    VOCAB: sha256_file(tmp / VOCAB),
                },
            }
        )
        (tmp / CARD).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", "utf-8")
        if directory.exists():
            old = parent / f".{directory.name}.old-{os.getpid()}"
            directory.rename(old)
            tmp.rename(directory)
            _rmtree(old)
        else:
            tmp.rename(directory)
        self.card = card
        return directory


def check_model_output(directory: str | Path) -> None:
    """Check, before training, that a model can be written to ``directory``: it is new, empty
    or a model directory (never a folder of other files, nor a file: :class:`InputError`), and
    its place can be written to (:class:`OutputError`)."""
    from .write import check_output_dir

    directory = Path(directory)
    if directory.exists() and not _replaceable(directory):
        raise InputError(
            f"{directory}: exists and is not a policy-nlp model directory; refusing to "
            "replace it (choose a new or empty directory)"
        )
    check_output_dir(directory.parent)


def _replaceable(directory: Path) -> bool:
    """An existing path may be replaced by a model only if it is an empty directory or a model
    directory (its card names our format and it holds nothing but model files)."""
    if not directory.is_dir():
        return False
    names = {p.name for p in directory.iterdir()}
    if not names:
        return True
    if not names <= {CARD, WEIGHTS, VOCAB}:
        return False
    try:
        return json.loads((directory / CARD).read_text("utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _savez_reproducible(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``numpy.savez``, but byte-identical for the same arrays: numpy stamps each member of
    the zip with the current time; here every member gets the zip epoch, so training twice
    with the same data and seed gives the same weights file (and sha256).

    The members are stored, not deflated: inflating the default model's 13 MB of weights took
    ~0.07 s of every cold start (``classify``), for 6 MB less on disk (git and wheels deflate
    the file anyway). Models saved deflated, as before, load the same (:mod:`zipfile` reads
    both), and older versions of the package read stored members too."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(array), allow_pickle=False)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def read_card(directory: str | Path) -> dict[str, Any]:
    """The model card of a model directory, checked to be readable JSON."""
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"{directory}: no such model directory")
    if not directory.is_dir():
        raise ModelError(f"{directory}: a model is a directory holding {CARD}, {WEIGHTS}, {VOCAB}")
    path = directory / CARD
    if not path.exists():
        raise ModelError(f"{directory}: not a model directory (no {CARD})")
    from .read import NotFinite, loads_finite

    try:
        with _open_model_file(path) as fh:
            card = loads_finite(fh.read().decode("utf-8"))
    except NotFinite as exc:
        raise ModelError(f"{path}: corrupt model card ({exc.msg})") from None
    except RecursionError:
        raise ModelError(f"{path}: corrupt model card (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: corrupt model card ({exc})") from None
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        raise ModelError(f"{path}: not a {FORMAT} model card")
    return card


def load_model(directory: str | Path | None = None) -> ThemeModel:
    """Load a model directory; ``None`` loads the default model shipped with the package, and
    ``"fast"`` the shipped character-only model (see :func:`model_dir`).

    Every file's sha256 is checked against the card before it is read.
    """
    directory = model_dir(directory)
    card = read_card(directory)
    try:
        expected = card["files"]
        for name in (WEIGHTS, VOCAB):
            path = directory / name
            if not path.exists():
                raise ModelError(f"{directory}: model file {name} is missing")
            if sha256_file(path) != expected[name]:
                raise ModelError(
                    f"{path}: sha256 does not match the model card; the file was changed "
                    "after training, refusing to load it"
                )
        import orjson

        settings = _card_settings(card, directory / CARD)
        with _open_model_file(directory / VOCAB) as fh:
            vocab = orjson.loads(fh.read())  # ~3x json.loads, same lists
        arrays = _read_weights(directory / WEIGHTS)
        spec = FeatureSpec.from_dict(card["features"])
        _check_lexicon(card, directory)
        blocks = [(kind, vocab[kind], arrays[f"idf_{kind}"]) for kind in card["feature_blocks"]]
        featurizer = Featurizer(spec, blocks)
        return ThemeModel(
            themes=list(card["themes"]),
            featurizer=featurizer,
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            **settings,
            card=card,
            training_hashes=arrays.get("training_hashes"),
        )
    except ModelError:
        raise
    except (KeyError, ValueError, TypeError, OSError, OverflowError, RecursionError,
            MemoryError, json.JSONDecodeError) as exc:
        raise ModelError(f"{directory}: corrupt model ({type(exc).__name__}: {exc})") from None


def _open_model_file(path: Path):
    """A model file opened for reading: a regular file (never a FIFO or a device such as
    ``/dev/zero``) within :data:`~policy_nlp.limits.MODEL_FILE`, else :class:`ModelError`."""
    return limits.open_regular(path, str(path), limits.MODEL_FILE, error=ModelError)


#: The card's numbers a model needs, each with its default and the range it must lie in
#: (training fits the temperature between 0.01 and 100)
_SETTINGS = {"temperature": (1.0, 1e-3, 1e3), "secondary_threshold": (0.3, 0.0, 1.0),
             "max_secondary": (2, 0, 100)}


def _card_settings(card: dict[str, Any], path: Path) -> dict[str, Any]:
    """The temperature, secondary threshold and number of secondary themes of a card, checked:
    a temperature of 0 or NaN would make every score NaN, a negative one invert them."""
    out: dict[str, Any] = {}
    for name, (default, low, high) in _SETTINGS.items():
        value = card.get(name, default)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and low <= value <= high
                and (isinstance(default, float) or float(value).is_integer())):
            raise ModelError(f"{path}: corrupt model card ({name} is {value!r:.40}; it must be "
                             f"a number from {low:g} to {high:g})")
        out[name] = int(value) if isinstance(default, int) else float(value)
    return out


_MEMBER = re.compile(r"[A-Za-z0-9_]{1,64}\.npy")


def _read_weights(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``weights.npz``, each checked before it is read: the zip's size by
    :func:`~policy_nlp.limits.check_zip`, each member a plain name, its ``.npy`` header a
    numeric dtype (never objects: no pickles) and a shape whose bytes are the member's size
    (a forged shape would otherwise allocate what it claims); the floats finite."""
    arrays: dict[str, np.ndarray] = {}
    with _open_model_file(path) as fh, \
            limits.open_zip(fh, str(path), ModelError, what="weights file",
                            limit=limits.MODEL_FILE) as zf:
        for info in zf.infolist():
            if not _MEMBER.fullmatch(info.filename):
                raise ModelError(f"{path}: corrupt model (unexpected member "
                                 f"{info.filename!r:.80} in the weights)")
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"unsupported .npy version {version}")
                shape, _, dtype = read_header(member)
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise ModelError(f"{path}: corrupt model ({info.filename} is a {dtype} "
                                     "array, not numbers; never loaded: it could hold a pickle)")
                if math.prod(shape) * dtype.itemsize != info.file_size - member.tell():
                    raise ModelError(
                        f"{path}: corrupt model ({info.filename}: a {dtype} array of shape "
                        f"{shape!r:.60} does not fit the {info.file_size:,} bytes stored)")
            with zf.open(info) as member:
                array = np.lib.format.read_array(member, allow_pickle=False)
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise ModelError(f"{path}: corrupt model ({info.filename} holds numbers that "
                                 "are not finite)")
            arrays[info.filename.removesuffix(".npy")] = array
    return arrays


def _check_lexicon(card: dict[str, Any], directory: Path) -> None:
    """Warn when a model with word features was trained with another policy lexicon than the
    installed one: its words are then cut differently from training (predictions still run,
    but may be worse). Models without a recorded lexicon (older cards) are not checked."""
    if "word" not in card.get("feature_blocks", []):
        return
    trained = (card.get("tokenizer") or {}).get("lexicon_sha256")
    if not trained:
        return
    from .tokenize import lexicon_sha256

    if trained != lexicon_sha256():
        log.warning(
            "%s was trained with another policy lexicon (sha256 %s…) than the installed one "
            "(%s…): its word features are cut differently from training; retrain it with "
            "`policy-nlp train` for full accuracy", directory, trained[:12], lexicon_sha256()[:12])


#: The models shipped with the package, by name: ``--model fast`` loads the second.
SHIPPED_MODELS = ("default", "fast")


def default_model_dir() -> Path:
    """Where the shipped default model lives.

    ``POLICY_NLP_MODEL`` overrides it; otherwise the copy packaged in ``policy_nlp/models``,
    else ``models/default`` of a source checkout.
    """
    env = os.environ.get("POLICY_NLP_MODEL")
    if env:
        return Path(env)
    return shipped_model_dir("default")


def shipped_model_dir(name: str) -> Path:
    """The directory of a model shipped with the package (:data:`SHIPPED_MODELS`): the copy
    packaged in ``policy_nlp/models/NAME``, else ``models/NAME`` of a source checkout."""
    packaged = Path(str(resources.files("policy_nlp"))) / "models" / name
    if (packaged / CARD).exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "models" / name


def model_dir(directory: str | Path | None) -> Path:
    """The model directory a user named: None is the default model; a shipped model's name
    (``fast``) is that model, unless a directory of that name exists here; else the path."""
    if directory is None:
        return default_model_dir()
    path = Path(directory)
    if str(directory) in SHIPPED_MODELS and not path.exists():
        return shipped_model_dir(str(directory))
    return path
