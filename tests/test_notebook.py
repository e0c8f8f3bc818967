"""The notebooks run from top to bottom, so that they cannot rot.

They read the corpus in ../shared and are skipped where it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.corpus
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # jupyter_client's own
@pytest.mark.parametrize("name", ["01-theme-attention.ipynb",
                                  "02-attention-with-intervals.ipynb"])
def test_notebook_runs(shared, name, monkeypatch):
    if name.startswith("02"):
        from policy_nlp.model import load_model
        from policy_nlp.shares import ShareRates

        model = load_model()
        if ShareRates.from_card(model.card, model.themes) is None:
            pytest.skip("the default model's card has no misclassification rates (trained "
                        "before they were measured): retrain it to run this notebook")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("POLICY_NLP_SHARED", str(shared))  # the kernel inherits it
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError, naming the cell, if one fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 3
    assert any("claims hold" in o.get("text", "") for o in outputs)
