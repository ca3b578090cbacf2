// Vietnamese first, English on request (the choice is kept on this device).

const KEY = "choso.lang";

const vi = {
  skip: "Bỏ qua, đến nội dung chính",
  loading: "Đang tải…",
  app_name: "Chợ Số",
  lang_toggle: "English",
  lang_toggle_label: "Switch to English",
  online: "Có mạng",
  offline: "Mất mạng",
  back_online: "Đã có mạng trở lại. Đang gửi hồ sơ chờ…",
  sent_n: "Đã gửi {n} hồ sơ lên máy chủ.",
  offline_hint: "Đang không có mạng. Hồ sơ vẫn được lưu trên máy và tự gửi khi có mạng.",
  menu: "Tài khoản",
  signed_in_as: "Đăng nhập: {user} ({role})",
  change_market: "Đổi chợ",
  sign_out: "Đăng xuất",
  change_password: "Đổi mật khẩu",
  sign_out_title: "Đăng xuất và xóa dữ liệu trên máy này?",
  sign_out_unsent: "Còn {n} hồ sơ chưa gửi lên máy chủ.",
  sign_out_drafts: "Còn {n} bản nháp đang nhập dở.",
  sign_out_wipe_note: "Đăng xuất sẽ xóa khỏi máy này mọi thông tin của chủ sạp (hồ sơ, bản nháp, danh sách sạp) để bảo vệ dữ liệu cá nhân. Hồ sơ chưa gửi sẽ mất. Muốn giữ thì chọn “Ở lại” và gửi khi có mạng.",
  sign_out_confirm: "Xóa và đăng xuất",
  sign_out_stay: "Ở lại",
  nav_app: "Đăng ký sạp",
  nav_app_view: "Danh sách sạp",
  nav_dashboard: "Bảng điều khiển",
  nav_map: "Bản đồ",
  nav_console: "Quản trị",
  update_ready: "Có phiên bản mới của ứng dụng.",
  reload: "Tải lại",
  retry: "Thử lại",
  back: "Quay lại",
  close: "Đóng",
  cancel: "Hủy",
  save: "Lưu",
  delete: "Xóa",
  edit: "Sửa",
  view: "Xem",
  yes: "Có",
  no: "Không",
  optional: "không bắt buộc",
  required: "bắt buộc",
  none: "—",
  updated_at: "Cập nhật lúc {time}",
  stale_data: "Đang xem dữ liệu lưu lúc {time} (chưa tải được bản mới).",
  loading_fresh: "Đang tải bản mới từ máy chủ…",
  not_available_yet: "Chức năng này chưa có trên máy chủ.",
  need_network: "Cần có mạng để làm việc này.",
  load_failed: "Không tải được dữ liệu. {reason}",
  not_allowed_title: "Không có quyền",
  page_not_for_role: "Trang này không dành cho vai trò “{role}”.",
  not_allowed_text: "Với vai trò “{role}”, bạn chỉ xem số liệu; việc đăng ký, sửa sạp và in biển do tình nguyện viên và ban quản lý làm.",
  partner_pages_text: "Tài khoản đối tác {code}: số liệu, danh sách tài khoản và báo cáo của đối tác ở trang Đối tác (hệ thống của đối tác dùng API, với khóa do quản trị viên cấp). Các trang khác dành cho cán bộ thành phố và tình nguyện viên.",
  partner_open: "Mở trang Đối tác",
  viewer_note: "Vai trò “{role}”: danh sách chỉ có mã sạp và mức độ, không có thông tin chủ sạp.",

  // sign-in
  signin_title: "Đăng nhập",
  signin_intro: "Dùng tài khoản do Ban quản lý chợ cấp.",
  username: "Tên đăng nhập",
  password: "Mật khẩu",
  show_password: "Hiện mật khẩu",
  signin_button: "Đăng nhập",
  signing_in: "Đang đăng nhập…",
  signin_wrong: "Sai tên đăng nhập hoặc mật khẩu.",
  signin_locked: "Sai quá nhiều lần. Hãy đợi {min} phút rồi thử lại.",
  signin_offline: "Không có mạng. Cần có mạng để đăng nhập lần đầu.",
  signin_again: "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại — hồ sơ chưa gửi vẫn còn trên máy.",
  signin_required_fields: "Hãy nhập tên đăng nhập và mật khẩu.",

  // markets
  markets_title: "Chọn chợ",
  markets_intro: "Các chợ bạn được phân công:",
  markets_intro_view: "Các chợ bạn được xem:",
  market_archived_note: "Chợ này đã được lưu trữ lúc {when}: không còn trong danh sách, bảng điều khiển và bản đồ, không đăng ký thêm sạp và không in biển.",
  archive_reason: "Lý do: {reason}",
  markets_none: "Bạn chưa được phân công chợ nào. Hãy liên hệ Ban quản lý.",
  stall_count: "{n} sạp",
  ward_before: "trước 7/2025: {old}",
  ward_none: "Chưa có phường",

  // worklist
  register_new: "Đăng ký sạp mới",
  worklist_title: "Việc cần làm",
  search_label: "Tìm sạp (mã sạp, tên, mặt hàng, số điện thoại)",
  search_label_code: "Tìm sạp theo mã sạp",
  search_placeholder: "Ví dụ: a-12, lan, rau",
  filter_label: "Lọc danh sách",
  f_todo: "Cần làm",
  f_no_account: "Chưa có tài khoản",
  f_no_sign: "Chưa có biển",
  f_not_verified: "Đã in, chưa kiểm tra",
  f_revisit: "Cần quay lại",
  f_appointment: "Có lịch hẹn",
  f_all: "Tất cả",
  matches_elsewhere: "Không có sạp nào khớp trong mục này, nhưng có {n} sạp khớp ở mục khác.",
  more_matches_elsewhere: "Còn {n} sạp khớp ở mục khác.",
  show_in_all: "Xem trong “Tất cả”",
  area_no_markets: "Không có chợ nào bạn được xem ở {name}: các số dưới đây đều bằng 0.",
  readers_title: "Ai đã xem hồ sơ này",
  readers_intro: "Mỗi lần xem dữ liệu của chủ sạp (hồ sơ, mã QR và biển, lịch sử, tiền nhận) đều được ghi lại, với việc đã làm.",
  readers_show: "Xem nhật ký truy cập",
  readers_none: "Chưa ai mở hồ sơ này.",
  readers_unknown: "(tài khoản đã xóa)",
  readers_more: "và {n} lần cũ hơn (có trong bản xuất dữ liệu).",
  read_reason_stall_record: "mở hồ sơ sạp",
  read_reason_export: "xuất dữ liệu theo yêu cầu",
  read_reason_other: "xem dữ liệu",
  read_reason_stall_history: "xem lịch sử sạp",
  read_reason_stall_visits: "xem các lần ghé sạp",
  read_reason_stall_sign: "xem mã QR hoặc in biển của sạp",
  read_reason_stall_takings: "xem tiền sạp nhận",
  read_reason_list_export: "tải danh sách sạp có tên người này",
  read_reason_partner_accounts: "đối tác xem tài khoản nhận tiền của người này",
  history_title: "Lịch sử thay đổi",
  history_intro: "Ai đã làm gì với sạp này, khi nào và vì sao. Số điện thoại và số tài khoản chỉ hiện vài số cuối.",
  history_show: "Xem lịch sử",
  history_none: "Chưa có thay đổi nào.",
  history_more: "Đang hiện {n} mục gần nhất.",
  history_erased: "(đã xóa theo yêu cầu của chủ sạp)",
  history_system: "hệ thống",
  history_reason: "Lý do: {reason}",
  hist_register: "Đăng ký sạp",
  hist_update: "Sửa thông tin sạp",
  hist_import: "Cập nhật từ danh sách nhập",
  hist_add_payment_account: "Thêm tài khoản",
  hist_correct_payment_account: "Sửa tài khoản",
  hist_deactivate_payment_account: "Ngừng dùng tài khoản",
  hist_reactivate_payment_account: "Dùng lại tài khoản",
  hist_print_confirmed: "Xác nhận đã in biển",
  hist_sign_printed: "Đã in biển",
  hist_sign_delivered: "Đã giao biển",
  hist_revisit_flagged: "Cần quay lại sạp",
  hist_revisit_cleared: "Không cần quay lại nữa",
  hist_verify: "Kiểm tra mã: khớp",
  hist_verify_failed: "Kiểm tra mã: không khớp",
  hist_fees_cashless: "Thu phí không tiền mặt",
  hist_visit: "Ghé sạp",
  hist_assign: "Giao người đi lại",
  hist_unassign: "Bỏ giao người đi lại",
  hist_other: "Thay đổi khác",
  hist_detail_scan: "quét mã trên biển",
  hist_detail_name_match: "ngân hàng xác nhận tên chủ tài khoản",
  hf_stall_code: "Mã sạp",
  hf_zone: "Khu",
  hf_goods: "Mặt hàng",
  hf_confirm_by: "Cách biết tiền về",
  hf_also_accepts: "Cách thanh toán khác",
  hf_support_sales_app: "Phần mềm bán hàng",
  hf_support_digital_signature: "Chữ ký số",
  hf_support_e_invoice: "Hóa đơn điện tử",
  hf_support_domain: "Tên miền .biz.vn",
  hf_support_payment_account: "Tài khoản thanh toán điện tử",
  hf_support_ecommerce: "Bán hàng trên sàn thương mại điện tử",
  hf_status: "Tình trạng",
  hf_holder_name: "Chủ sạp",
  hf_holder_phone: "Số điện thoại",
  hf_fees_cashless: "Thu phí không tiền mặt",
  hf_account_bin: "Ngân hàng",
  hf_account_number: "Số tài khoản",
  hf_account_name: "Tên chủ tài khoản",
  hf_account_reference: "Mã tham chiếu",
  hv_yes: "có",
  hv_no: "không",
  export_person: "Xuất dữ liệu của người này (JSON)",
  export_person_pdf: "Bản in cho chủ sạp (PDF)",
  export_person_done: "Đã xuất dữ liệu; yêu cầu được ghi lại.",
  withdraw_open: "Ghi nhận chủ sạp rút đồng ý",
  withdraw_intro: "Đánh dấu những mục chủ sạp muốn rút (không mục nào được chọn sẵn).",
  withdraw_save: "Ghi nhận rút đồng ý",
  withdraw_confirm_title: "Ghi nhận chủ sạp rút đồng ý?",
  withdraw_registration_note: "Rút đồng ý đăng ký sạp là rút mọi mục ở trên (cả in biển và báo cáo), và mở yêu cầu xóa dữ liệu của người này; Ban quản lý xử lý trong thời hạn luật định.",
  withdraw_sign_note: "Rút đồng ý in biển: biển mã QR của sạp sẽ không in được nữa; hãy gỡ biển đang treo.",
  withdraw_done: "Đã ghi nhận rút đồng ý.",
  consent_waiting: "Đã ghi trên máy, chờ gửi",
  rank_none: "Không có chợ nào khớp.",
  no_results: "Không có sạp nào khớp.",
  phone_search_part: "Tìm theo số điện thoại thì gõ đủ số (máy chỉ giữ số đã che).",
  phone_search_offline: "Đang mất mạng: chưa tìm được theo số điện thoại (máy chỉ giữ số đã che). Có mạng lại thì tìm lại trước khi đăng ký sạp mới.",
  all_done: "Không còn việc nào trong mục này.",
  show_more: "Xem thêm ({n})",
  refresh: "Tải lại danh sách",
  print_unprinted: "In biển các sạp chưa in",
  queue_card: "Trên máy này: {pending} hồ sơ chờ gửi, {failed} hồ sơ lỗi.",
  send_now: "Gửi ngay",
  open_queue: "Xem hàng chờ",
  levels_unknown: "Chưa có số liệu mức độ (biển, kiểm tra) từ máy chủ.",
  local_record: "Trên máy",
  sign_blocked_consent: "Thiếu đồng ý in biển",
  sign_blocked_withdrawn: "Đã rút đồng ý in biển",

  // register
  register_title: "Đăng ký sạp mới",
  fix_title: "Sửa hồ sơ bị lỗi",
  draft_note: "Mọi thứ bạn nhập được lưu nháp ngay trên máy.",
  sec_stall: "Sạp",
  sec_holder: "Chủ sạp",
  sec_account: "Tài khoản nhận tiền",
  sec_location: "Vị trí",
  sec_consent: "Chủ sạp đồng ý",
  zone: "Khu",
  zone_other: "Chưa rõ khu",
  stall_code: "Mã sạp",
  stall_code_hint: "Như ghi trên sạp, ví dụ A-12.",
  code_in_list: "Mã sạp {code} đã có trong danh sách sạp của chợ này.",
  code_in_queue: "Mã sạp {code} đã có trong một hồ sơ chờ gửi trên máy này.",
  goods: "Mặt hàng",
  goods_hint: "Ví dụ: Rau củ, Cá tươi.",
  full_name: "Họ và tên chủ sạp",
  phone: "Số điện thoại",
  phone_hint: "Ví dụ: 0905 123 456.",
  account_optional: "Nếu chủ sạp chưa có tài khoản, để trống phần này — đăng ký trước, thêm tài khoản sau.",
  bank: "Ngân hàng hoặc ví",
  bank_search: "Tìm theo tên ngân hàng hoặc tên viết tắt",
  bank_placeholder: "Ví dụ: mb, vietcombank, agribank",
  bank_popular: "Hay dùng:",
  bank_change_aria: "Đổi ngân hàng",
  bank_change: "Đổi",
  bank_none: "Không tìm thấy ngân hàng. Thử tên khác, hoặc quét mã QR có sẵn của chủ sạp.",
  bank_use_bin: "Ngân hàng mang mã số {bin} (không có trong danh sách)",
  bank_list_missing: "Chưa tải được danh sách ngân hàng. Hãy kết nối mạng rồi mở lại trang này.",
  bank_by_code: "Ngân hàng mã số {code}",
  acct_name_cut: "Họ tên dài hơn 50 ký tự nên tên tài khoản đã được rút gọn: sửa cho đúng tên ngân hàng ghi cho tài khoản.",
  acct_not_digits: "Số tài khoản có chữ cái hoặc ký hiệu: kiểm tra lại với thẻ hoặc sổ ngân hàng (chữ O hay số 0?).",
  account_number: "Số tài khoản",
  scan_existing: "Quét mã QR có sẵn của chủ sạp",
  scan_existing_hint: "Nếu chủ sạp đã có mã QR nhận tiền, chụp mã đó: ngân hàng và số tài khoản tự điền, không sợ gõ nhầm.",
  scan_read: "Đã đọc mã: {bank} · {account}. Kiểm tra lại với chủ sạp.",
  scan_not_vietqr: "Mã này không phải mã VietQR nhận tiền. Hãy nhập tay.",
  momo_ref: "Mã tham chiếu MoMo",
  momo_ref_hint: "Bắt đầu bằng MOMOW2W, nằm trong mã QR nhận tiền trên ứng dụng MoMo của chủ sạp — quét mã đó để tự điền.",
  account_name: "Tên chủ tài khoản",
  account_name_hint: "Tự điền từ họ tên: chữ in hoa, không dấu. Sửa nếu tài khoản mang tên khác.",
  lookup_found: "Ngân hàng ghi tên: {name}",
  lookup_differs: "Tên theo ngân hàng khác tên đã nhập — hãy hỏi lại chủ sạp.",
  lookup_use: "Dùng tên này",
  lookup_not_found: "Ngân hàng không tìm thấy số tài khoản này. Kiểm tra lại số.",
  lookup_checking: "Đang hỏi ngân hàng tên chủ tài khoản…",
  partner: "Đối tác hỗ trợ mở tài khoản",
  account_opened_by: "mở qua {partner}",
  partner_hint: "Chỉ chọn khi nhân viên một ngân hàng hay ví đã giúp chủ sạp mở tài khoản này. Chọn ngân hàng ở trên không tự chọn đối tác.",
  gps_button: "Lấy vị trí GPS",
  gps_getting: "Đang lấy vị trí…",
  gps_ok: "Đã lấy vị trí (sai số khoảng {m} m).",
  gps_clear: "Bỏ vị trí",
  gps_denied: "Không lấy được vị trí: chưa cho phép hoặc không có tín hiệu.",
  gps_unavailable: "Máy này không hỗ trợ lấy vị trí.",
  notice_heading: "Thông báo về dữ liệu cá nhân (đọc cho chủ sạp nghe)",
  notice_version_line: "Bản thông báo: {v}",
  notice_missing: "Chưa tải được thông báo về dữ liệu cá nhân. Hãy kết nối mạng rồi mở lại trang này trước khi đăng ký.",
  notice_recorded: "Chủ sạp đã đồng ý theo thông báo phiên bản {v}; lần gửi này giữ nguyên phiên bản đó.",
  consent_intro: "Chỉ đánh dấu những gì chủ sạp đồng ý. Ô đầu tiên là bắt buộc để đăng ký.",
  consent_sign_note: "Không đồng ý ô thứ hai thì sạp vẫn được đăng ký, nhưng không in được biển mã QR.",
  purpose_registration: "Đồng ý đăng ký sạp vào chương trình chợ không dùng tiền mặt",
  purpose_qr_sign: "Đồng ý in họ tên chủ sạp, tên chủ tài khoản và số tài khoản lên biển mã QR treo tại sạp",
  purpose_coverage_reporting: "Đồng ý dùng thông tin sạp để báo cáo số liệu tổng hợp cho chợ, phường, thành phố",
  purpose_share_partner: "Đồng ý chia sẻ họ tên, số điện thoại và tài khoản nhận tiền với đối tác {name}",
  save_stall: "Lưu sạp",
  saving: "Đang lưu…",
  clear_draft: "Xóa nháp",
  clear_draft_confirm: "Xóa toàn bộ thông tin đang nhập?",
  saved_sent: "Đã lưu sạp {code}.",
  saved_queued: "Đã lưu sạp {code} trên máy. Sẽ tự gửi khi có mạng.",
  form_has_errors: "Còn {n} chỗ cần sửa (đánh dấu đỏ ở phía trên).",
  dup_confirm: "Vẫn lưu: cùng một người thuê thêm sạp, hoặc người nhà dùng chung số",
  dup_see: "Xem sạp đang có số này",
  see_existing: "Xem sạp đã đăng ký",

  // stall
  stall_title: "Sạp {code}",
  sign_preview: "Biển mã QR",
  scan_to_pay: "Quét mã để thanh toán",
  qr_missing: "Chưa có mã QR: sạp chưa có tài khoản nhận tiền.",
  qr_unavailable: "Chưa tạo được hình mã QR.",
  qr_offline: "Đang không có mạng: hình mã QR hiện lại khi có mạng.",
  print_sign: "In biển",
  mark_delivered: "Đã giao biển",
  delivered_ok: "Đã ghi nhận: biển đã giao cho chủ sạp.",
  delivered_queued: "Đã ghi trên máy: biển đã giao. Sẽ gửi khi có mạng.",
  verify_code: "Kiểm tra mã",
  edit_stall: "Sửa thông tin",
  add_account: "Thêm tài khoản",
  holder: "Chủ sạp",
  accounts: "Tài khoản nhận tiền",
  support_line: "Gọi hỗ trợ khi chuyển tiền lỗi",
  near_points: "Điểm hỗ trợ gần chợ",
  accepts_title: "Cách thanh toán khác",
  accepts_ask: "Ngoài biển VietQR, sạp còn nhận thanh toán bằng cách nào?",
  accepts_hint: "Chọn mọi cách sạp nhận được; khách du lịch thường trả bằng thẻ hoặc QR nước ngoài.",
  accepts_card: "Thẻ (máy POS)",
  accepts_intl_qr: "QR quốc tế",
  accepts_phone_transfer: "Chuyển tiền qua số điện thoại",
  accepts_none: "Chỉ biển VietQR",
  accepts_unknown: "Chưa hỏi",
  support_title: "Gói hỗ trợ chuyển đổi số",
  support_intro: "Với từng mục của gói hỗ trợ miễn phí: đã giới thiệu cho hộ kinh doanh, hộ đã nhận, hay hộ không cần.",
  support_item_sales_app: "Phần mềm bán hàng",
  support_item_digital_signature: "Chữ ký số",
  support_item_e_invoice: "Hóa đơn điện tử",
  support_item_domain: "Tên miền .biz.vn",
  support_item_payment_account: "Tài khoản thanh toán điện tử",
  support_item_ecommerce: "Bán hàng trên sàn thương mại điện tử",
  support_none: "Chưa nói",
  support_offered: "Đã giới thiệu",
  support_delivered: "Đã nhận",
  support_declined: "Không cần",
  support_save: "Lưu gói hỗ trợ",
  support_drop: "Bỏ thay đổi này",
  support_saved: "Đã lưu gói hỗ trợ.",
  support_nothing: "Chưa đổi mục nào.",
  support_consulted: "Đã nói về {n} trong {total} mục.",
  support_not_yet: "Chưa tư vấn mục nào.",
  support_unknown: "Chưa tải được gói hỗ trợ của sạp này: cần có mạng một lần.",
  hist_support: "Gói hỗ trợ",
  support_market: "Đã tư vấn {n} trên {total} sạp đang hoạt động ({pct}): hộ đã được nói về ít nhất một mục.",
  support_col_item: "Mục hỗ trợ",
  support_col_total: "Hộ đã được tư vấn",
  support_area_none: "Chưa ghi nhận hộ nào được tư vấn ở khu vực này.",
  support_area_unavailable: "Chưa tải được số liệu gói hỗ trợ.",
  kind_support: "Gói hỗ trợ",
  kind_assignments: "Giao quay lại sạp",
  tell_holder_points: "Nạp, rút tiền mặt hoặc nhờ hướng dẫn gần chợ: {points}.",
  account_of: "Tài khoản {n}",
  status: "Tình trạng sạp",
  st_active: "Đang bán",
  st_vacant: "Sạp trống",
  st_closed: "Đã nghỉ",
  level_now: "Mức hiện tại",
  not_sent_yet: "Hồ sơ này chưa gửi lên máy chủ. Biển mã QR sẽ có sau khi gửi.",
  stall_saved_banner: "Đã lưu sạp {code}. Bước tiếp theo: in biển và giao cho chủ sạp.",
  tell_holder_title: "Dặn chủ sạp khi giao biển",
  tell_holder_money: "Chỉ giao hàng khi đã thấy tiền về trong ứng dụng ngân hàng hoặc ví, hoặc nghe loa báo đọc đủ cả số tiền.",
  tell_holder_amount: "Xem kỹ số tiền: kẻ gian có thể chuyển 200 đồng thay vì 200.000 đồng, loa vẫn đọc “hai trăm”.",
  tell_holder_screenshot: "Đừng tin ảnh chụp màn hình “chuyển khoản thành công”: ảnh có thể bị sửa.",
  tell_holder_support: "Khi chuyển khoản có vấn đề, gọi số hỗ trợ in ở cuối biển.",
  confirm_by: "Cách biết tiền về",
  confirm_ask: "Chủ sạp biết tiền về bằng cách nào?",
  confirm_hint: "Chọn tất cả các cách chủ sạp đang dùng.",
  confirm_bank_app: "Thông báo trên ứng dụng ngân hàng/ví",
  confirm_sound_box: "Loa báo tiền",
  confirm_sms: "Tin nhắn SMS báo số dư",
  confirm_none: "Chưa có cách nào",
  confirm_unknown: "Chưa hỏi",
  confirm_save: "Lưu câu trả lời",
  confirm_saved: "Đã lưu cách chủ sạp biết tiền về.",
  confirm_pick: "Hãy chọn ít nhất một ô.",
  confirm_none_tip: "Giúp chủ sạp bật thông báo biến động số dư trong ứng dụng ngân hàng hoặc ví, hoặc hỏi đối tác về loa báo tiền.",
  confirm_asked: "Đã hỏi chủ sạp ở {asked} trong số {total} sạp đang hoạt động.",
  confirm_many_ways: "Một sạp có thể dùng nhiều cách.",
  confirm_none_many: "{n} sạp đang hoạt động chưa có cách nào biết tiền về: cần hướng dẫn chủ sạp bật thông báo số dư. Danh sách: bấm “Tải danh sách sạp (Excel)”, lọc cột “Cách biết tiền về”.",
  stall_saved_no_account: "Đã lưu sạp {code}. Sạp chưa có tài khoản nhận tiền nên chưa in biển được: khi chủ sạp có tài khoản, bấm “Thêm tài khoản”.",
  stall_saved_no_consent: "Đã lưu sạp {code}. Chủ sạp chưa đồng ý in biển nên chưa in biển được: ghi nhận đồng ý ở phần “Đồng ý của chủ sạp” bên dưới.",
  print_blocked_no_account: "Chưa in biển được: sạp chưa có tài khoản nhận tiền.",
  print_blocked_waiting: "Đồng ý in biển đã ghi trên máy nhưng chưa gửi: in được khi có mạng và hồ sơ đã gửi.",
  print_blocked_consent: "Chưa in biển được: chủ sạp chưa đồng ý in họ tên và số tài khoản lên biển.",
  print_blocked_withdrawn: "Không in biển: chủ sạp đã rút lại đồng ý in biển.",
  consent_title: "Đồng ý của chủ sạp",
  consent_granted: "Đã đồng ý",
  consent_not_given: "Chưa đồng ý",
  consent_was_withdrawn: "Đã rút lại",
  consent_unknown: "Chưa xem được các mục đồng ý (cần có mạng).",
  consent_erased: "Dữ liệu của chủ sạp đã được xóa theo yêu cầu: không còn mục đồng ý nào.",
  consent_add: "Ghi nhận thêm đồng ý",
  consent_add_intro: "Đọc thông báo cho chủ sạp nghe, rồi chỉ đánh dấu những mục chủ sạp đồng ý.",
  consent_save: "Lưu đồng ý",
  consent_saved: "Đã ghi nhận đồng ý của chủ sạp.",
  consent_queued: "Đã lưu đồng ý trên máy. Sẽ gửi khi có mạng.",
  pdf_opening: "Đang mở tệp PDF…",
  edit_title: "Sửa sạp {code}",
  edit_saved: "Đã lưu thay đổi.",
  edit_queued: "Đã lưu thay đổi trên máy. Sẽ gửi khi có mạng.",
  account_saved: "Đã thêm tài khoản.",
  account_queued: "Đã lưu tài khoản trên máy. Sẽ gửi khi có mạng.",
  needs_revisit: "Cần quay lại",

  // verify
  verify_title: "Kiểm tra mã trên biển",
  verify_intro: "Hướng camera vào mã QR trên biển đã in. Chỉ báo xanh khi mã đúng tài khoản đã lưu.",
  verify_start_camera: "Mở camera",
  verify_take_photo: "Chụp ảnh mã QR",
  verify_scanning: "Đang tìm mã QR…",
  verify_checking: "Đang kiểm tra…",
  verify_ok: "ĐÚNG — mã trên biển khớp tài khoản đã lưu.",
  verify_ok_local: "Mã khớp tài khoản đã lưu (máy chủ chưa ghi nhận kiểm tra).",
  verify_mismatch: "KHÔNG KHỚP — mã trên biển không đúng tài khoản đã lưu. Sạp được đánh dấu cần quay lại; hãy in lại biển.",
  verify_invalid: "KHÔNG ĐÚNG — mã đọc được không phải mã VietQR hợp lệ. Sạp được đánh dấu cần quay lại; hãy in lại biển.",
  verify_none: "Không thấy mã QR trong ảnh. Chụp gần hơn, đủ sáng, không bị lóa.",
  verify_camera_denied: "Không mở được camera. Dùng nút chụp ảnh bên dưới.",
  verify_read: "Mã đọc được: {bank} · {account}",
  verify_again: "Kiểm tra lại",

  // outbox
  queue_title: "Hàng chờ gửi",
  queue_short: "Chờ gửi",
  queue_fix_title: "Hồ sơ cần sửa",
  queue_fix_short: "Cần sửa",
  queue_intro: "Hồ sơ lưu trên máy này. Có mạng là tự gửi; bấm Gửi ngay để gửi liền.",
  queue_empty: "Không có hồ sơ nào trên máy.",
  queue_offline: "Đang mất mạng — sẽ gửi khi có mạng trở lại.",
  clear_sent: "Xóa các hồ sơ đã gửi khỏi danh sách",
  state_queued: "Đang chờ",
  state_sending: "Đang gửi",
  state_failed: "Lỗi",
  state_sent: "Đã gửi",
  kind_register: "Đăng ký sạp",
  kind_patch: "Sửa sạp",
  kind_account: "Thêm tài khoản",
  kind_delivered: "Đã giao biển",
  kind_printed: "Đã in biển",
  print_sign_question: "Biển đã in ra giấy chưa? Chỉ khi đã in xong, biển mới được tính là đã phát.",
  print_sign_done: "Đã in xong",
  printed_ok: "Đã ghi nhận: biển đã in.",
  printed_queued: "Đã ghi trên máy: biển đã in. Sẽ gửi khi có mạng.",
  print_job_title: "Xác nhận in biển",
  cut_market_name: "tên chợ",
  cut_stall_code: "mã sạp",
  cut_holder_name: "tên chủ sạp",
  cut_goods: "mặt hàng",
  print_job_question: "Đã in xong {n} biển trong tệp PDF? Chỉ biển đã in ra mới được tính là đã phát.",
  print_job_confirm: "Xác nhận đã in",
  print_job_reopen: "Mở lại tệp PDF",
  print_job_later: "Để sau",
  print_job_confirmed: "Đã ghi nhận {n} biển đã in.",
  kind_consent: "Ghi nhận đồng ý",
  tries: "Đã thử {n} lần, thử lại lúc {time}",
  delete_record_confirm: "Xóa hồ sơ này khỏi máy? Thông tin sẽ mất.",
  resend: "Gửi lại",

  // levels, statuses
  level_inactive: "Không hoạt động",
  level_registered: "Đã đăng ký",
  level_qr_issued: "Đã in biển",
  level_qr_verified: "Đã kiểm tra mã",
  level_transacting: "Đang giao dịch",
  level_fees_cashless: "Thu phí không tiền mặt",
  status_not_started: "Chưa bắt đầu",
  status_in_progress: "Đang triển khai",
  status_cashless: "Chợ không tiền mặt",
  status_lapsed: "Mất danh hiệu",
  status_unknown: "Chưa có số liệu",

  // dashboard
  dash_title: "Bảng điều khiển",
  dash_scope: "Các chợ trong phạm vi của bạn",
  kpi_markets: "Chợ",
  kpi_active: "Sạp đang hoạt động",
  kpi_cashless: "Chợ không tiền mặt",
  markets_table: "Tiến độ từng chợ",
  col_market: "Chợ",
  col_status: "Trạng thái",
  col_stalls: "Sạp",
  col_progress: "Tiến độ so với tiêu chí",
  col_actions: "Tải về",
  target: "mục tiêu {pct}",
  rule_line: "Tiêu chí chợ không tiền mặt (phiên bản {v}): {parts}",
  rule_missing: "Chưa có tiêu chí chương trình.",
  map_title: "Bản đồ chợ",
  open_full_map: "Mở bản đồ lớn",
  partners_title: "Đối tác hỗ trợ mở tài khoản",
  col_partner: "Đối tác",
  partners_missing: "Chưa có số liệu theo đối tác.",
  trend_title: "Độ phủ theo thời gian",
  trend_moment: "Mỗi ngày trên biểu đồ là số liệu cuối ngày đó (hôm nay: số liệu lúc này); lịch sử trạng thái bên dưới ghi số liệu đúng lúc trạng thái đổi.",
  at_change: "lúc đổi:",
  trend_missing: "Chưa có số liệu theo thời gian.",
  trend_one_day: "Mới có số liệu của một ngày; đường xu hướng sẽ hiện khi có thêm ngày.",
  exports_title: "Xuất dữ liệu",
  export_market: "Chợ",
  export_all_markets: "Tất cả chợ",
  export_level: "Mức",
  export_any_level: "Mọi mức",
  export_xlsx: "Tải danh sách sạp (Excel)",
  export_markets_xlsx: "Tải bảng các chợ (Excel)",
  export_csv: "Tải CSV (cho phần mềm khác)",
  export_geojson: "Tải GeoJSON (bản đồ)",
  report_pdf: "Báo cáo PDF",
  details: "Chi tiết",
  downloading: "Đang tải về…",
  coverage_missing: "Máy chủ chưa có số liệu độ phủ; đang hiện danh sách chợ.",

  // map
  map_page_title: "Bản đồ các chợ",
  map_intro: "Mỗi chấm là một chợ: màu theo trạng thái, cỡ theo số sạp. Các chợ ở gần nhau gộp thành một vòng có số; bấm vào vòng hoặc phóng to để tách ra. Bấm vào chợ để xem tóm tắt.",
  legend: "Chú giải",
  legend_size: "Cỡ chấm = số sạp",
  legend_cluster: "Vòng có số = các chợ ở gần nhau",
  map_region: "Bản đồ chợ. Dùng phím mũi tên để di chuyển, phím + và − để phóng to, thu nhỏ.",
  map_search: "Tìm chợ trên bản đồ",
  map_search_hint: "Gõ tên chợ, có dấu hay không đều được (ví dụ: han).",
  map_search_none: "Không có chợ nào khớp.",
  map_open_market: "Xem {name}",
  map_cluster: "{n} chợ ở gần nhau ({parts}). Bấm để phóng to.",
  map_unavailable: "Không tải được bản đồ. Danh sách chợ vẫn dùng được.",
  map_tiles_from: "Nền bản đồ: {host}",
  north: "Bắc",
  zoom_in: "Phóng to",
  zoom_out: "Thu nhỏ",
  zoom_reset: "Xem toàn bộ",
  market_list: "Danh sách chợ",
  no_location: "Chưa có tọa độ: {names}",

  // market page
  market_levels: "Mức độ tham gia",
  stalls_by_zone: "Sạp theo khu",
  zone_n: "Khu {z}",
  zone_none: "Chưa xếp khu",
  tiles_missing: "Chưa có dữ liệu ô sạp từ máy chủ.",
  no_stalls_yet: "Chợ này chưa có sạp nào được đăng ký.",
  status_history: "Lịch sử trạng thái",
  history_empty: "Chưa có thay đổi trạng thái.",
  print_all_signs: "In biển cả chợ",
  active_stalls: "{n} sạp đang hoạt động",
  share_of: "{count} / {total} sạp ({pct})",
  stalls_needed: "cần thêm {n} sạp để đạt",
  target_met: "đã đạt",
  since: "từ {when}",
  reason_stall_change: "Do thay đổi ở sạp",
  reason_daily: "Đánh giá hằng ngày",
  reason_rule_change: "Do đổi tiêu chí",
  // Corrections (issue 12)
  zone_hint: "Tên khu như chợ đặt, ví dụ Khu Cá.",
  reprint_needed: "Cần in lại biển",
  reprint_account_corrected: "Tài khoản in trên biển đã được sửa: in biển mới rồi thay biển cũ.",
  reprint_account_deactivated: "Tài khoản in trên biển đã ngừng dùng: in biển mới rồi thay biển cũ.",
  reprint_sign_details_changed: "Mã sạp, khu, tên chủ sạp hoặc mặt hàng in trên biển đã thay đổi: in biển mới rồi thay biển cũ.",
  account_fix: "Sửa tài khoản",
  account_fix_title: "Sửa tài khoản — {code}",
  account_fix_intro: "Dùng khi ngân hàng, số tài khoản hoặc tên bị nhập sai. Thông tin cũ vẫn được lưu lại trong nhật ký.",
  reason: "Lý do",
  reason_hint: "Ví dụ: nhập sai số cuối.",
  account_fix_saved: "Đã sửa tài khoản.",
  account_fix_queued: "Đã lưu việc sửa tài khoản, sẽ gửi khi có mạng.",
  account_off_title: "Ngừng dùng tài khoản này",
  account_off_intro: "Tài khoản sẽ không còn in trên biển và không còn được tính; lịch sử vẫn được giữ.",
  account_off_button: "Ngừng dùng tài khoản",
  account_off_confirm: "Ngừng dùng tài khoản {acc}?",
  account_off_saved: "Đã ngừng dùng tài khoản.",
  account_off_queued: "Đã lưu việc ngừng dùng tài khoản, sẽ gửi khi có mạng.",
  account_inactive: "đã ngừng dùng",
  kind_account_fix: "Sửa tài khoản",
  kind_account_off: "Ngừng dùng tài khoản",
  kind_account_on: "Dùng lại tài khoản",
  kind_visit: "Ghi nhận lần ghé",
  account_on: "Dùng lại",
  account_on_title: "Dùng lại tài khoản đã ngừng",
  account_on_intro: "Tài khoản sẽ lại được in trên biển và được tính. Mã QR của tài khoản phải được quét kiểm tra lại tại sạp.",
  account_on_button: "Dùng lại tài khoản",
  account_on_confirm: "Dùng lại tài khoản {acc}?",
  account_on_saved: "Đã dùng lại tài khoản. Hãy quét kiểm tra mã trên biển.",
  account_on_queued: "Đã lưu việc dùng lại tài khoản, sẽ gửi khi có mạng.",

  // teams and field activity (teams/, /activity, /teams, the tablet's team page)
  nav_activity: "Hoạt động",
  nav_teams: "Tổ công nghệ số",
  nav_partner: "Đối tác",
  act_title: "Hoạt động tại chợ",
  act_intro: "Việc các tổ và tình nguyện viên đã làm ở các chợ trong phạm vi của bạn: đăng ký sạp, in và giao biển, kiểm tra mã, quay lại sạp.",
  act_intro_volunteer: "Việc bạn đã làm (tổ trưởng xem được việc của cả tổ).",
  period_label: "Khoảng thời gian",
  period_week: "Tuần này",
  period_month: "Tháng này",
  period_custom: "Chọn khoảng",
  period_from: "Từ ngày",
  period_to: "Đến ngày",
  period_apply: "Xem",
  period_line: "Từ {from} đến {to}",
  period_future: "(gồm cả những ngày chưa tới)",
  kind_registrations: "Sạp đăng ký",
  kind_edits: "Sửa hồ sơ",
  kind_accounts: "Tài khoản",
  kind_consents: "Đồng ý",
  kind_prints: "Biển đã in",
  kind_deliveries: "Biển đã giao",
  kind_verifications: "Kiểm tra mã",
  kind_return_visits: "Mã sai phát hiện",
  kind_codes_fixed: "Mã sai đã sửa",
  kind_visits: "Lần ghé sạp",
  act_signs: "Lượt in biển và giao biển",
  act_other: "Sửa hồ sơ, tài khoản, đồng ý, gói hỗ trợ, giao quay lại sạp",
  act_per_day: "Theo ngày",
  act_per_team: "Theo tổ",
  act_per_user: "Theo người thực hiện",
  act_per_market: "Theo chợ",
  act_no_team: "Không thuộc tổ nào",
  act_no_market: "Không rõ chợ",
  act_hidden_name: "Người thực hiện số {id}",
  act_names_hidden: "Vai trò của bạn không xem được tên người: mỗi người hiện bằng một con số.",
  act_empty: "Chưa có hoạt động nào trong khoảng thời gian này.",
  act_download: "Tải về",
  act_download_group: "Bảng",
  act_group_day: "Theo ngày",
  act_group_team: "Theo tổ",
  act_group_user: "Theo người thực hiện",
  act_group_market: "Theo chợ",
  act_group_ward: "Theo phường, xã",
  act_xlsx: "Tải Excel",
  col_team: "Tổ",
  col_person: "Người thực hiện",
  col_volunteer: "Tình nguyện viên",
  col_day: "Ngày",
  teams_title: "Tổ Công nghệ số cộng đồng",
  teams_intro: "Mỗi tổ thuộc một phường, xã; thành viên làm việc ở các chợ của tổ. Khi rời tổ, thành viên thôi làm ở các chợ đó; việc đã làm vẫn tính cho tổ cũ.",
  teams_new: "Tạo tổ mới",
  teams_none: "Chưa có tổ nào.",
  team_name: "Tên tổ",
  team_name_missing: "Hãy đặt tên cho tổ.",
  team_ward: "Phường, xã",
  team_ward_hint: "Gõ tên phường, xã; có dấu hay không đều được (ví dụ: hai chau).",
  team_ward_none: "Không có phường, xã nào khớp.",
  team_ward_chosen: "Đã chọn: {name}",
  team_ward_missing: "Hãy chọn phường, xã của tổ.",
  team_markets: "Chợ của tổ",
  team_members: "Thành viên",
  team_members_none: "Chưa có thành viên.",
  team_members_n: "{n} thành viên",
  team_member_search: "Thêm thành viên: gõ tên đăng nhập",
  team_add: "Thêm",
  team_remove: "Bỏ khỏi tổ",
  team_leader: "Tổ trưởng",
  team_no_leader: "Chưa có tổ trưởng",
  team_in_other: "đang ở {team}",
  team_save: "Lưu tổ",
  team_saved: "Đã lưu tổ.",
  team_past: "Đã rời tổ",
  team_past_line: "{user}: từ {from} đến {to}",
  team_visits: "In danh sách quay lại",
  team_member_left: "đã rời tổ; công việc đã làm cho tổ vẫn được tính",
  team_member_you: "(bạn)",
  my_team: "Tổ của tôi",
  my_team_none: "Bạn chưa thuộc tổ nào. Ban quản lý sẽ xếp bạn vào tổ.",
  my_team_week: "Việc tuần này",
  share_title: "Tóm tắt gửi nhóm Zalo của tổ",
  share_hint: "Soạn tóm tắt việc tuần này, sửa lại nếu cần, rồi chép hoặc chia sẻ vào nhóm Zalo. Tóm tắt chỉ có số liệu, không có tên chủ sạp.",
  share_make: "Soạn tóm tắt",
  share_copy: "Chép",
  share_send: "Chia sẻ",
  share_copied: "Đã chép. Dán vào nhóm Zalo của tổ.",
  share_head: "{team}: việc tuần này ({from}–{to})",
  share_market: "{name}: {n}/{total} sạp đã in biển ({pct}){rule}, {status}",
  share_level: "{n}/{total} {level} ({pct})",
  share_visits: "Cần quay lại {n} sạp, danh sách:",
  share_missing: "Chưa đọc được số liệu của: {names}. Thử lại khi có mạng.",
  share_select: "Đã chọn sẵn nội dung: bấm giữ rồi chọn Sao chép.",
  my_team_week_team: "Số của cả tổ từ thứ Hai đến hôm nay.",
  my_team_week_own: "Số của bạn từ thứ Hai đến hôm nay.",
  team_numbers_leader_only: "Số việc của thành viên khác: tổ trưởng xem",
  today_line: "Hôm nay: {n} sạp đăng ký, {m} biển đã giao",
  today_line_all: "Hôm nay, ở mọi chợ của bạn: {n} sạp đăng ký, {m} biển đã giao",
  rank_title: "Nên đến chợ nào tiếp",
  rank_intro: "Các chợ xếp theo mức gần đạt tiêu chí: chợ cần thêm ít sạp nhất đứng đầu.",
  rank_sort: "Sắp xếp",
  rank_sort_closest: "Gần đạt nhất",
  rank_sort_needed: "Cần thêm nhiều sạp nhất",
  rank_sort_stalls: "Nhiều sạp nhất",
  rank_sort_name: "Tên chợ",
  rank_ward: "Phường, xã",
  rank_all_wards: "Mọi phường, xã",
  rank_status: "Trạng thái",
  rank_all_statuses: "Mọi trạng thái",
  rank_count: "{n} / {total} chợ",
  rank_show_all: "Xem cả {n} chợ",
  rank_need_prefix: "Cần thêm",
  need_qr_issued: "{n} sạp đã in biển",
  need_qr_verified: "{n} sạp đã kiểm tra mã",
  need_transacting: "{n} sạp có giao dịch",
  need_fees_cashless: "{n} sạp thu phí không tiền mặt",
  rank_met: "Đã đạt tiêu chí",
  rank_no_stalls: "Chưa có sạp nào đăng ký",
  rank_col_rank: "Hạng",
  rank_col_missing: "Còn thiếu",
  rank_visits: "Báo cáo chợ, sạp cần đến (PDF)",
  trend_week: "7 ngày",
  trend_month: "30 ngày",
  trend_quarter: "90 ngày",
  trend_custom: "Chọn khoảng",
  visits_title: "Danh sách sạp cần quay lại",
  visits_market: "{name}",
  visits_team: "{name}",
  visits_one: "{n} sạp",
  visits_n: "{n} sạp",
  visits_print: "In danh sách",
  visits_none: "Không có sạp nào cần quay lại.",
  visits_pick: "Hãy mở danh sách từ trang của một chợ (nút “In danh sách quay lại”; chọn chợ ở bảng điều khiển) hoặc trang tổ (một tổ).",
  visits_printed_at: "In lúc {when}",
  visits_col_stall: "Sạp",
  visits_col_zone: "Khu",
  visits_col_reason: "Lý do",
  visits_col_since: "Từ lúc",
  visits_col_done: "Đã xong",
  visits_col_assignee: "Người đi",
  assign_label: "Người đi lại sạp {code}",
  assign_nobody: "— Chưa giao —",
  assign_saved: "Đã giao sạp {code} cho {name}.",
  assign_cleared: "Đã bỏ giao sạp {code}.",
  assign_visited: "đã ghé lại",
  assign_gone: "không còn làm ở chợ này, hãy giao người khác",
  assign_again: "Nhờ đi lại lần nữa",
  assigned_title: "Được giao đi lại ({n} sạp)",
  assigned_by: "{name} giao ngày {when}",
  visits_appointments: "Đã hẹn quay lại",
  visits_col_day: "Ngày hẹn",
  visits_col_found: "Lần ghé trước",
  visits_overdue: "quá hẹn",
  visit_reason_qr_mismatch: "Mã trên biển không khớp tài khoản",
  visit_reason_qr_invalid: "Mã trên biển không đọc được",
  visit_reason_no_account: "Sạp chưa có tài khoản",
  visit_reason_account_suspended: "Đối tác tạm ngưng tài khoản trên biển",
  visit_reason_account_removed: "Đối tác đã gỡ tài khoản trên biển",
  visit_reason_other: "Cần kiểm tra lại",

  // drill-down (dashboard and map: country -> province -> ward -> market)
  drill_country: "Cả nước",
  drill_crumbs: "Vị trí đang xem",
  drill_col_province: "Tỉnh, thành phố",
  drill_col_ward: "Phường, xã",
  drill_col_market: "Chợ",
  drill_unknown_province: "Chưa rõ tỉnh, thành phố",
  drill_unknown_ward: "Chưa rõ phường, xã",
  drill_unknown_market: "Chợ",
  drill_table_province: "Tiến độ theo tỉnh, thành phố",
  drill_table_ward: "Tiến độ theo phường, xã",
  drill_col_markets: "Số chợ",
  drill_col_statuses: "Trạng thái các chợ",
  drill_rows_hint: "Bấm vào tên một {what} để xem các chợ bên trong.",
  drill_scope_country: "Các chợ trong phạm vi của bạn trên cả nước",
  drill_scope_province: "Các chợ trong phạm vi của bạn ở {name}",
  drill_scope_ward: "Các chợ trong phạm vi của bạn ở {name}",
  drill_export_all_ward: "Tất cả chợ của phường, xã này",
  drill_export_all_province: "Tất cả chợ của tỉnh, thành phố này",
  drill_export_scope: "Tải về mọi chợ trong phạm vi của bạn; vào một tỉnh hoặc phường để tải riêng.",
  drill_map_region: "Bản đồ theo khu vực. Dùng phím mũi tên để di chuyển, phím + và − để phóng to, thu nhỏ.",
  drill_circle: "{name}: {n} chợ ({parts}). Bấm để xem bên trong.",
  drill_legend_size: "Cỡ vòng = số chợ",
  drill_legend_ring: "Màu trên vòng = trạng thái các chợ",
  drill_map_intro: "Mỗi vòng là một {what}: cỡ theo số chợ, màu trên vòng theo trạng thái các chợ, số ở giữa là số chợ. Bấm vào vòng hoặc vào tên trong danh sách để xem bên trong.",
  drill_open_dashboard: "Mở bảng điều khiển của khu vực này",
  drill_n_markets: "{n} chợ",
  drill_rank_pick: "Cả nước có quá nhiều chợ để xếp hạng ở đây: chọn một tỉnh, thành phố bên dưới để xem chợ nào nên đến tiếp.",
};

