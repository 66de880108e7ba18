"""``from meshserve.compat.ace3.utils import retry`` (000's ``ace3.utils``)."""

from meshserve.tools import retry

__all__ = ["retry"]
