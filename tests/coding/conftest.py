"""Fixtures for the coding engine tests: the shipped rule book, and one with the 2027 example."""

from __future__ import annotations

import pytest

from slpterm.coding import RuleBook, load_rulebook

from .factory import install_example_2027


@pytest.fixture(scope="session")
def rulebook() -> RuleBook:
    return load_rulebook()


@pytest.fixture
def rulebook_2027(tmp_path) -> RuleBook:
    install_example_2027(tmp_path)
    return load_rulebook(tmp_path)


@pytest.fixture(scope="session")
def shared_rulebook_2027(tmp_path_factory) -> RuleBook:
    folder = tmp_path_factory.mktemp("rules-2027")
    install_example_2027(folder)
    return load_rulebook(folder)
