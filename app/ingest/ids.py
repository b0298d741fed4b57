"""The one grammar of the caller's ids (customers, items, orders, plans, events...),
the same at every entrance: CSV, bulk JSON, SQL import and the URL path.

An id is 1-255 characters once the whitespace around it is removed (as CSV cells
commonly carry it, and removed the same way on lookup, so ' C1' finds 'C1'). It holds
no control character and no '/', and is not '.' or '..': every id that can be
imported can then be named in a URL path, percent-encoded (a '/' would be decoded
before routing, even as %2F, and dot segments are removed by clients and proxies).
"""

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

ID_MAX = 255
_EDGE = r"[^/\s\x00-\x1f\x7f-\x9f]"
ID_PATTERN = rf"^(?!\.\.?$){_EDGE}(?:[^/\x00-\x1f\x7f-\x9f]*{_EDGE})?$"
RULE = f"1-{ID_MAX} characters, no '/' and no control characters"
ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX,
    "pattern": ID_PATTERN,
    "description": f"An id: {RULE}; whitespace around it is removed.",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def check_id(value: str) -> str:
    """`value` (stripped already) if it is an id; ValueError saying which rule it breaks."""
    if not value:
        raise ValueError(f"is empty: an id is {RULE}")
    if len(value) > ID_MAX:
        raise ValueError(f"is {len(value):,} characters long: an id is {RULE}")
    if "/" in value:
        raise ValueError(f"contains '/', which a URL path cannot carry: an id is {RULE}")
    control = _CONTROL.search(value)
    if control:
        name = unicodedata.name(control.group(), f"U+{ord(control.group()):04X}")
        raise ValueError(f"contains a control character ({name}): an id is {RULE}")
    if value in (".", ".."):
        raise ValueError(f"is {value!r}, which a URL path cannot carry: an id is {RULE}")
    return value


# The annotated type every id field and path parameter uses.
ExternalId = Annotated[
    str, BeforeValidator(_stripped), AfterValidator(check_id), WithJsonSchema(ID_SCHEMA)
]