const errorsVi = {
  sign_changed: "Tài khoản trên biển này đã được sửa sau khi mở biển để in: tờ vừa in trả tiền vào tài khoản cũ. Hãy bỏ tờ đó và in lại biển.",
  support_changed: "Có người vừa ghi mục này của gói hỗ trợ trên máy khác, nên thay đổi trên máy này chưa được lưu. Xem điều đã ghi ở trang sạp rồi chọn lại nếu cần.",
  assignee_not_eligible: "Người này không làm việc ở chợ này (hoặc không ở trong tổ của bạn) nên không giao được.",
  not_assigner: "Chỉ tổ trưởng của tổ làm ở chợ này, cán bộ quản lý và quản trị viên được giao việc đi lại.",
  nothing_to_print: "Không có biển nào cần in.",
  print_job_not_found: "Không tìm thấy lượt in này.",
  invalid_name: "Họ tên chỉ gồm chữ cái, khoảng trắng và dấu . ' - (tối đa 100 ký tự).",
  invalid_phone: "Số điện thoại không đúng. Ví dụ: 0905 123 456.",
  invalid_bin: "Hãy chọn ngân hàng trong danh sách.",
  unknown_bin: "Không có ngân hàng nào mang mã số này. Hãy chọn ngân hàng trong danh sách.",
  invalid_account_number: "Số tài khoản chỉ gồm 1–19 chữ số hoặc chữ cái, không có ký hiệu như ! # / (dấu cách, chấm, gạch ngang được bỏ qua).",
  invalid_account_name: "Tên tài khoản: chữ in hoa không dấu, số, khoảng trắng và . , ' - (tối đa 50 ký tự).",
  invalid_stall_code: "Mã sạp gồm 1–20 ký tự: chữ cái (chữ có dấu cũng được), chữ số, khoảng trắng và . _ / -, bắt đầu bằng chữ cái hoặc chữ số (ví dụ A-12, Đ-5).",
  invalid_zone: "Tên khu gồm 1–40 ký tự: chữ cái (chữ có dấu cũng được), chữ số, khoảng trắng và . _ / -, bắt đầu bằng chữ cái hoặc chữ số (ví dụ Khu Cá).",
  invalid_goods: "Mặt hàng tối đa 100 ký tự, không dùng ký hiệu như = < > | ~ hay biểu tượng cảm xúc.",
  invalid_purpose: "Mục đích đồng ý không hợp lệ.",
  notice_missing: "Chưa tải được thông báo về dữ liệu cá nhân: kết nối mạng rồi mở lại trang.",
  unknown_notice_version: "Thông báo dữ liệu cá nhân đã cũ hoặc không hợp lệ: tải lại ứng dụng và đọc thông báo mới cho chủ sạp.",
  consent_required: "Chủ sạp phải đồng ý đăng ký (ô đầu tiên) thì mới lưu được.",
  withdraw_offline: "Cần có mạng để ghi nhận rút đồng ý: thử lại khi có sóng.",
  stall_code_taken: "Mã sạp này đã được đăng ký ở chợ này. Kiểm tra lại mã sạp.",
  stall_code_queued: "Mã sạp này đã có trong một hồ sơ chờ gửi trên máy này. Mở hàng chờ để xem hồ sơ đó.",
  possible_duplicate: "Số điện thoại này đã có ở một sạp khác trong chợ.",
  account_in_use: "Một sạp khác trong chợ đang nhận tiền vào tài khoản này. Hãy đối chiếu số với thẻ hoặc mã QR của chủ sạp.",
  idempotency_key_reused: "Hồ sơ này đã được gửi với nội dung khác. Hãy lưu lại thành hồ sơ mới.",
  version_conflict: "Sạp vừa được người khác sửa. Mở lại sạp và sửa lại.",
  unauthorized: "Phiên đăng nhập đã hết. Hãy đăng nhập lại.",
  forbidden: "Tài khoản của bạn không có quyền làm việc này (hoặc ở chợ này).",
  too_many_attempts: "Sai quá nhiều lần. Hãy đợi vài phút rồi thử lại.",
  payload_too_large: "Dữ liệu hoặc ảnh quá lớn.",
  validation_error: "Thông tin chưa đúng.",
  missing: "Hãy điền mục này.",
  string_too_long: "Quá dài.",
  string_too_short: "Hãy điền mục này.",
  required: "Hãy điền mục này.",
  account_exists: "Tài khoản này đã có ở sạp (đang dùng, hoặc đã ngừng dùng): không thêm lại được. Nếu tài khoản đã ngừng dùng, mở trang sạp và chọn \"Dùng lại\" bên cạnh tài khoản.",
  momo_reference_required: "Ví MoMo cần mã tham chiếu bắt đầu bằng MOMOW2W (quét mã QR MoMo của chủ sạp để tự điền).",
  invalid_reference: "Mã tham chiếu gồm 1–25 chữ cái hoặc chữ số.",
  consent_missing: "Chủ sạp chưa đồng ý in tên và số tài khoản lên biển, nên chưa in được biển mã QR.",
  consent_withdrawn: "Chủ sạp đã rút lại đồng ý in biển, nên không in biển mã QR nữa.",
  unknown_partner: "Đối tác này không có trong danh sách.",
  no_payment_account: "Sạp chưa có tài khoản nhận tiền.",
  qr_mismatch: "Mã trên biển không khớp tài khoản đã lưu.",
  no_qr_found: "Không thấy mã QR trong ảnh.",
  bad_image: "Không đọc được ảnh. Chụp lại (ảnh JPG, PNG hoặc WebP).",
  invalid_text: "Có ký tự không dùng được. Hãy gõ lại.",
  not_found: "Không tìm thấy.",
  stall_not_found: "Không tìm thấy sạp này.",
  market_not_found: "Không tìm thấy chợ này.",
  province_not_found: "Không có tỉnh, thành phố nào với mã này: kiểm tra lại địa chỉ trang.",
  ward_not_found: "Không có phường, xã nào với mã này: kiểm tra lại địa chỉ trang.",
  ward_not_in_province: "Phường, xã này không thuộc tỉnh, thành phố đã chọn: kiểm tra lại địa chỉ trang.",
  not_available: "Máy chủ chưa có chức năng này.",
  network: "Không có mạng",
  server: "Máy chủ đang gặp lỗi",
  internal_error: "Máy chủ đang gặp lỗi",
  unknown: "Lỗi không rõ",
  bank_incomplete: "Chọn ngân hàng và nhập số tài khoản (hoặc để trống cả phần tài khoản).",
  conflict: "Sạp vừa thay đổi. Mở lại rồi làm lại.",
  precondition_required: "Hãy mở lại sạp rồi sửa lại.",
  unavailable: "Máy chủ tạm thời không phục vụ được. Hãy thử lại sau ít phút.",
  bad_request: "Yêu cầu không hợp lệ. Hãy tải lại ứng dụng rồi thử lại.",
  invalid_json: "Yêu cầu không hợp lệ. Hãy tải lại ứng dụng rồi thử lại.",
  method_not_allowed: "Máy chủ chưa có chức năng này.",
  unsupported_media_type: "Tệp gửi lên không đúng loại.",
  idempotency_key_required: "Hồ sơ thiếu mã gửi. Hãy tải lại ứng dụng rồi lưu lại.",
  notice_not_found: "Không tìm thấy phiên bản thông báo dữ liệu cá nhân này.",
  no_purpose: "Hãy đánh dấu ít nhất một mục chủ sạp đồng ý.",
  stallholder_erased: "Dữ liệu của chủ sạp này đã bị xóa theo yêu cầu. Hãy đăng ký lại nếu chủ sạp quay lại.",
  stallholder_not_found: "Không tìm thấy chủ sạp này.",
  invalid_cccd: "Số CCCD gồm đúng 12 chữ số.",
  invalid_address: "Địa chỉ tối đa 200 ký tự, không dùng ký hiệu như < > = | ~ hay biểu tượng cảm xúc.",
  unknown_ward: "Không có phường này trong danh sách.",
  account_disabled: "Tài khoản này đã bị khóa. Hãy liên hệ quản trị viên để mở lại.",
  invalid_credentials: "Sai tên đăng nhập hoặc mật khẩu.",
  partner_not_found: "Đối tác này không có trong danh sách.",
  invalid_support_phone: "Số hỗ trợ gồm các nhóm chữ số (ít nhất 3 chữ số, tối đa 20 ký tự), giữa các nhóm là một dấu cách, dấu chấm hoặc gạch ngang (ví dụ 1900 545426).",
  unknown_account: "Không tìm thấy tài khoản này.",
  client_error: "Ứng dụng gặp lỗi khi gửi. Hãy tải lại ứng dụng rồi thử lại.",
  unknown_kind: "Ứng dụng không biết gửi hồ sơ loại này. Hãy tải lại ứng dụng.",
  generic: "Không làm được việc này. Hãy thử lại; nếu vẫn lỗi, báo Ban quản lý chợ.",
  unknown_zone: "Chợ không có khu này. Hãy chọn một khu trong danh sách.",
  zone_retired: "Khu này đã ngừng dùng, không nhận sạp mới. Hãy chọn khu khác.",
  duplicate_zone: "Tên khu bị lặp lại.",
  zone_taken: "Chợ đã có khu mang tên này.",
  market_archived: "Chợ này đã được lưu trữ (ngừng hoạt động): không đăng ký thêm sạp được.",
  account_inactive: "Tài khoản này đã ngừng dùng. Hãy thêm tài khoản đúng thành tài khoản mới.",
  payment_account_not_found: "Không tìm thấy tài khoản này ở sạp.",
  invalid_reason: "Hãy ghi lý do (tối đa 200 ký tự).",
  coordinates_incomplete: "Cần cả vĩ độ và kinh độ.",
  invalid_period: "Khoảng thời gian không hợp lệ: ngày bắt đầu phải trước ngày kết thúc, tối đa 400 ngày.",
  team_not_found: "Không tìm thấy tổ này.",
  team_name_taken: "Phường này đã có tổ trùng tên. Hãy đặt tên khác.",
  invalid_team_name: "Tên tổ gồm chữ, số và dấu câu thông thường (tối đa 100 ký tự).",
  user_in_other_team: "Người này đang ở một tổ khác. Hãy bỏ họ khỏi tổ cũ trước.",
  leader_not_member: "Tổ trưởng phải là thành viên của tổ.",
  member_role: "Chỉ tình nguyện viên và cán bộ quản lý mới vào tổ được.",
  unknown_user: "Không tìm thấy người dùng này (hoặc tài khoản đã khóa).",
  unknown_market: "Không tìm thấy chợ này.",
  out_of_scope: "Phường hoặc chợ này không thuộc phạm vi bạn quản lý.",
};

