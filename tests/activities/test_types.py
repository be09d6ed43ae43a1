"""The activity types match the reference endpoint's 91 values and labels exactly."""

import json
from pathlib import Path

import pytest

from activities.types import ActivityType, Category, category_of

SEED_TYPES = json.loads(
    (Path(__file__).parent.parent / "data" / "seed_activity_types.json").read_text()
)


def test_activity_types_equal_the_reference_list() -> None:
    assert len(SEED_TYPES) == 91
    assert [[t.value, t.label] for t in ActivityType] == SEED_TYPES


def test_category_of_every_type_is_known() -> None:
    assert {category_of(t.value) for t in ActivityType} == set(Category)
    assert category_of(205) is Category.GAME
    assert category_of(757) is Category.BLOG
    assert category_of(913) is Category.AI


def test_category_of_rejects_values_below_the_first_block() -> None:
    with pytest.raises(ValueError):
        category_of(99)
