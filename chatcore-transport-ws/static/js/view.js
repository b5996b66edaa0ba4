// What the page shows around the messages: the room list, the header, who is online and
// typing, scrolling, the title.

import { $, el } from "./util.js";
import { state, room, roomLabel } from "./state.js";
import { setConn } from "./net.js";
import { storeKey } from "./auth.js";
import { join, loadOlder, renderTop } from "./rooms.js";
import { refreshMembers, showMembers } from "./members.js";
import { flushRead, markRead } from "./reads.js";
import { stopTyping } from "./send.js";

/** Shows room `name` (or none) in the chat column. */
export function showRoom(name) {
  const scroller = $("scroller");
  if (state.current && state.rooms.has(state.current)) {
    const prev = room(state.current);
    prev.scrollTop = isNearBottom() ? null : scroller.scrollTop;
    prev.root.remove();
    flushRead(prev);
  }
  if (state.typingRoom && state.typingRoom !== name) stopTyping();
  state.current = name;
  $("new-below").classList.add("hidden");
  $("no-room").classList.toggle("hidden", !!name);
  $("leave").classList.toggle("hidden", !name);
  if (!name) {
    $("room-title").textContent = "No room";
    $("room-meta").textContent = "";
  } else {
    const r = room(name);
    scroller.insertBefore(r.root, $("new-below"));
    $("room-title").textContent = roomLabel(name);
    renderTop(r);
    if (r.scrollTop === null) scrollToBottom(); else scroller.scrollTop = r.scrollTop;
    if (!name.startsWith("dm:")) localStorage.setItem(storeKey("room"), name);
    markRead(r);
    refreshMembers(name);
  }
  renderMeta();
  renderRooms();
  renderOnline();
  renderTyping();
  showMembers();
  updateTitle();
  setConn(state.conn, $("conn").textContent);
  if (name) maybeLoadOlder();
}

/** The room header's kind and topic. */
export function renderMeta() {
  if (!state.current) return;
  const r = room(state.current);
  const listed = state.listed.find((x) => x.name === r.name);
  const bits = [];
  if (r.kind !== "public") bits.push(r.kind);
  if (listed && listed.topic) bits.push(listed.topic);
  $("room-meta").textContent = bits.join(" · ");
}

/** The room list: listed rooms, joined ones and invitations, each with its unread badge. */
export function renderRooms() {
  const ul = $("rooms");
  const names = new Set(state.listed.map((x) => x.name));
  for (const r of state.rooms.values()) if (r.want) names.add(r.name);
  for (const name of state.invites.keys()) names.add(name);
  const sorted = [...names].sort((a, b) => (a.startsWith("dm:") - b.startsWith("dm:")) || a.localeCompare(b));
  ul.replaceChildren(...sorted.map((name) => {
    const r = state.rooms.get(name);
    const listed = state.listed.find((x) => x.name === name);
    const invited = (!r || !r.want) && (state.invites.has(name) || (listed && listed.invited));
    const online = r && r.joined ? r.online.size : listed ? listed.online : 0;
    const unread = r && r.everJoined ? r.unread : listed ? listed.unread || 0 : 0;
    const classes = [];
    if (name === state.current) classes.push("current");
    if (!r || !r.want) classes.push("not-joined");
    if (invited) classes.push("invited");
    return el("li", {
      class: classes.join(" "), dataset: { room: name }, title: r && r.want ? name : `Join ${name}`,
      onclick: () => join(name, true),
    },
      el("span", { class: "name" }, roomLabel(name)),
      invited ? el("span", { class: "invite-tag" }, "invited") : null,
      invited ? el("button", { type: "button", class: "accept", onclick: (e) => { e.stopPropagation(); join(name, true); } }, "Accept") : null,
      unread ? el("span", { class: "badge" }, unread > 999 ? "999+" : String(unread)) : null,
      online ? el("span", { class: "count", title: "online" }, String(online)) : null);
  }));
  renderMeta();
}

/** Who is online in the shown room. */
export function renderOnline() {
  const r = state.current ? state.rooms.get(state.current) : null;
  const users = r ? [...r.online].sort() : [];
  const count = r && r.count != null ? r.count : users.length;
  $("online-count").textContent = r ? `(${count})` : "";
  $("online").replaceChildren(...users.map((u) =>
    el("li", { class: u === state.user ? "me" : "", dataset: { user: u } }, u, u === state.user ? " (you)" : "")));
}

/** "bob is typing…" for the shown room. */
export function renderTyping() {
  const r = state.current ? state.rooms.get(state.current) : null;
  const who = r ? [...r.typing.keys()].sort() : [];
  let text = "";
  if (who.length === 1) text = `${who[0]} is typing…`;
  else if (who.length === 2) text = `${who[0]} and ${who[1]} are typing…`;
  else if (who.length > 2) text = `${who.length} people are typing…`;
  $("typing").textContent = text;
}

/** The tab's title: unread count and the shown room. */
export function updateTitle() {
  let unread = 0;
  for (const r of state.rooms.values()) unread += r.unread;
  const where = state.current ? ` ${roomLabel(state.current)}` : "";
  document.title = (unread ? `(${unread}) ` : "") + "chatcore" + where;
}

export function isNearBottom() {
  const s = $("scroller");
  return s.scrollHeight - s.scrollTop - s.clientHeight < 60;
}

export function scrollToBottom() {
  const s = $("scroller");
  s.scrollTop = s.scrollHeight;
  $("new-below").classList.add("hidden");
}

/** Loads an older page when the view is near the top, or not even full. */
export function maybeLoadOlder() {
  const s = $("scroller");
  if (!state.current) return;
  const r = room(state.current);
  if (s.scrollTop < 80 || s.scrollHeight <= s.clientHeight) loadOlder(r);
}
