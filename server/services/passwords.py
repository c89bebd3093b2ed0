"""The one rule for new passwords: long enough, and not common or easy to guess.

zxcvbn's offline lists decide what is common (its "passwords" list, from breaches) and how
guessable the rest is; the account's own username, name and e-mail count as guessable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable" against online and slow attacks
CHECKED = 128  # zxcvbn's time grows with length; a longer password's tail adds only strength


def problems(password: str, about: Iterable[str | None] = ()) -> list[str]:
    """What is wrong with `password` as a new password (empty when it is fine).

    `about` holds what others know of the account (username, name, e-mail): a password
    mostly made of those is refused.
    """
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(num)d characters: a few unrelated words make a long "
                  "password that is easy to remember.", num=MIN_LENGTH)]
    words = sorted({part.lower() for value in about if value
                    for part in (value, *re.split(r"[\s@._+-]+", value)) if len(part) > 2},
                   key=len, reverse=True)
    checked = password[:CHECKED]
    found = zxcvbn(checked, user_inputs=words)
    # One common password with a little added ("Password1234!") is still that password;
    # several common words together make a passphrase, which zxcvbn's score judges.
    common = max((len(m["token"]) for m in found["sequence"]
                  if m.get("dictionary_name") == "passwords"), default=0)
    if common >= len(checked) / 2:
        return [_("This password is on the lists of common and breached passwords that "
                  "attackers try first. Choose another: a few unrelated words work well.")]
    rest = checked.lower()
    for word in words:
        rest = rest.replace(word, "")
    if sum(ch.isalnum() for ch in rest) < MIN_LENGTH / 2:
        return [_("This password is mostly your username, name or e-mail, which others "
                  "can guess. Choose words that have nothing to do with the account.")]
    if found["score"] < MIN_SCORE:
        return [_("This password is too easy to guess (a common pattern, word or sequence). "
                  "Make it longer with a few unrelated words.")]
    return []
