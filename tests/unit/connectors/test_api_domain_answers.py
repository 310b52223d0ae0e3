"""Every domain error has its own line in the API's table, so none answers as the generic refusal."""

from __future__ import annotations

from connectors import exceptions
from connectors.api.errors import DOMAIN_ANSWERS, domain_answer


def _subclasses(cls: type) -> set[type]:
    direct = set(cls.__subclasses__())
    return direct.union(*(_subclasses(sub) for sub in direct))


def test_each_domain_error_of_the_product_is_in_the_table() -> None:
    product = {cls for cls in _subclasses(exceptions.DomainError) if cls.__module__ == exceptions.__name__}
    assert product, "the domain errors are found"
    assert sorted(cls.__name__ for cls in product - DOMAIN_ANSWERS.keys()) == []


def test_a_subclass_answers_as_its_closest_listed_class() -> None:
    class Narrower(exceptions.NothingToSync):
        pass

    assert domain_answer(Narrower()) == DOMAIN_ANSWERS[exceptions.NothingToSync]
    assert domain_answer(exceptions.MappingInvalid("bad")).code == "mapping_invalid"
