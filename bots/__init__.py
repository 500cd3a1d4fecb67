"""Reserved room: see README (issue for the bots)."""