let notice = null;

export function setNotice(value) {
  notice = value && Array.isArray(value.vi) && Array.isArray(value.en) ? value : null;
}
export function noticeVersion() { return notice ? notice.version : null; }

// English (lib/i18n-en.js) is loaded when it is chosen; strings added before that (addStrings)
// stay on top of it.
let en = {};
let errorsEn = {};
let english = null;
function loadEnglish() {
  if (!english) {
    english = import("./i18n-en.js").then((mod) => {
      en = Object.assign({}, mod.en, en);
      errorsEn = Object.assign({}, mod.errorsEn, errorsEn);
    }, (err) => { english = null; throw err; });
  }
  return english;
}

let lang = localStorage.getItem(KEY) === "en" ? "en" : "vi";
// A page opened in English waits for its strings (offline too: the service worker keeps them).
if (lang === "en") await loadEnglish().catch(() => { lang = "vi"; });

export function currentLang() { return lang; }

export function t(key, vars = {}) {
  const table = lang === "en" ? en : vi;
  // English plurals: "{n|stall|stalls}" is the first word when n is 1, else the second.
  let text = (table[key] ?? vi[key] ?? key).replace(/\{(\w+)\|([^|}]*)\|([^|}]*)\}/g, (_, k, one, more) => (String(vars[k]) === "1" ? one : more));
  for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
  return text;
}

