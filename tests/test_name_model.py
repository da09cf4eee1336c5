"""The name model: how much a Chinese string reads as a drug's name rather than a word."""

from __future__ import annotations

from medlab.lexicon.evidence import name_score
from medlab.lexicon.name_model import UNKNOWN, name_likelihood
from medlab.metrics.invented import SCORE_LIST

# names Qwen2.5 invented in the real-answer set, made of pieces of real names
INVENTED = ["利司匹林", "奥美西林", "他莫昔司", "痛舒宁", "扑洛芬", "苯妥拉唑", "阿托洛芬"]
# everyday words, foods of drug-like characters, places and people's names
WORDS = ["鸡蛋", "红枣枸杞", "北京大学", "面包", "张伟", "王芬", "苹果汁", "牛奶"]


def test_invented_names_score_above_everyday_words() -> None:
    assert min(map(name_likelihood, INVENTED)) > max(map(name_likelihood, WORDS))


def test_invented_names_pass_the_list_threshold_and_words_do_not() -> None:
    assert all(name_likelihood(n) >= SCORE_LIST for n in INVENTED)
    assert not any(name_likelihood(w) >= SCORE_LIST for w in WORDS)


def test_pairs_decide_where_characters_do_not() -> None:
    # 鸡 and 蛋 each appear in drug names (鸡内金, 蛋白琥珀酸铁): the per-character score finds
    # 鸡蛋 drug-like; as a pair they are a food
    assert name_score("鸡蛋") > 0
    assert name_likelihood("鸡蛋") < 0 < name_likelihood("洛芬")


def test_empty_and_unknown() -> None:
    assert name_likelihood("") == 0.0
    # characters neither source has seen are rare, not drug-like
    assert name_likelihood("龘䶮") <= UNKNOWN / 2
