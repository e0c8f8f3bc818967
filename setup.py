"""Bundle the shipped models (``models/default``, ``models/fast``) into the installed package.

The model lives at the top of the repository, beside its card, where it is retrained and
reviewed; a regular (non-editable) install copies each to ``policy_nlp/models/NAME`` so that
``policy-nlp classify`` works on a machine with neither the checkout nor ``../shared``.
An editable install finds it in the checkout instead (see ``policy_nlp.model.default_model_dir``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithModel(build_py):
    def run(self):
        super().run()
        for name in ("default", "fast"):
            src = Path(__file__).resolve().parent / "models" / name
            if src.is_dir():
                dst = Path(self.build_lib) / "policy_nlp" / "models" / name
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst)


setup(cmdclass={"build_py": BuildPyWithModel})