// A zone named by a letter or a word ("A", "Cá") is "Khu A", "Khu Cá"; a name that already says what
// kind of place it is ("Khu Đ", "Nhà lồng Ư", "Dãy 3", "Lô B") is shown as it is, never "Khu Khu Đ".
const PLACE_WORDS = new Set(["khu", "day", "nha", "lo", "tang", "cho", "kiot", "ki-ot", "zone", "block", "hall", "row"]);

/** How a market's zone is named on screen. */
export function zoneLabel(zone) {
  const name = String(zone ?? "").trim();
  const first = name.split(/\s+/)[0].normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  return PLACE_WORDS.has(first) && name.includes(" ") ? name : t("zone_n", { z: name });
}

/** A market's ward ("Chưa có phường" when none is chosen yet), and its ward or district before
 * the 2025 reform when it had one: the worklist, the market picker and the market page. */
export function wardLine(m) {
  const old = [m.legacy_ward_name, m.legacy_district_name].filter(Boolean).join(", ");
  return [m.ward_name || t("ward_none"), old ? `(${t("ward_before", { old })})` : ""].filter(Boolean).join(" ");
}

/** The message for an API problem `code`, in the current language; a generic one for codes not known here. */
export function errorText(code, problem) {
  const table = lang === "en" ? errorsEn : errorsVi;
  const text = table[code] || table.generic;
  // A message naming where ("Ô {cell}") takes it from the problem (a spreadsheet cell's address).
  return problem && typeof problem.cell === "string" ? text.split("{cell}").join(problem.cell.slice(0, 12)) : text;
}

