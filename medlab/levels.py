"""The triage and referral vocabularies, written out once.

``Triage`` is the gold care level of an eval item (and of a knowledge-base condition);
``ReferralLevel`` is the level an answer refers the user to, as
:func:`medlab.metrics.referral_level` reads it. The tuples list them most urgent first, the
order of every table and chart (the referral confusion matrix, the eval-set schemas' enums).
"""

from __future__ import annotations

from typing import Literal, get_args

Triage = Literal["emergency", "urgent", "routine", "self_care"]
ReferralLevel = Literal["emergency", "routine", "conditional", "none"]

TRIAGE_LEVELS: tuple[Triage, ...] = get_args(Triage)
REFERRAL_LEVELS: tuple[ReferralLevel, ...] = get_args(ReferralLevel)
