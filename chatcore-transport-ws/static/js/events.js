// Server events: one dispatch, and the handlers that belong to no single feature.

import { el, toast } from "./util.js";
import { state, room, roomLabel, params, ROOMS_REFRESH_MS, PING_EVERY_MS, PONG_TIMEOUT_MS, TYPING_EXPIRE_MS } from "./state.js";
import { request, setConn, abandon } from "./net.js";
import { hideLogin, remember, showMe, storeKey } from "./auth.js";
import { join, onJoined, onLeft, onHistory, onRoomsList, renderTop, savedRooms } from "./rooms.js";
import { renderOnline, renderRooms, renderTyping, showRoom, updateTitle, isNearBottom, scrollToBottom } from "./view.js";
import { onReadPosition, onReceipts } from "./reads.js";
import { onMessage } from "./messages.js";
import { onAck, onSendError } from "./send.js";
import { onInvited, onMembers, onCreated, onRoomDeleted, refreshMembers } from "./members.js";
import { onThread } from "./thread.js";
import { onSearchResults } from "./search.js";

/** Handles one frame from the server. */
export function onEvent(ev) {
  // Replies echo the numeric request id (in `message` events `id` is the message's id).
  const req = typeof ev.id === "number" ? state.requests.get(ev.id) : undefined;
  if (req) state.requests.delete(ev.id);
  switch (ev.type) {
    case "welcome": return onWelcome(ev);
    case "joined": return onJoined(ev, req);
    case "left": return onLeft(ev, req);
    case "message": return onMessage(ev, true);
    case "ack": return onAck(ev, req);
    case "error": return onError(ev, req);
    case "history": return onHistory(ev, req);
    case "rooms": return onRoomsList(ev);
    case "presence": {
      const r = room(ev.room);
      r.online = new Set(ev.online);
      if (ev.id === undefined) r.count = null;  // a large room became small: the list is whole again
      return renderOnline();
    }
    case "online_count": {
      // A large room: joins and leaves are not announced one by one, only the count.
      room(ev.room).count = ev.online;
      return renderOnline();
    }
    case "user_joined": return onPresence(ev.room, ev.user, true);
    case "user_left": return onPresence(ev.room, ev.user, false);
    case "typing": return onTyping(ev);
    case "pong": clearTimeout(state.pongTimer); return;
    case "read": return onReadPosition(ev);
    case "receipts": return onReceipts(ev);
    case "mention": return toast(`${ev.sender} in ${roomLabel(ev.room)}: ${ev.text}`, "mention", true);
    case "invited": return onInvited(ev);
    case "members": return onMembers(ev);
    case "created": return onCreated(ev, req);
    case "room_deleted": return onRoomDeleted(ev);
    case "thread": return onThread(ev);
    case "search_results": return onSearchResults(ev, req);
    default: console.debug("ignoring frame of unknown type", ev.type);
  }
}

function onWelcome(ev) {
  const initial = !state.everWelcomed;  // first connection with these credentials
  state.user = ev.user;
  state.maxTextBytes = ev.max_text_bytes || state.maxTextBytes;
  state.everWelcomed = true;
  state.attempt = 0;
  state.refusals = 0;
  remember();
  hideLogin();
  showMe(ev.user);
  setConn("online", "Connected");
  request({ type: "rooms" });
  state.roomsTimer = setInterval(() => request({ type: "rooms" }), ROOMS_REFRESH_MS);
  state.pingTimer = setInterval(() => {
    request({ type: "ping" });
    clearTimeout(state.pongTimer);
    state.pongTimer = setTimeout(abandon, PONG_TIMEOUT_MS);
  }, PING_EVERY_MS);
  if (initial) {
    const first = params.get("room") || localStorage.getItem(storeKey("room")) || "general";
    for (const name of new Set([first, ...savedRooms()])) join(name, name === first);
  } else {
    for (const r of state.rooms.values()) if (r.want) join(r.name, false);
  }
}

function onError(ev, req) {
  const text = ev.message || ev.code;
  if (req && req.type === "send" && onSendError(ev, req)) return;
  if (req && req.type === "join") {
    const r = state.rooms.get(req.room);
    if (r) r.joining = false;
    if (r && !r.everJoined) {
      state.rooms.delete(req.room);
      if (state.current === req.room) showRoom(null);
      renderRooms();
    }
  }
  if (req && req.type === "history") {
    const r = state.rooms.get(req.room);
    if (r) { r.loadingOlder = false; renderTop(r); }
  }
  // Background requests (a member list, a read position) fail quietly: a room the user was
  // just removed from refuses them, and the removal itself is what the user is told.
  if (req && req.quiet) { console.debug("background request refused", req.type, ev.code, text); return; }
  toast(text, ev.code);
}

function onPresence(name, user, online) {
  const r = state.rooms.get(name);
  if (!r) return;
  if (online === r.online.has(user)) return;
  if (online) r.online.add(user); else r.online.delete(user);
  if (!online && r.typing.has(user)) { clearTimeout(r.typing.get(user)); r.typing.delete(user); renderTyping(); }
  if (r.joined && user !== state.user) {
    r.listEl.append(el("div", { class: "system" }, `${user} ${online ? "joined" : "left"}`));
    if (name === state.current && isNearBottom()) scrollToBottom();
  }
  if (online) refreshMembers(name);
  renderOnline();
  renderRooms();
  updateTitle();
}

function onTyping(ev) {
  const r = state.rooms.get(ev.room);
  if (!r || ev.user === state.user) return;
  clearTimeout(r.typing.get(ev.user));
  if (ev.on) {
    r.typing.set(ev.user, setTimeout(() => { r.typing.delete(ev.user); renderTyping(); }, TYPING_EXPIRE_MS));
  } else {
    r.typing.delete(ev.user);
  }
  renderTyping();
}
