"""Base types every layer uses: records, headers, errors, URLs, the version.

`frozen`, `field`, `replace` and `FrozenInstanceError` are public: the value
classes of a runtime built on the core (options, timeouts) can be declared the way
the core declares its own, with the same construction cost and the same
type-checker support.
"""

from ._record import FrozenInstanceError as FrozenInstanceError
from ._record import field as field
from ._record import frozen as frozen
from ._record import replace as replace

__all__ = ["FrozenInstanceError", "field", "frozen", "replace"]
