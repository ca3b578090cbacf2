"""Shapes of the administrative-unit directory."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["tinh", "thanh_pho", "phuong", "xa", "dac_khu"]


class AdminUnit(BaseModel):
    """A province, or a ward, commune or special zone, in the post-July-2025 directory."""

    code: str = Field(description="National Statistics Office code: '48', '20242'.")
    name: str = Field(description="Official Vietnamese name: 'Phường Hải Châu'.")
    level: Literal["province", "ward"]
    kind: Kind | None = Field(
        description="tinh / thanh_pho (province), phuong / xa / dac_khu (ward level); "
        "null for units recorded outside the national directory."
    )
    province_code: str | None = Field(
        description="The province: its own code for a province, its parent for a ward."
    )
