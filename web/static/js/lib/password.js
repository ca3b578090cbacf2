// Changing one's own password (POST /api/users/me/password), from the account menu of every page.
// Loaded when asked for: not part of the first screen.

import { h, toast } from "./dom.js";
import { t, addStrings, describeError, errorText } from "./i18n.js";
import * as api from "./api.js";

addStrings({
  vi: {
    pw_title: "Đổi mật khẩu",
    pw_current: "Mật khẩu đang dùng",
    pw_new: "Mật khẩu mới",
    pw_repeat: "Nhập lại mật khẩu mới",
    pw_hint: "Ít nhất 10 ký tự. Các máy khác đang đăng nhập tài khoản này sẽ phải đăng nhập lại.",
    pw_save: "Đổi mật khẩu",
    pw_done: "Đã đổi mật khẩu. Các máy khác đã được đăng xuất.",
    pw_mismatch: "Hai lần nhập mật khẩu mới không giống nhau.",
    pw_same: "Mật khẩu mới phải khác mật khẩu đang dùng.",
    pw_short: "Mật khẩu mới cần ít nhất {n} ký tự.",
    pw_current_missing: "Nhập mật khẩu đang dùng.",
  },
  en: {
    pw_title: "Change password",
    pw_current: "Current password",
    pw_new: "New password",
    pw_repeat: "New password again",
    pw_hint: "At least 10 characters. Other devices signed in to this account will have to sign in again.",
    pw_save: "Change password",
    pw_done: "Password changed. Other devices were signed out.",
    pw_mismatch: "The two new passwords are not the same.",
    pw_same: "The new password must differ from the current one.",
    pw_short: "The new password needs at least {n} characters.",
    pw_current_missing: "Type the current password.",
  },
  errorsVi: { wrong_password: "Mật khẩu đang dùng không đúng." },
  errorsEn: { wrong_password: "The current password is wrong." },
});

/** The dialog; resolves true once the password was changed. */
export function changePasswordDialog() {
  return new Promise((resolve) => {
    // 1,024 characters at most, as the server takes (a longer one got a vague "Thông tin chưa đúng").
    const input = (id, autocomplete) => h("input", { id, type: "password", autocomplete, required: true, maxlength: 1024, "aria-describedby": "pw-error" });
    const current = input("pw-current", "current-password");
    const fresh = input("pw-new", "new-password");
    const again = input("pw-repeat", "new-password");
    const error = h("p", { class: "form-error", id: "pw-error", role: "alert" });
    const save = h("button", { type: "submit", class: "btn btn-primary", id: "pw-save" }, t("pw_save"));
    const cancel = h("button", { type: "button", class: "btn", id: "pw-cancel" }, t("cancel"));
    const row = (el, label) => h("div", { class: "field" }, h("label", { for: el.id }, label), el);
    const form = h("form", { novalidate: true },
      h("h2", { id: "pw-title" }, t("pw_title")),
      h("p", { class: "hint" }, t("pw_hint")),
      row(current, t("pw_current")), row(fresh, t("pw_new")), row(again, t("pw_repeat")),
      error, h("div", { class: "row-actions" }, cancel, save));
    const dialog = h("dialog", { class: "dialog", id: "password-dialog", "aria-labelledby": "pw-title" }, form);
    const close = (value) => { if (dialog.open) dialog.close(); dialog.remove(); resolve(value); };
    const refuse = (message, el) => { error.textContent = message; el.focus(); };
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); close(false); });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      if (!current.value) { refuse(t("pw_current_missing"), current); return; }
      if (fresh.value !== again.value) { refuse(t("pw_mismatch"), again); return; }
      if (fresh.value === current.value) { refuse(t("pw_same"), fresh); return; }
      save.disabled = true;
      try {
        await api.sendJSON("POST", "/api/users/me/password", { current_password: current.value, new_password: fresh.value });
        close(true);
        toast(t("pw_done"), "ok");
      } catch (err) {
        if (err.code === "weak_password") refuse(t("pw_short", { n: (err.problem && err.problem.min_length) || 10 }), fresh);
        else if (err.code === "wrong_password") { current.value = ""; refuse(errorText("wrong_password"), current); }
        else if (err.code === "too_many_attempts") { current.value = ""; refuse(t("signin_locked", { min: Math.max(1, Math.ceil(((err.problem && err.problem.retry_after) || 300) / 60)) }), current); }
        else error.textContent = describeError(err);
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    current.focus();
  });
}
