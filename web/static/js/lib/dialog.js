// A modal question with two answers, drawn in the page (a <dialog>), so its wording and buttons are
// in the app's language and the safe answer is the one focused first.

import { h } from "./dom.js";

/** confirmDialog({id, title, lines, ok, cancel}) -> Promise<boolean>: true only for the `ok` button. */
export function confirmDialog({ id = "confirm-dialog", title, lines = [], ok, cancel }) {
  return new Promise((resolve) => {
    const okBtn = h("button", { type: "button", class: "btn btn-danger", id: `${id}-ok` }, ok);
    const cancelBtn = h("button", { type: "button", class: "btn btn-primary", id: `${id}-cancel` }, cancel);
    const dialog = h("dialog", { class: "dialog", id, "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-text` },
      h("h2", { id: `${id}-title` }, title),
      h("div", { id: `${id}-text` }, lines.filter(Boolean).map((line) => h("p", {}, line))),
      h("div", { class: "row-actions" }, cancelBtn, okBtn));
    let answered = false;
    const answer = (value) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(value);
    };
    // The second click of a double click on the button that opened the question lands where the
    // question now is: it is not an answer (a reviewer created a user without reading it).
    okBtn.addEventListener("click", (ev) => { if (ev.detail < 2) answer(true); });
    cancelBtn.addEventListener("click", () => answer(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); answer(false); });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}
