"""The lexicon store: built structures are loaded back equal, never stale, never lost on errors."""

from __future__ import annotations

import gzip
import pickle

import pytest

import medlab.lexicon as lexicon
from medlab.lexicon import store
from medlab.lexicon.evidence import _common_zh

CALLS: list[str] = []


def _build_words() -> dict[str, tuple[str, str]]:
    CALLS.append("built")
    return {"布洛芬": ("generic", "ibuprofen"), "advil": ("brand", "ibuprofen")}


def _build_bad_row() -> dict[str, str]:
    raise ValueError("drugs.tsv.gz:3: expected name, lang, kind (generic|brand), canonical")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDLAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MEDLAB_LEXICON_CACHE", raising=False)
    CALLS.clear()
    return tmp_path / "home" / "lexicon"


@pytest.fixture
def lexicon_copy(tmp_path, monkeypatch):
    folder = tmp_path / "lexicon_data"
    folder.mkdir()
    for p in lexicon.data_dir().iterdir():
        if p.is_file():
            (folder / p.name).write_bytes(p.read_bytes())
    monkeypatch.setenv("MEDLAB_LEXICON_DIR", str(folder))
    return folder


def _files(folder):
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


def test_built_once_then_loaded_equal(home):
    first = store.compiled("words", _build_words)
    second = store.compiled("words", _build_words)
    assert first == second == {"布洛芬": ("generic", "ibuprofen"), "advil": ("brand", "ibuprofen")}
    assert CALLS == ["built"]  # the second process-like call loaded it
    (name,) = _files(home)
    assert name.startswith("words-") and name.endswith(".pickle")


def test_real_structures_load_equal_to_a_fresh_build(home):
    from medlab.metrics.drug_index import _build_automata

    assert store.compiled("common_zh", _common_zh) == _common_zh()
    assert store.compiled("common_zh", _common_zh) == _common_zh()  # now from the file
    fresh_zh, fresh_en = _build_automata()
    loaded_zh, loaded_en = store.compiled("drug_automata", _build_automata)
    loaded_zh, loaded_en = store.compiled("drug_automata", _build_automata)
    assert sorted(loaded_zh.items()) == sorted(fresh_zh.items())
    assert sorted(loaded_en.items()) == sorted(fresh_en.items())
    text = "建议服用布洛芬缓释胶囊或tylenol".encode().decode("latin-1")
    assert list(loaded_zh.iter_long(text)) == list(fresh_zh.iter_long(text))


def test_an_edited_lexicon_file_is_built_afresh(home, lexicon_copy):
    before = store.key(_build_words)
    store.compiled("words", _build_words)
    with open(lexicon_copy / "stoplist.txt", "a", encoding="utf-8") as f:
        f.write("新停用词\n")
    after = store.key(_build_words)
    assert after != before
    store.compiled("words", _build_words)
    assert CALLS == ["built", "built"]
    assert len(_files(home)) == 2


def test_a_changed_extra_part_is_a_new_key(home):
    assert store.key(_build_words, ("pyahocorasick 2.1",)) != store.key(
        _build_words, ("pyahocorasick 2.2",)
    )
    assert store.key(_build_words) == store.key(_build_words)


def test_a_corrupt_file_warns_and_is_replaced(home):
    store.compiled("words", _build_words)
    (path,) = home.glob("words-*.pickle")
    path.write_bytes(b"\x80\x05 not a pickle")
    with pytest.warns(UserWarning, match=r"words-.*\.pickle: unreadable"):
        value = store.compiled("words", _build_words)
    assert value["布洛芬"] == ("generic", "ibuprofen")
    assert pickle.loads(path.read_bytes()) == value  # replaced by a good one
    store.compiled("words", _build_words)
    assert CALLS == ["built", "built"]


@pytest.mark.filterwarnings("error")
def test_a_home_that_cannot_be_written_still_answers(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("MEDLAB_HOME", str(blocker))
    CALLS.clear()
    assert store.compiled("words", _build_words)["advil"] == ("brand", "ibuprofen")
    assert store.compiled("words", _build_words)["advil"] == ("brand", "ibuprofen")
    assert CALLS == ["built", "built"]  # built in every call, never an error


def test_off_switch_builds_every_time_and_writes_nothing(home, monkeypatch):
    monkeypatch.setenv("MEDLAB_LEXICON_CACHE", "off")
    assert not store.enabled()
    store.compiled("words", _build_words)
    store.compiled("words", _build_words)
    assert CALLS == ["built", "built"]
    assert _files(home) == []


def test_a_build_error_is_raised_and_nothing_is_stored(home):
    with pytest.raises(ValueError, match=r"drugs\.tsv\.gz:3: expected"):
        store.compiled("bad", _build_bad_row)
    assert _files(home) == []


def test_a_bad_lexicon_row_still_names_file_and_line(home, lexicon_copy):
    with gzip.open(lexicon_copy / "drugs.tsv.gz", "wt", encoding="utf-8") as f:
        f.write(
            "name\tlang\tkind\tcanonical\n布洛芬\tzh\tgeneric\tibuprofen\n美林\tzh\tbrandx\tibuprofen\n"
        )
    lexicon.drug_names.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"drugs\.tsv\.gz:3: expected .*kind"):
            lexicon.drug_names()
    finally:
        lexicon.drug_names.cache_clear()
    assert not list(home.glob("drug_names-*"))


def test_only_the_newest_files_of_a_name_are_kept(home):
    for version in range(store.KEEP + 2):
        store.compiled("words", _build_words, (f"v{version}",))
    assert len(list(home.glob("words-*.pickle"))) == store.KEEP
    assert not list(home.glob("*.tmp"))  # no half-written file left behind
    assert store.compiled("words", _build_words, (f"v{store.KEEP + 1}",))  # newest still there
    assert len(CALLS) == store.KEEP + 2
