"""data.json: a resume continues on the recorded data, refuses other data, and notices changed files."""

import json

import pytest

from nmt import data_record as dr
from nmt.errors import UserError


def _files(tmp_path, name, text):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "a.src").write_text(text)
    (folder / "a.tgt").write_text(text.upper())
    return ((folder / "a.src"), (folder / "a.tgt"), None), (None, None, None)


def _model(tmp_path, record):
    model = tmp_path / "model"
    model.mkdir()
    dr.write(model, record)
    return model


def test_a_resume_without_options_gets_the_record_and_one_with_the_same_contents_is_accepted(tmp_path):
    record = dr.from_options(*_files(tmp_path, "one", "x y\nz\n"))
    model = _model(tmp_path, record)
    assert dr.resume_sources(model, None) == record
    moved = dr.from_options(*_files(tmp_path, "two", "x y\nz\n"))  # same bytes, other folder
    assert moved != record and dr.resume_sources(model, moved) == moved


@pytest.mark.parametrize("text", ["x y\n", "x y\nz", "x y\nz\n\n", "X y\nz\n"])
def test_any_other_content_is_other_data(tmp_path, text):
    model = _model(tmp_path, dr.from_options(*_files(tmp_path, "one", "x y\nz\n")))
    with pytest.raises(UserError, match="--resume continues on the same data"):
        dr.resume_sources(model, dr.from_options(*_files(tmp_path, "two", text)))


def test_embedded_and_files_differ_and_the_word_limit_counts(tmp_path):
    model = _model(tmp_path, dr.embedded(20))
    assert dr.resume_sources(model, None) == dr.embedded(20)
    with pytest.raises(UserError, match="the embedded corpus"):
        dr.resume_sources(model, dr.from_options(*_files(tmp_path, "one", "x\n")))
    assert not dr._same(dr.embedded(20)["train"], dr.embedded(None)["train"])


def test_no_record_needs_options_and_a_damaged_record_is_one_line(tmp_path):
    model = tmp_path / "old"
    model.mkdir()
    with pytest.raises(UserError, match="does not record what it was trained on"):
        dr.resume_sources(model, None)
    given = dr.from_options(*_files(tmp_path, "one", "x\n"))
    assert dr.resume_sources(model, given) == given
    (model / dr.DATA).write_text("{not json")
    with pytest.raises(UserError, match="is damaged"):
        dr.resume_sources(model, None)


def test_validation_files_alone_are_refused(tmp_path):
    train, _ = _files(tmp_path, "one", "x\n")
    with pytest.raises(UserError, match="validation files need training files too"):
        dr.from_options((None, None, None), train)
    assert dr.from_options((None, None, None), (None, None, None)) is None
    assert json.loads(json.dumps(dr.from_options(train, train)))["valid"]["format"] == "parallel"
