"""One home folder and one set of generation defaults, read by every entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from medlab import cache, cli, defaults, types
from medlab.defaults import BATCH_SIZE, MAX_NEW_TOKENS, medlab_home
from medlab.models import hf, openai, standins


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Path.home() / ".cache" / "medlab"),
        ("", Path.home() / ".cache" / "medlab"),  # empty counts as unset
        ("~/medlab-home", Path.home() / "medlab-home"),  # ~ expanded
        ("/srv/medlab", Path("/srv/medlab")),
    ],
)
def test_medlab_home(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("MEDLAB_HOME", raising=False)
    else:
        monkeypatch.setenv("MEDLAB_HOME", value)
    assert medlab_home() == expected


def test_every_module_resolves_the_home_folder_the_same_way(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MEDLAB_HOME", "~/home")  # the hf fingerprint memo once left ~ as is
    c = cache.open_cache("sqlite")
    try:
        assert c.path == tmp_path / "home" / "cache.sqlite"
    finally:
        c.close()
    assert standins.medlab_home is cache.medlab_home is hf.medlab_home is defaults.medlab_home


def test_the_api_and_the_command_line_share_the_generation_defaults():
    args = cli.build_parser().parse_args(["eval", "--prompts", "p", "--eval-sets", "s"])
    api = types.GenerationParams()
    assert api.max_new_tokens == MAX_NEW_TOKENS == 512
    assert (args.temperature, args.top_p, args.max_new_tokens, args.seed) == (
        api.temperature, api.top_p, api.max_new_tokens, api.seed
    )  # fmt: skip
    chat = cli.build_parser().parse_args(["chat"])
    assert chat.max_new_tokens == MAX_NEW_TOKENS


def test_backends_batch_the_same_number_of_answers():
    import inspect

    assert BATCH_SIZE == 16
    assert inspect.signature(hf.HFBackend.__init__).parameters["batch_size"].default == BATCH_SIZE
    assert (
        inspect.signature(openai.OpenAIBackend.__init__).parameters["concurrency"].default
        == BATCH_SIZE
    )
