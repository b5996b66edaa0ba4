// The page's state: one object, and one Room per room the page knows.

import { el } from "./util.js";

export const SUBPROTOCOL = "chatcore.v1.json";
export const PAGE_SIZE = 50;              // messages per scroll-back page
export const CATCH_UP_PAGE = 200;         // messages per resume catch-up page
export const TYPING_REFRESH_MS = 3000;    // resend typing:on at most this often while typing
export const TYPING_IDLE_MS = 4000;       // send typing:off after this long without a keystroke
export const TYPING_EXPIRE_MS = 6000;     // forget someone's typing:on after this long
export const PING_EVERY_MS = 25000;       // application-level liveness probe
export const PONG_TIMEOUT_MS = 10000;     // no pong in time: treat the connection as dead
export const BACKOFF_BASE_MS = 500, BACKOFF_MAX_MS = 30000;
export const ROOMS_REFRESH_MS = 20000;
export const READ_DELAY_MS = 400;         // coalesce `read` frames while messages stream in
/** Change events: applied to their target, never shown as lines (PROTOCOL.md, "Room events"). */
export const CHANGE_KINDS = new Set(["edit", "delete", "react", "unreact"]);
/** Moderation events: shown as system lines with their `text`. */
export const MODERATION_KINDS = new Set(["invite", "kick", "ban", "unban", "mute", "unmute", "role", "topic"]);
/** Room roles, lowest first. */
export const ROLES = ["member", "moderator", "admin", "owner"];

export const params = new URLSearchParams(location.search);

export const state = {
  creds: null,           // { kind: "guest" | "token" | "account", value, name, refresh?, expiresAt? }
  user: null,            // name from `welcome`
  maxTextBytes: 8192,
  ws: null,
  conn: "offline",       // offline | connecting | online
  everWelcomed: false,   // these credentials worked at least once
  refusals: 0,           // handshakes refused in a row while the server was healthy
  attempt: 0,            // reconnect attempts since the last welcome
  retryTimer: null,
  retryAt: 0,
  offlineUntil: 0,       // no reconnect before this time (window.chatcore.drop)
  nextId: 1,
  requests: new Map(),   // request id -> { type, room, nonce, ... }
  rooms: new Map(),      // name -> Room
  listed: [],            // last `rooms` answer
  invites: new Map(),    // room -> who invited us (from `invited`, until joined)
  current: null,         // name of the shown room
  pingTimer: null,
  pongTimer: null,
  roomsTimer: null,
  refreshTimer: null,    // renews an account's access token before it expires
  typingSentAt: 0,
  typingIdle: null,
  typingRoom: null,
  thread: null,          // { room, root } of the open thread panel
};

/** One room as this page knows it. */
export class Room {
  constructor(name) {
    this.name = name;
    this.kind = name.startsWith("dm:") ? "direct" : "public";
    this.want = false;        // the user wants to be in it (rejoined after reconnect)
    this.joined = false;      // joined on the current connection
    this.joining = false;     // a join request is on its way
    this.everJoined = false;  // joined at least once: later joins resume
    this.seen = 0;            // contiguous high-water mark: everything <= seen is here
    this.catchUpTo = 0;       // resume target (joined.last_seq) while paging
    this.msgs = new Map();    // seq -> message or event; messages carry `currentTo`
    this.nodes = new Map();   // seq -> the line showing it
    this.maxSeq = 0;
    this.oldest = Infinity;   // smallest seq loaded
    this.hasOlder = false;
    this.loadingOlder = false;
    this.online = new Set();
    this.count = null;        // users online in a large room (`online_count`); null: the list is whole
    this.typing = new Map();  // user -> expiry timer
    this.pending = [];        // own unacknowledged sends, in order
    this.unread = 0;
    this.readSent = 0;        // newest seq sent in a `read`
    this.readTimer = null;
    this.receipts = new Map(); // user -> read seq (`receipts`)
    this.members = [];        // last `members` answer
    this.scrollTop = null;    // saved scroll position while another room is shown
    this.topEl = el("div", { class: "list-top" });
    this.listEl = el("div", { class: "msgs" });
    this.pendingEl = el("div", { class: "pending-list" });
    this.seenEl = el("div", { class: "seen-by" });
    this.root = el("div", { class: "room-view", dataset: { room: name } },
      this.topEl, this.listEl, this.pendingEl, this.seenEl);
  }
}

/** The Room called `name`, made when missing. */
export function room(name) {
  let r = state.rooms.get(name);
  if (!r) { r = new Room(name); state.rooms.set(name, r); }
  return r;
}

/** How a room is named on screen: `#general`, or `@bob` for a direct room. */
export function roomLabel(name) {
  if (name.startsWith("dm:")) {
    const [a, b] = name.slice(3).split(":");
    return "@" + (a === state.user ? b : a);
  }
  return "#" + name;
}

/** The user's role in room `r` from its member list, "member" when unknown. */
export function myRole(r) {
  const me = r.members.find((m) => m.user === state.user);
  return me ? me.role : "member";
}

/** Whether role `a` is above role `b`. */
export function outranks(a, b) { return ROLES.indexOf(a) > ROLES.indexOf(b); }
