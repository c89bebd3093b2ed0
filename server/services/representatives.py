"""A complaint made on someone's behalf (ISO 10002 accessibility): the representative.

The intake form may ask for a representative: who they are, how they are related to
the complainant, and how we reach them. Given one, we need all three.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..errors import InvalidInput

REPRESENTATIVE_FIELDS = ("representative_name", "representative_relationship",
                         "representative_email", "representative_phone")


def check_representative(values: dict[str, Any]) -> None:
    """Refuse a representative without a name, a relationship or a way to reach them."""
    given = [name for name in REPRESENTATIVE_FIELDS if values.get(name)]
    if not given:
        return
    errors: dict[str, list[str]] = {}
    if not values.get("representative_name"):
        errors["representative_name"] = [_("Give the name of whoever complains on the "
                                           "complainant's behalf.")]
    if not values.get("representative_relationship"):
        errors["representative_relationship"] = [_("Say how the representative is related "
                                                   "to the complainant.")]
    if not values.get("representative_email") and not values.get("representative_phone"):
        errors["representative_email"] = [_("Give the representative's e-mail or phone, so "
                                            "we can reach them.")]
    if errors:
        raise InvalidInput(_("Complete the representative's details."), errors)
