// Rooms with authority: creating rooms, invitations, the member list with roles, and kick,
// ban and mute from it. The server decides who may; refusals come back as error toasts.

import { $, el, nameProblem, toast } from "./util.js";
import { state, roomLabel, myRole, outranks } from "./state.js";
import { request } from "./net.js";
import { join } from "./rooms.js";
import { renderRooms } from "./view.js";

/** Asks for room `name`'s member list when it is shown (not for direct rooms). */
export function refreshMembers(name) {
  const r = state.rooms.get(name);
  if (!r || !r.joined || r.kind === "direct" || name !== state.current) return;
  request({ type: "members", room: name }, { room: name, quiet: true });
}

export function onMembers(ev) {
  const r = state.rooms.get(ev.room);
  if (!r) return;
  r.members = ev.members || [];
  if (ev.room === state.current) showMembers();
}

/** Draws the member panel of the shown room; moderation buttons where the user outranks. */
export function showMembers() {
  const r = state.current ? state.rooms.get(state.current) : null;
  const panel = $("members-panel");
  if (!r || r.kind === "direct") { panel.classList.add("hidden"); return; }
  panel.classList.remove("hidden");
  const mine = myRole(r);
  $("invite-form").classList.toggle("hidden", r.kind !== "private" || !outranks(mine, "moderator"));
  $("mod-reason").classList.toggle("hidden", !outranks(mine, "member"));
  $("members").replaceChildren(...r.members.map((m) => {
    const over = m.user !== state.user && outranks(mine, m.role);
    const act = (kind, label) => el("button", { type: "button", class: kind, onclick: () => moderate(r, kind, m.user) }, label);
    return el("li", { dataset: { user: m.user, role: m.role } },
      el("span", { class: "user" }, m.user, m.user === state.user ? " (you)" : ""),
      el("span", { class: "role" }, m.role),
      over && outranks(mine, "member") ? act("kick", "Kick") : null,
      over && outranks(mine, "member") ? act("mute", "Mute") : null,
      over && outranks(mine, "moderator") ? act("ban", "Ban") : null);
  }));
}

/** Kick, mute or ban `user` from room `r`, with the reason typed in the panel. */
function moderate(r, kind, user) {
  const frame = { type: kind, room: r.name, user };
  const reason = $("mod-reason").value.trim();
  if (reason && kind !== "mute") frame.reason = reason;
  request(frame, { room: r.name, done: () => { $("mod-reason").value = ""; } });
}

/** The create form: a public or private room, joined once created. */
export function createRoom() {
  const name = $("create-name").value.trim();
  const problem = nameProblem(name, 64);
  if (problem) return toast(problem, "invalid");
  const kind = $("create-private").checked ? "private" : "public";
  if (request({ type: "create", room: name, kind }, { room: name }) === null) return toast("Not connected.", "offline");
  $("create-name").value = "";
}

export function onCreated(ev) {
  const name = ev.room && ev.room.name;
  if (name) join(name, true);
}

/** The invite form: invites a user by name into the shown private room. */
export function inviteUser() {
  const user = $("invite-name").value.trim();
  const problem = nameProblem(user, 32);
  if (problem) return toast(problem, "invalid");
  if (!state.current) return;
  const name = state.current;
  request({ type: "invite", room: name, user }, {
    room: name, done: () => toast(`Invited ${user} to ${roomLabel(name)}.`, "invited", true),
  });
  $("invite-name").value = "";
}

/** `invited`: someone let us into a private room; joining it accepts. */
export function onInvited(ev) {
  state.invites.set(ev.room, ev.by);
  renderRooms();
  const accept = el("button", { type: "button", class: "accept", onclick: () => join(ev.room, true) }, "Accept");
  const t = toast(`${ev.by} invited you to ${roomLabel(ev.room)}.`, "invitation", true, accept);
  t.dataset.room = ev.room;
}

/** `room_deleted`: remembered for the `left` that follows. */
export function onRoomDeleted(ev) {
  const r = state.rooms.get(ev.room);
  if (r) r.deletedBy = ev.by;
}
