"""Page classification: which form and layout a page is, or `unknown`."""

from .layout_match import Classification, classify

__all__ = ["Classification", "classify"]
