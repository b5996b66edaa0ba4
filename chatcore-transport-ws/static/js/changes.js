// Changing a message: react and unreact, edit inline, delete. The server answers with a
// change event that every member (this page included) applies; nothing changes here first.

import { el, toast, utf8Bytes } from "./util.js";
import { state } from "./state.js";
import { request } from "./net.js";

/** Adds (`on`) or removes the user's `emoji` reaction on message `m`. */
export function react(r, m, emoji, on) {
  if (request({ type: on ? "react" : "unreact", room: r.name, target: m.seq, emoji }, { room: r.name }) === null) {
    toast("Not connected.", "offline");
  }
}

/** Deletes message `m` after a confirmation. */
export function deleteMessage(r, m) {
  if (!window.confirm("Delete this message?")) return;
  request({ type: "delete", room: r.name, target: m.seq }, { room: r.name });
}

/** Turns message `m`'s text into an editor: Enter saves, Escape cancels. */
export function startEdit(r, m, node) {
  const text = node && node.querySelector(".text");
  if (!text || node.querySelector(".edit-box")) return;
  const box = el("textarea", { class: "edit-text", rows: "2", "aria-label": "Edit message" });
  box.value = m.text;
  const cancel = () => form.replaceWith(text);
  const save = () => {
    const value = box.value.replace(/\s+$/, "");
    if (!value.trim() || value === m.text) return cancel();
    if (utf8Bytes(value) > state.maxTextBytes) {
      return toast(`Message too long: ${utf8Bytes(value)} bytes, the limit is ${state.maxTextBytes}.`, "too_large");
    }
    if (request({ type: "edit", room: r.name, target: m.seq, text: value }, { room: r.name }) === null) {
      return toast("Not connected.", "offline");
    }
    cancel();
  };
  const form = el("form", { class: "edit-box", onsubmit: (e) => { e.preventDefault(); save(); } },
    box,
    el("button", { type: "submit", class: "primary" }, "Save"),
    el("button", { type: "button", onclick: cancel }, "Cancel"));
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); save(); }
    if (e.key === "Escape") cancel();
  });
  text.replaceWith(form);
  box.focus();
}
