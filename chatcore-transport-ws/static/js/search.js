// Search: the header's box sends `search`; hits are listed with their words marked (as text),
// and a click jumps to the room and, when it is loaded, to the message.

import { $, el, formatTime, toast } from "./util.js";
import { state, roomLabel } from "./state.js";
import { request } from "./net.js";
import { join } from "./rooms.js";

const JUMP_TRIES = 30, JUMP_EVERY_MS = 150;

/** Sends the query in the search box (or the next page of the last one with `before`). */
export function search(before) {
  const q = $("search-q").value.trim();
  if (!q) return;
  const frame = { type: "search", q, limit: 20 };
  if (before) frame.before = before;
  if (request(frame, { q, more: !!before }) === null) return toast("Not connected.", "offline");
  if (!before) {
    $("search-results").replaceChildren(el("li", { class: "searching" }, "Searching…"));
    $("search").classList.remove("hidden");
  }
}

export function closeSearch() { $("search").classList.add("hidden"); }

export function onSearchResults(ev, req) {
  const list = $("search-results");
  const items = (ev.hits || []).map(hitItem);
  if (req && req.more) list.append(...items);
  else list.replaceChildren(...(items.length ? items : [el("li", { class: "none" }, "No messages found.")]));
  const more = $("search-more");
  more.classList.toggle("hidden", !ev.next);
  more.onclick = ev.next ? () => search(ev.next) : null;
}

function hitItem(hit) {
  const m = hit.message;
  return el("li", { dataset: { room: m.room, seq: String(m.seq) }, tabindex: "0", onclick: () => jump(m.room, m.seq) },
    el("div", { class: "where" }, `${roomLabel(m.room)} · ${m.sender} · ${formatTime(m.ts)}`),
    el("div", { class: "snippet" }, ...marked(m.text, hit.highlights || [])));
}

/** The text with its byte ranges `[start, end)` wrapped in <mark>, all as text nodes. */
function marked(text, ranges) {
  const bytes = new TextEncoder().encode(text);
  const dec = new TextDecoder();
  const out = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at || end > bytes.length || start >= end) continue;
    out.push(dec.decode(bytes.subarray(at, start)), el("mark", {}, dec.decode(bytes.subarray(start, end))));
    at = end;
  }
  out.push(dec.decode(bytes.subarray(at)));
  return out;
}

/** Shows the hit's room, and its message once it is loaded there. */
function jump(name, seq) {
  join(name, true);
  let tries = 0;
  const find = () => {
    const r = state.rooms.get(name);
    const node = r && r.nodes.get(seq);
    if (node && state.current === name) {
      node.scrollIntoView({ block: "center" });
      node.classList.add("flash");
      setTimeout(() => node.classList.remove("flash"), 2000);
    } else if (++tries < JUMP_TRIES) {
      setTimeout(find, JUMP_EVERY_MS);
    }
  };
  find();
}