/**
 * What to tell the volunteer about a failed call: never the API's English title or detail, always a
 * message in the current language chosen by the problem's `code` (or a generic one).
 */
export function describeError(err) {
  if (!err) return errorText("unknown");
  if (err.name === "NetworkError") return t("need_network");
  if (err.name === "ApiError") {
    if (err.status === 405 || (err.status === 404 && err.code === "not_found")) return t("not_available_yet");
    if (err.status >= 500 && !(err.code in errorsVi)) return errorText("server");
    return errorText(err.code, err.problem);
  }
  return errorText("unknown");
}

/**
 * More strings for a group of pages (the console keeps its own in console/strings.js): merged into
 * the same tables, so t() and errorText() find them and the language switch covers them.
 */
export function addStrings({ vi: moreVi = {}, en: moreEn = {}, errorsVi: moreErrVi = {}, errorsEn: moreErrEn = {} }) {
  Object.assign(vi, moreVi);
  Object.assign(en, moreEn);
  Object.assign(errorsVi, moreErrVi);
  Object.assign(errorsEn, moreErrEn);
}

/** The string tables as they stand, English loaded (tests compare what a page shows with them). */
export async function stringTables() {
  await loadEnglish();
  return { vi: { ...vi }, en: { ...en }, errorsVi: { ...errorsVi }, errorsEn: { ...errorsEn } };
}

