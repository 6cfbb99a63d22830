"""The registries other apps extend pages through (portal.registry): keyed and ordered alike."""

from dataclasses import dataclass

import pytest

from portal.registry import Registry


@dataclass(frozen=True)
class Spec:
    key: str
    order: int = 100


def test_specs_come_out_by_order_then_key_whatever_the_order_apps_register_them():
    registry = Registry[Spec]("spec")
    for spec in (Spec("b"), Spec("z", order=10), Spec("a")):
        registry.register(spec)
    assert [s.key for s in registry] == ["z", "a", "b"]


def test_a_key_taken_twice_is_a_start_up_error_naming_it():
    registry = Registry[Spec]("team panel")
    registry.register(Spec("alarms"))
    with pytest.raises(ValueError, match="a team panel 'alarms' is already registered"):
        registry.register(Spec("alarms", order=1))
    registry.unregister("alarms")
    registry.register(Spec("alarms", order=1))
    assert len(registry) == 1


def test_every_page_registry_is_one():
    from catalog import row_badges, tabs
    from portal import home_panels
    from portal.teams import panels

    registries = [tabs._registry, tabs._overview_panels, tabs._header_badges, row_badges._registry,
                  panels._registry, home_panels._registry]  # fmt: skip
    assert all(isinstance(r, Registry) for r in registries)
