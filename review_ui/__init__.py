"""Reserved room: see README (issue for the review_ui)."""