export function hasErrorText(code) {
  return code in errorsVi;
}

export function noticeText() { return notice ? notice[lang] : []; }

export async function setLang(value) {
  const next = value === "en" ? "en" : "vi";
  if (next === "en") await loadEnglish();
  lang = next;
  localStorage.setItem(KEY, lang);
  applyStatic();
  window.dispatchEvent(new CustomEvent("choso:lang"));
}

/** Text of elements marked data-i18n in the page shells. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

const fmtCache = {};
function numberFormat(opts) {
  const k = lang + JSON.stringify(opts);
  if (!fmtCache[k]) fmtCache[k] = new Intl.NumberFormat(lang === "en" ? "en-GB" : "vi-VN", opts);
  return fmtCache[k];
}

// Whole numbers (every count on screen) are grouped here, as Intl groups them for both languages
// (1.234 / 1,234): the first Intl.NumberFormat of a page loads the locale's data, about 60 ms of a
// slow tablet's start-up before the worklist's counts show. Anything else goes to Intl.
// tests/web/test_formats.py compares both over a range of values in Chromium.
const GROUP_SEPARATOR = { vi: ".", en: "," };

function grouped(whole) {
  const digits = String(Math.abs(whole));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += GROUP_SEPARATOR[lang] + digits.slice(i, i + 3);
  return whole < 0 ? `-${out}` : out;
}

export function num(n) {
  const value = Number(n) || 0;
  return Number.isSafeInteger(value) && GROUP_SEPARATOR[lang] ? grouped(value) : numberFormat({}).format(value);
}
/** A share as a whole percentage, rounded down: 89.8 % of stalls is "89 %", never the "90 %" a
 * target asks for (a manager read a missed target as met). 1e-9 absorbs float error (0.29 * 100). */
