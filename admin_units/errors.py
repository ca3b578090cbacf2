"""Errors of the administrative-unit directory."""

from core.errors import NotFound


class ProvinceNotFound(NotFound):
    code, title = "province_not_found", "No province with this code"
