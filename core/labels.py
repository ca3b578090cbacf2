"""Vietnamese words for codes that several packages print (exports, the person's data export,
partner workbooks and reports), kept once here so a file, a PDF and a workbook never name the same
thing two ways. The web app's words for the same codes are in web/static/js/lib/i18n.js;
tests/core/test_labels.py checks that both say the same."""

from __future__ import annotations

# How a stallholder learns that a payment arrived (stall.confirm_by, merchants.schemas.ConfirmBy).
CONFIRM_TOOLS_VI = {
    "bank_app": "Thông báo trên ứng dụng ngân hàng/ví",
    "sound_box": "Loa báo tiền",
    "sms": "Tin nhắn SMS báo số dư",
}
CONFIRM_NONE_VI = "Chưa có cách nào"  # asked, and the stallholder checks nothing

# A partner's onboarding of an account (partners.schemas.STATUSES), in running text; a column
# header starts with a capital (onboarding_header).
ONBOARDING_STATUS_VI = {
    "pending": "chờ kích hoạt",
    "active": "đang hoạt động",
    "suspended": "tạm ngưng",
    "removed": "đã gỡ",
}


def onboarding_header(status: str) -> str:
    """The status as a column header: "Chờ kích hoạt"."""
    word = ONBOARDING_STATUS_VI[status]
    return word[:1].upper() + word[1:]


# The digital-transformation support package (merchants.schemas.SUPPORT_ITEMS, in its order), and
# what was done about an item at a stall.
SUPPORT_ITEMS_VI = {
    "sales_app": "Phần mềm bán hàng",
    "digital_signature": "Chữ ký số",
    "e_invoice": "Hóa đơn điện tử",
    "domain": "Tên miền .biz.vn",
    "payment_account": "Tài khoản thanh toán điện tử",
    "ecommerce": "Bán hàng trên sàn thương mại điện tử",
}
SUPPORT_STATES_VI = {"offered": "Đã giới thiệu", "delivered": "Đã nhận", "declined": "Không cần"}

# Other ways a stall takes payment besides its VietQR sign (merchants.schemas.ALSO_ACCEPTS).
ALSO_ACCEPTS_VI = {
    "card": "Thẻ (máy POS)",
    "intl_qr": "QR quốc tế",
    "phone_transfer": "Chuyển tiền qua số điện thoại",
}
ALSO_ACCEPTS_NONE_VI = "Chỉ biển VietQR"  # asked: the VietQR sign only