export function pct(share) {
  const whole = Math.floor((Number(share) || 0) * 100 + 1e-9) / 100;
  return numberFormat({ style: "percent", maximumFractionDigits: 0 }).format(whole);
}

/** A target (a rule's threshold) as it was set, to a tenth of a percent: 0.575 is "57,5%", not
 * the "57%" a share rounded down would read (a market at 57.3% would seem to meet it). */
export function targetPct(threshold) {
  return numberFormat({ style: "percent", maximumFractionDigits: 1 }).format(Number(threshold) || 0);
}

// Moments are shown in Vietnam's time (UTC+7 all year, no daylight saving since 1975), whatever
// zone the device is set to (a tablet left on UTC said 06:47 for 13:47): as the server's reports,
// exports and days (lib/activity.js today) count them. Worked out directly, without building a
// date formatter at start-up (about 100 ms on a slow tablet).
const VN_OFFSET_MS = 7 * 3600 * 1000;
const two = (n) => String(n).padStart(2, "0");

/** The date (YYYY-MM-DD) in Asia/Ho_Chi_Minh at `now` (milliseconds or a Date; default: now), whatever the device's zone. */
export function today(now = Date.now()) {
  return new Date(Number(now) + VN_OFFSET_MS).toISOString().slice(0, 10);
}
/** The moment's wall clock in Vietnam, read with the getUTC* methods (at the very end of the
 * Date range, where +7 h does not fit, the same clock a day earlier). */
