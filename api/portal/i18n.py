"""Message catalogues (``messages/<lang>.json``) and the choice of language for a request.

Every visible string of the portal is a key here: templates call ``t("key", name=value)``, Python
code passes keys, and the browser script gets the ``js.*`` and ``error.*`` keys of the page's
language. The language comes from ``?lang=``, else the ``scf_lang`` cookie, else Accept-Language.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import Request

LANGUAGES = ("en", "zh-CN")
DEFAULT = "en"
COOKIE = "scf_lang"
CATALOGUES = Path(__file__).parent / "messages"


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))


def negotiate(request: Request) -> str:
    """The language of ``request``: an explicit choice first, then the browser's preference."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


class _Blanks(dict[str, object]):
    """Placeholder values; one the caller did not give stays visible as ``{name}`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    """``t(key, **values)``: the message of ``key`` in one language, with ``{name}`` placeholders filled."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.messages = catalogue(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self.messages[key]  # a missing key is a bug the catalogue test catches
        return text.format_map(_Blanks(values)) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages

    def for_browser(self) -> dict[str, str]:
        """The messages the page script needs: its own strings and the error explanations."""
        return {k: v for k, v in self.messages.items() if k.startswith(("js.", "error."))}
