// Small helpers with no state: DOM building, names, time, toasts.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/**
 * Where the server mounted us: the WebSocket and API live beside this page. A router nested
 * at /chat serves the page at "/chat" (no slash), so a last segment without a dot is the
 * mount point itself, not a file.
 */
export const base = /\/$|\/[^/]*\.[^/]*$/.test(location.pathname)
  ? location.pathname.replace(/[^/]*$/, "")
  : location.pathname + "/";

/** Builds an element. Strings become text nodes: user data never becomes markup. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "color") node.style.color = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A fresh nonce for an idempotent send. */
export function makeNonce() {
  if (crypto.randomUUID) return crypto.randomUUID();  // secure contexts only
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Length in UTF-8 bytes, as the server counts it. */
export function utf8Bytes(s) { return new TextEncoder().encode(s).length; }

/** Client-side copy of the server's name rules, for an early, readable error. */
export function nameProblem(name, max) {
  if (!name) return "Please enter a name.";
  if ([...name].length > max) return `At most ${max} characters.`;
  if (/[\s\u0000-\u001f\u007f]/u.test(name)) return "No spaces or control characters, please.";
  if (max === 32 && name.includes(":")) return "Names cannot contain ':'.";
  return null;
}

/** A time for a message line: hours and minutes today, with the date before. */
export function formatTime(ts) {
  const d = new Date(ts), now = new Date();
  const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return hm;
  return d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + hm;
}

/** A stable colour per user name. */
export function senderColor(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${h % 360} 55% 45%)`;
}

/**
 * Shows a short notice in the corner. `code` is a machine word shown small before the text;
 * `info` makes it informational (and longer lived); `extra` is an element appended (a button).
 * Returns the notice.
 */
export function toast(text, code, info, extra) {
  const t = el("div", { class: "toast" + (info ? " info" : ""), dataset: { code: code || "" } },
    code ? el("code", {}, code) : null, text, extra ? " " : null, extra || null);
  $("toasts").append(t);
  setTimeout(() => t.remove(), info ? 12000 : 8000);
  return t;
}
