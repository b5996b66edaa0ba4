// Drawing one message: its text (never markup), "(edited)", a tombstone, reaction chips, the
// thread summary, and the actions shown on hover or focus.

import { el, formatTime, senderColor } from "./util.js";
import { state, myRole, outranks } from "./state.js";
import { react, startEdit, deleteMessage } from "./changes.js";
import { openThread } from "./thread.js";

/** The emoji offered on every message. */
const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉"];

/** A moderation event (`ann kicked bob: spam`) as a system line, from its `text`. */
export function renderEvent(m) {
  return el("div", { class: "system event", dataset: { seq: String(m.seq), kind: m.kind } }, m.text);
}

/** A message line of room `r`. */
export function renderMessage(r, m) {
  const mine = m.sender === state.user;
  const kind = m.kind || "text";
  const classes = ["msg"];
  if (mine) classes.push("mine");
  if (m.deleted) classes.push("deleted");
  else if (kind === "emote") classes.push("emote");
  else if (kind !== "text") classes.push("unknown");
  const text = m.deleted ? "message deleted" : kind === "emote" ? `${m.sender} ${m.text}` : m.text;
  return el("div", { class: classes.join(" "), tabindex: "0", dataset: { seq: String(m.seq), sender: m.sender } },
    el("span", { class: "time", title: new Date(m.ts).toLocaleString() + ` · #${m.seq}` }, formatTime(m.ts)),
    el("span", { class: "sender", color: senderColor(m.sender) }, m.sender),
    el("div", { class: "body" },
      m.reply_to ? el("span", { class: "reply" }, `↪ #${m.reply_to}`) : null,
      el("span", { class: "text" }, text),
      m.edited_ts && !m.deleted ? el("span", { class: "edited", title: new Date(m.edited_ts).toLocaleString() }, "(edited)") : null,
      chips(r, m),
      threadSummary(r, m)),
    actions(r, m));
}

function chips(r, m) {
  const list = m.reactions || [];
  if (!list.length) return null;
  return el("div", { class: "reactions" }, ...list.map((x) =>
    el("button", {
      type: "button", class: "chip" + (x.me ? " me" : ""), dataset: { emoji: x.emoji, count: String(x.count) },
      title: x.me ? "Remove your reaction" : "React",
      onclick: () => react(r, m, x.emoji, !x.me),
    }, `${x.emoji} ${x.count}`)));
}

function threadSummary(r, m) {
  const t = m.thread;
  if (!t || !t.replies) return null;
  return el("button", { type: "button", class: "thread-summary", dataset: { replies: String(t.replies) }, onclick: () => openThread(r.name, m.seq) },
    t.replies === 1 ? "1 reply" : `${t.replies} replies`);
}

function actions(r, m) {
  if (m.deleted) return null;
  const mine = m.sender === state.user;
  const mayDelete = mine || outranks(myRole(r), "member");
  const bar = el("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" },
    ...QUICK_EMOJI.map((e) => el("button", {
      type: "button", class: "react", dataset: { emoji: e }, title: `React ${e}`,
      onclick: () => {
        const chip = (m.reactions || []).find((x) => x.emoji === e);
        react(r, m, e, !(chip && chip.me));
      },
    }, e)),
    m.reply_to ? null : el("button", { type: "button", class: "reply-thread", title: "Reply in thread", onclick: () => openThread(r.name, m.seq) }, "Reply"),
    mine && m.kind !== "emote" ? el("button", { type: "button", class: "edit", title: "Edit", onclick: (e) => startEdit(r, m, e.target.closest(".msg")) }, "Edit") : null,
    mayDelete ? el("button", { type: "button", class: "delete", title: "Delete", onclick: () => deleteMessage(r, m) }, "Delete") : null);
  return bar;
}
