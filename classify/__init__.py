"""Page classification: which form and layout a page is, or `unknown`."""

from .fusion import Classification, classify

__all__ = ["Classification", "classify"]