function inVietnam(d) {
  const v = new Date(d.getTime() + VN_OFFSET_MS);
  return Number.isNaN(v.getTime()) ? new Date(d.getTime() + VN_OFFSET_MS - 24 * 3600 * 1000) : v;
}

/** Hours and minutes in Vietnam, as both locales write them (13:05). */
export function time(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return d.toLocaleTimeString(lang === "en" ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" });
  const v = inVietnam(d);
  return `${two(v.getUTCHours())}:${two(v.getUTCMinutes())}`;
}

export function dateTime(value) {
  // The day written in full as tables and reports write it (04/11/2026, not Chromium's vi-VN
  // "4/11/26"), the time first in Vietnamese: "22:15 04/11/2026"; "04/11/2026, 22:15" in English.
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const v = inVietnam(d);
  const day = `${two(v.getUTCDate())}/${two(v.getUTCMonth() + 1)}/${v.getUTCFullYear()}`;
  const clock = `${two(v.getUTCHours())}:${two(v.getUTCMinutes())}`;
  return lang === "en" ? `${day}, ${clock}` : `${clock} ${day}`;
}

export function date(value) {
  // Day and month as both languages write them here, "30/11" (Chromium's vi-VN gives "30-11"); a
  // calendar day ("2026-11-30") is read as written, not moved by the device's time zone.
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (day) return `${day[3]}/${day[2]}`;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const v = inVietnam(d);
  return `${two(v.getUTCDate())}/${two(v.getUTCMonth() + 1)}`;
}
