"""The national directory of administrative units (provinces, wards and communes) and its search."""
