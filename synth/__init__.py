"""Synthetic scan generator: realistic records written on a layout, then scanned."""
