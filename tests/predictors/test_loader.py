"""Building predictors from `implementation = "module:Class"`."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.model_settings import ModelSettings, read_model_folder
from app.predictors.loader import ImplementationError, build_predictor
from tests.repo import add_model
from tests.toys import Echo


def _model_code(tag: str, extra: str = "") -> str:
    return f"from app import Predictor\n{extra}\n\nclass Model(Predictor):\n    tag = {tag!r}\n"


def _settings(folder: Path) -> list[ModelSettings]:
    return read_model_folder(folder)


def test_module_in_the_model_folder(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:Model")
    (folder / "model.py").write_text(_model_code("folder"))
    (settings,) = _settings(folder)
    predictor = build_predictor(settings)
    assert getattr(predictor, "tag", None) == "folder"
    assert predictor.settings is settings


def test_version_folder_comes_before_the_model_folder(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:Model", versions=["1", "2"])
    (folder / "model.py").write_text(_model_code("folder"))
    (folder / "2" / "model.py").write_text(_model_code("version 2"))
    tags = [getattr(build_predictor(s), "tag", None) for s in _settings(folder)]
    assert tags == ["folder", "version 2"]


def test_module_on_sys_path(tmp_path: Path) -> None:
    (settings,) = _settings(add_model(tmp_path, "m", "tests.toys:Echo"))
    assert type(build_predictor(settings)) is Echo


def test_models_with_their_own_model_py_do_not_collide(tmp_path: Path) -> None:
    first = add_model(tmp_path, "first", "model:Model")
    second = add_model(tmp_path, "second", "model:Model")
    (first / "model.py").write_text(_model_code("first"))
    (second / "model.py").write_text(_model_code("second"))
    predictors = [build_predictor(_settings(f)[0]) for f in (first, second, first)]
    assert [getattr(p, "tag", None) for p in predictors] == ["first", "second", "first"]
    assert type(predictors[0]) is not type(predictors[1])


def test_model_code_imports_its_siblings(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "model:Model")
    (folder / "helpers.py").write_text("TAG = 'from a sibling'\n")
    (folder / "model.py").write_text(
        "from app import Predictor\nfrom .helpers import TAG\n\n\n"
        "class Model(Predictor):\n    tag = TAG\n"
    )
    assert getattr(build_predictor(_settings(folder)[0]), "tag", None) == "from a sibling"


def test_package_in_the_model_folder(tmp_path: Path) -> None:
    folder = add_model(tmp_path, "m", "code.model:Model")
    (folder / "code").mkdir()
    (folder / "code" / "__init__.py").write_text("")
    (folder / "code" / "model.py").write_text(_model_code("package"))
    assert getattr(build_predictor(_settings(folder)[0]), "tag", None) == "package"


@pytest.mark.parametrize(
    ("implementation", "code", "expected"),
    [
        ("model", None, "implementation 'model' must be 'module:Class'"),
        (":Model", None, "implementation ':Model' must be 'module:Class'"),
        ("model:", None, "implementation 'model:' must be 'module:Class'"),
        (
            "no_such_module_here:Model",
            None,
            "cannot import 'no_such_module_here:Model': ModuleNotFoundError: "
            "No module named 'no_such_module_here'",
        ),
        (
            "model:Model",
            "1 / 0",
            "cannot import 'model:Model': ZeroDivisionError: division by zero",
        ),
        ("model:Model", "def broken(:", "cannot import 'model:Model': SyntaxError: "),
        ("model:Missing", "", "'model:Missing' is not a subclass of app.predictors.Predictor"),
        ("model:VALUE", "VALUE = 3", "'model:VALUE' is not a subclass of app.predictors.Predictor"),
        (
            "tests.toys:NotAPredictor",
            None,
            "'tests.toys:NotAPredictor' is not a subclass of app.predictors.Predictor",
        ),
    ],
)
def test_bad_implementations(
    tmp_path: Path, implementation: str, code: str | None, expected: str
) -> None:
    folder = add_model(tmp_path, "m", implementation)
    if code is not None:
        (folder / "model.py").write_text(code + "\n")
    with pytest.raises(ImplementationError) as caught:
        build_predictor(_settings(folder)[0])
    assert str(caught.value).startswith(expected), str(caught.value)
