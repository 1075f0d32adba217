"""The CMS families a sandbox site can be rendered in."""

from sandbox.portal.families.base import Family
from sandbox.portal.families.generic import Generic
from sandbox.portal.families.gkmlpt import Gkmlpt
from sandbox.portal.families.jcms import Jcms
from sandbox.portal.families.plain import Plain
from sandbox.portal.families.trs import Trs

# every family of crawler.families.ADAPTERS, rendered (tests/test_crawler_family_set.py checks the two agree)
FAMILY_CLASSES: dict[str, type[Family]] = {family.name: family for family in (Trs, Jcms, Gkmlpt, Plain, Generic)}


def family(name: str) -> Family:
    return FAMILY_CLASSES[name]()


__all__ = ["Family", "FAMILY_CLASSES", "family"]
