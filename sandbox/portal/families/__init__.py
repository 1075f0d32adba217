"""The CMS families a sandbox site can be rendered in."""

from sandbox.portal.families.base import Family
from sandbox.portal.families.generic import Generic
from sandbox.portal.families.gkmlpt import Gkmlpt
from sandbox.portal.families.jcms import Jcms
from sandbox.portal.families.plain import Plain
from sandbox.portal.families.trs import Trs

FAMILY_CLASSES: dict[str, type[Family]] = {
    "trs": Trs, "jcms": Jcms, "gkmlpt": Gkmlpt, "plain": Plain, "generic": Generic,
}


def family(name: str) -> Family:
    return FAMILY_CLASSES[name]()


__all__ = ["Family", "FAMILY_CLASSES", "family"]
