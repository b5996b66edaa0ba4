// Messages of a room as the server sequenced them: deduplicated by seq, kept in seq order,
// and merged with change events (PROTOCOL.md, "Room events": current state in history).

import { $ } from "./util.js";
import { state, CHANGE_KINDS, MODERATION_KINDS } from "./state.js";
import { dropPending } from "./send.js";
import { renderMessage, renderEvent } from "./render.js";
import { renderRooms, renderTyping, updateTitle, isNearBottom, scrollToBottom } from "./view.js";
import { refreshMembers } from "./members.js";
import { markRead, renderSeenBy } from "./reads.js";
import { threadSees } from "./thread.js";

/** Fields of a message's current state, as history pages fill them in. */
const STATE_FIELDS = ["text", "data", "edited_ts", "deleted", "reactions", "thread"];

/** Whether `m` is a message (a line of its own), not a change or moderation event. */
export function isMessage(m) {
  const kind = m.kind || "text";
  return !CHANGE_KINDS.has(kind) && !MODERATION_KINDS.has(kind);
}

export function advanceSeen(r) {
  while (r.msgs.has(r.seen + 1)) r.seen += 1;
}

/**
 * Takes in one stored message or event, once (deduplicated by seq). `currentTo` is the seq
 * up to which a page's state is current (0 for a live event: current to its own seq).
 * Returns whether it was new.
 */
export function addMessage(r, m, live, currentTo) {
  const held = r.msgs.get(m.seq);
  if (held) {
    // Rule 1: a page's copy replaces the held state unless that is current to a later seq.
    if (currentTo && isMessage(held) && held.currentTo < currentTo) {
      for (const f of STATE_FIELDS) held[f] = m[f];
      held.currentTo = currentTo;
      redraw(r, held);
    }
    return false;
  }
  m.currentTo = currentTo || m.seq;
  r.msgs.set(m.seq, m);
  if (m.seq > r.maxSeq) r.maxSeq = m.seq;
  if (m.seq < r.oldest) r.oldest = m.seq;
  const kind = m.kind || "text";
  if (CHANGE_KINDS.has(kind)) {
    const target = r.msgs.get(m.target);
    if (target && applyChange(target, m)) redraw(r, target);
    threadSees(r, m);
    return true;
  }
  if (m.nonce && m.sender === state.user) dropPending(r, (p) => p.nonce === m.nonce);
  place(r, m, MODERATION_KINDS.has(kind) ? renderEvent(m) : renderMessage(r, m));
  if (MODERATION_KINDS.has(kind)) refreshMembers(r.name);
  if (m.reply_to) {
    const root = r.msgs.get(m.reply_to);
    if (root && applyReply(root, m)) redraw(r, root);
    threadSees(r, m);
  }
  if (live) {
    advanceSeen(r);
    if (r.typing.has(m.sender)) { clearTimeout(r.typing.get(m.sender)); r.typing.delete(m.sender); renderTyping(); }
    if (isMessage(m) && m.sender !== state.user) {
      if (state.current !== r.name || document.hidden) { r.unread += 1; renderRooms(); updateTitle(); }
    }
  }
  renderSeenBy(r);
  return true;
}

/** Puts a line into the room's list at its seq. */
function place(r, m, node) {
  r.nodes.set(m.seq, node);
  let after = null;
  if (m.seq < r.maxSeq) {
    for (const child of r.listEl.children) {
      if (child.dataset.seq && Number(child.dataset.seq) > m.seq) { after = child; break; }
    }
  }
  r.listEl.insertBefore(node, after);
}

/** Draws a held message again after its state changed. */
export function redraw(r, m) {
  const old = r.nodes.get(m.seq);
  if (!old) return;
  const node = renderMessage(r, m);
  old.replaceWith(node);
  r.nodes.set(m.seq, node);
}

/**
 * Rule 2: applies change event `ev` to `target` unless the target's state already holds it.
 * Returns whether anything changed.
 */
export function applyChange(target, ev) {
  if (ev.seq <= target.currentTo || target.deleted) return false;
  target.currentTo = ev.seq;
  switch (ev.kind) {
    case "edit":
      target.text = ev.text;
      target.edited_ts = ev.ts;
      break;
    case "delete":
      target.deleted = { by: ev.sender, ts: ev.ts };
      target.text = "";
      target.reactions = [];
      delete target.data;
      break;
    case "react": case "unreact": {
      const list = target.reactions ? target.reactions.map((x) => Object.assign({}, x)) : [];
      let chip = list.find((x) => x.emoji === ev.text);
      if (ev.kind === "react") {
        if (!chip) { chip = { emoji: ev.text, count: 0, me: false }; list.push(chip); }
        chip.count += 1;
        if (ev.sender === state.user) chip.me = true;
      } else if (chip) {
        chip.count -= 1;
        if (ev.sender === state.user) chip.me = false;
      }
      target.reactions = list.filter((x) => x.count > 0);
      break;
    }
    default: return false;
  }
  return true;
}

/** A reply moves its root's thread summary, unless the root's state already holds it. */
export function applyReply(root, reply) {
  if (reply.seq <= root.currentTo) return false;
  root.currentTo = reply.seq;
  const t = root.thread || { replies: 0, participants: [] };
  const participants = new Set(t.participants || []);
  participants.add(reply.sender);
  root.thread = { replies: t.replies + 1, last_seq: reply.seq, last_ts: reply.ts, participants: [...participants].sort() };
  return true;
}

/** A live `message` frame. */
export function onMessage(m, live) {
  const r = state.rooms.get(m.room);
  if (!r) return;
  const stick = isNearBottom();
  if (addMessage(r, m, live, 0) && r.name === state.current) {
    if (isMessage(m) || MODERATION_KINDS.has(m.kind)) {
      if (stick || m.sender === state.user) scrollToBottom();
      else $("new-below").classList.remove("hidden");
    }
    markRead(r);
  }
}
