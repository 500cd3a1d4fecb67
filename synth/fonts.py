"""The fonts the generator writes with: kept with the forms (forms_templates/fonts.py), since reading a page needs
the label font too and must not import the generator."""

from yomitori.forms_templates.fonts import DEBIAN_PACKAGES, FONTS, LABEL_FONT, Font, covers, fonts, pil_font

__all__ = ["DEBIAN_PACKAGES", "FONTS", "LABEL_FONT", "Font", "covers", "fonts", "pil_font"]
