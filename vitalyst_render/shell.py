"""Shell text made from values: the scripts the roles write (backup jobs, the exporter's
start line, the maintenance window) take values only through these functions.

A value is either quoted (:func:`word`, ``shlex.quote``: the shell reads it back as
exactly one word) or it must be a plain word (:func:`plain`): names, numbers, paths and
durations that no POSIX shell reads specially, in or out of double quotes, and that
cannot start an option, an assignment or a tilde expansion. A value outside that
alphabet fails the render as a :class:`TemplateError` (a bug: the profile types keep
such values out) instead of reaching a script.

>>> fill("mkdir -p /backups/{name} && find /backups/{name} -mtime +{days}", name="redis", days=7)
'mkdir -p /backups/redis && find /backups/redis -mtime +7'
>>> word("it's; rm -rf /")
'\\'it\\'"\\'"\\'s; rm -rf /\\''
"""

from __future__ import annotations

import re
import shlex

from .errors import TemplateError

#: Letters, digits and ``_ . / : -``, starting with a letter, digit or ``/``.
PLAIN = re.compile(r"[A-Za-z0-9/][A-Za-z0-9_./:-]*")


def word(value: str | int) -> str:
    """One shell word that the shell reads back as exactly ``value``."""
    return shlex.quote(str(value))


def plain(value: str | int) -> str:
    """``value`` as text when it is a plain shell word; a TemplateError otherwise."""
    text = str(value)
    if not PLAIN.fullmatch(text):
        raise TemplateError(f"cannot put {text!r} into a shell script unquoted: it is not a plain word")
    return text


def fill(script: str, **values: str | int) -> str:
    """``script.format(...)`` with every value a plain word."""
    return script.format(**{key: plain(value) for key, value in values.items()})
