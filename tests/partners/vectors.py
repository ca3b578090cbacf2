"""Signature vectors shared by the scheme tests and the endpoint tests.

MoMo and VNPay are the published worked examples of the reference (domain.md §c); ZaloPay and payOS
have no published vector with a known key, so these are our own, cross-checked with `openssl dgst`.
"""

from __future__ import annotations

from typing import Any

MOMO_ACCESS_KEY = "F8BBA842ECF85"
MOMO_SECRET_KEY = "K951B6PE1waDMi640xX08PD3vg6EkVlz"
MOMO_IPN: dict[str, Any] = {
    "partnerCode": "MOMO",
    "orderId": "MOMO1712108682648",
    "requestId": "MOMO1712108682648",
    "amount": 10000,
    "orderInfo": "pay with MoMo",
    "orderType": "momo_wallet",
    "transId": 4014083433,
    "resultCode": 0,
    "message": "Thành công.",
    "payType": "qr",
    "responseTime": 1712108811069,
    "extraData": "",
}
MOMO_SIGNATURE = "10398fbe70cd3052f443da99f7c4befbf49ab0d0c6cd7dc14efffd6e09a526c0"

VNPAY_SECRET = "test_secret"
VNPAY_PARAMS = {
    "vnp_Amount": "1000000",
    "vnp_BankCode": "NCB",
    "vnp_BankTranNo": "VNP14422574",
    "vnp_CardType": "ATM",
    "vnp_OrderInfo": "Thanh toan don hang 2024-05-21T02:17:31.249Z",
    "vnp_PayDate": "20240521091806",
    "vnp_ResponseCode": "00",
    "vnp_TmnCode": "TEST_TMN_CODE",
    "vnp_TransactionNo": "14422574",
    "vnp_TransactionStatus": "00",
    "vnp_TxnRef": "1716257871703",
}
VNPAY_HASH = (
    "649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361d"
    "bf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895"
)
VNPAY_HASH_CODE_99 = (
    "503194f6d93b57b357b2d1d09742565e67e86d771352c5dca4fc8d39df3d392c"
    "6b3809add9405f97cfb9631f445e36c80656cfbf47eac67d97fa165865c13e1b"
)

ZALOPAY_KEY2 = "choso-test-key2"
ZALOPAY_DATA = (
    '{"app_id":2553,"app_trans_id":"251127_000123","app_time":1764209730000,"app_user":"choso",'
    '"amount":45000,"embed_data":"{}","item":"[]","zp_trans_id":251127000000123,'
    '"server_time":1764209731234,"channel":38,"merchant_user_id":"","user_fee_amount":0,'
    '"discount_amount":0}'
)
ZALOPAY_MAC = "12b4d6ac646ee55c5906d9f955205f8af2c1a6260d0fc98a460538dacb732ba2"

PAYOS_KEY = "choso-test-checksum-key"
PAYOS_DATA: dict[str, Any] = {
    "orderCode": 251127,
    "amount": 45000,
    "description": "CHO TAN CHINH K12",
    "accountNumber": "0123456789",
    "reference": "FT25331000123456",
    "transactionDateTime": "2025-11-27 09:15:30",
    "currency": "VND",
    "paymentLinkId": "",
    "code": "00",
    "desc": "success",
    "counterAccountBankId": "970422",
    "counterAccountBankName": "",
    "counterAccountName": None,
    "counterAccountNumber": "9876543210",
    "virtualAccountName": None,
    "virtualAccountNumber": "",
}
PAYOS_SIGNATURE = "51225369f4d98483e384185d103166d5fad2db6870f6d4746289d0768646dbae"
