"""Finding email addresses without a regular expression engine, one `@` at a time.

(Not named `email.py`: that would hide the standard library's `email` package.)
"""

from __future__ import annotations

import string

_LOCAL = frozenset(string.ascii_letters + string.digits + "._%+-")
_DOMAIN = frozenset(string.ascii_letters + string.digits + ".-")


def redact(text: str, replacement: str) -> tuple[str, int] | None:
    """`text` with every email address replaced by `replacement`, and how many there were;
    `None` when there is none.

    >>> redact("mail ada@example.com now", "[email]")
    ('mail [email] now', 1)
    >>> redact('{"content":"a.b@c.io, d@e.fr"}', "?")
    ('{"content":"?, ?"}', 2)
    >>> redact("écrire à ada@example.com ✓", "[email]")
    ('écrire à [email] ✓', 1)
    >>> [redact(t, "x") for t in ("@home", "a@b", "a@b.c", "user@localhost", "é@ü.de", "a@.com", "x @ y.com", "a@b..com")]
    [None, None, None, None, None, None, None, None]
    """
    out: list[str] = []
    copied = count = at = 0
    while (i := text.find("@", at)) != -1:
        found = _address_around(text, i)
        if found is not None and found[0] >= copied:
            start, end = found
            out.append(text[copied:start])
            out.append(replacement)
            copied = at = end
            count += 1
        else:
            at = i + 1
    if count == 0:
        return None
    out.append(text[copied:])
    return "".join(out), count


def _address_around(text: str, at: int) -> tuple[int, int] | None:
    """The range of the address whose `@` is at `at`, if it is one: a local part of letters,
    digits and `._%+-`, a domain of labels joined by dots, ending in a top-level domain of
    two letters or more (ASCII only)."""
    start = at
    while start > 0 and text[start - 1] in _LOCAL:
        start -= 1
    while start < at and text[start] == ".":
        start += 1
    end = at + 1
    while end < len(text) and text[end] in _DOMAIN:
        end += 1
    while end > at + 1 and text[end - 1] in ".-":
        end -= 1
    host = text[at + 1 : end]
    tld = host.rsplit(".", 1)[-1]
    valid = (
        start < at
        and "." in host
        and not host.startswith(".")
        and ".." not in host
        and len(tld) >= 2
        and all(c in string.ascii_letters for c in tld)
    )
    return (start, end) if valid else None
