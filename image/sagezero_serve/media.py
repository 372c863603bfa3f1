"""Media types: parse Content-Type and Accept (with q-values), choose answers, validate a handler's type.

Accept follows RFC 9110: the most specific matching range sets a type's quality, and q=0 means "not
acceptable". A malformed Accept is the client's error (400) rather than something to guess around.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sagezero_serve.errors import BadRequest, HTTPError

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
OCTET = "application/octet-stream"
ENCODABLE = (JSON, CSV, NPY, OCTET)

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t !-~])*"'
# A concrete media type a response may carry: type/subtype, parameters, no wildcards, ASCII only.
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[ \t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))*")
_RANGE = re.compile(rf"(?:{_TOKEN}/{_TOKEN}|\*)")
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?|\.[0-9]{1,3})")


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (header or "").split(";", 1)[0].strip().lower()


def is_valid_media_type(value: object) -> bool:
    """True for a header-safe concrete media type such as `text/csv; charset=utf-8`."""
    return isinstance(value, str) and _MEDIA_TYPE.fullmatch(value) is not None and "*" not in value.split(";")[0]


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    position: int

    def specificity(self, media: str) -> int:
        """2 exact, 1 `type/*`, 0 `*/*`, -1 no match."""
        t, s = media.split("/", 1)
        if (self.type, self.subtype) == (t, s):
            return 2
        if self.type == t and self.subtype == "*":
            return 1
        if self.type == "*" and self.subtype == "*":
            return 0
        return -1


_UNQUOTED_OR_QUOTED = re.compile(r'(?:[^"]+|"(?:[^"\\]|\\.)*"?)')


def _split(text: str, sep: str) -> list[str]:
    """text split at sep, except inside quoted strings (a parameter may be `"a,b;c"`)."""
    parts, current = [], ""
    for piece in _UNQUOTED_OR_QUOTED.findall(text):
        if piece.startswith('"'):
            current += piece
            continue
        first, *rest = piece.split(sep)
        current += first
        if rest:
            parts.append(current)
            *middle, current = rest
            parts.extend(middle)
    return [*parts, current]


def parse_accept(header: str) -> list[MediaRange]:
    """The ranges of an Accept header; BadRequest (400) naming the first part that is not one."""
    ranges: list[MediaRange] = []
    for position, part in enumerate(_split(header, ",")):
        if not part.strip():
            continue
        name, *params = (p.strip() for p in _split(part, ";"))
        if not _RANGE.fullmatch(name):
            raise BadRequest(f"Accept: {part.strip()[:60]!r} is not a media range like application/json")
        type_, _, subtype = ("*/*" if name == "*" else name.lower()).partition("/")
        if type_ == "*" and subtype != "*":
            raise BadRequest(f"Accept: {name[:60]!r} is not a media range (*/subtype is not allowed)")
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                if not _QVALUE.fullmatch(value.strip()):
                    raise BadRequest(f"Accept: q={value.strip()[:20]!r} in {name[:40]!r} is not a weight from 0 to 1")
                q = float(value)
                break  # what follows q are extension parameters, which do not select a type
        ranges.append(MediaRange(type_, subtype, q, position))
    return ranges


def acceptable(accept: str | None, request_type: str) -> list[str]:
    """The types this server can write that the client accepts, best first; 406 when there are none.

    Quality comes from the most specific matching range. Ties go to the range that names the type
    more precisely, then to the earlier range, then to the request's own type, then to JSON. No
    Accept at all means JSON first.
    """
    request = media_type(request_type)
    ranges = parse_accept(accept or "")
    if not ranges:
        return sorted(ENCODABLE, key=lambda m: (m != JSON, m != request, ENCODABLE.index(m)))
    scored: list[tuple[float, int, int, bool, bool, int, str]] = []
    for media in ENCODABLE:
        matches = [(r.specificity(media), -r.position, r) for r in ranges if r.specificity(media) >= 0]
        if not matches:
            continue
        spec, _, best = max(matches, key=lambda m: (m[0], m[1]))
        if best.q > 0:
            scored.append(
                (-best.q, -spec, best.position, media != request, media != JSON, ENCODABLE.index(media), media)
            )
    if not scored:
        raise HTTPError(406, f"Accept {accept!r:.200} cannot be served; this model answers {', '.join(ENCODABLE)}")
    return [s[-1] for s in sorted(scored)]


def quality(ranges: list[MediaRange], media: str) -> float:
    """The client's weight for a concrete type: from the most specific matching range (the earlier of
    equals); 1 without an Accept header, 0 when no range matches."""
    if not ranges:
        return 1.0
    matches = [(r.specificity(media), -r.position, r) for r in ranges if r.specificity(media) >= 0]
    return max(matches, key=lambda m: (m[0], m[1]))[2].q if matches else 0.0


def check_handler_type(accept: str | None, content_type: str) -> None:
    """406 when a handler's own answer carries a type the client did not accept (or refused with q=0)."""
    media = media_type(content_type)
    if quality(parse_accept(accept or ""), media) <= 0:
        raise HTTPError(406, f"Accept {accept!r:.200} does not accept {media!r:.80}, the type this model answers with")


def preferred(accept: str | None) -> str:
    """The type to label an output_fn answer that did not name one: the best concrete type accepted, else JSON."""
    try:
        ranges = parse_accept(accept or "")
    except BadRequest:
        return JSON
    concrete = [r for r in ranges if r.q > 0 and "*" not in (r.type, r.subtype)]
    if not concrete:
        return JSON
    best = min(concrete, key=lambda r: (-r.q, r.position))
    return f"{best.type}/{best.subtype}"
