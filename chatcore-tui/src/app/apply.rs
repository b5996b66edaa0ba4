//! Network actions applied to the state: joins, leaves, messages, presence, typing and the
//! outcome of sends.

use chatcore::names::DM_PREFIX;
use chatcore_client::{Message, RoomKind};

use super::{Action, App, ConnStatus, Effect, Mode, Notice, RoomView, TYPING_TTL, mentions};
use crate::app::View;
use crate::config::Notifications;

impl App {
    /// Applies an action that came from the network (see [`is_network`](super::is_network)).
    pub(super) fn apply(&mut self, action: Action, fx: &mut Vec<Effect>) {
        match action {
            Action::Conn(status) => {
                if let ConnStatus::Connected { user } = &status {
                    self.me.clone_from(user);
                }
                self.conn = status;
            }
            Action::Joined {
                room,
                kind,
                last_seq,
                online,
                history,
                current_to,
            } => self.joined(room, kind, last_seq, online, (history, current_to), fx),
            Action::Left(room) => self.left(&room, fx),
            Action::Message(m) => self.message(m, fx),
            Action::History {
                room,
                messages,
                has_more,
                current_to,
            } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    r.insert_page(messages, current_to);
                    r.has_more = has_more;
                    r.loading = false;
                }
            }
            Action::Presence { room, online } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    r.online = online.into_iter().collect();
                    r.online_count = None;
                }
            }
            Action::OnlineCount { room, online } => {
                if let Some(i) = self.find(&room) {
                    self.rooms[i].online_count = Some(online);
                }
            }
            Action::UserPresence { room, user, online } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    if online {
                        r.online.insert(user);
                    } else {
                        r.typing.remove(&user);
                        r.online.remove(&user);
                    }
                }
            }
            Action::Typing { room, user, on } => {
                if user == self.me {
                    return;
                }
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    if on {
                        r.typing.insert(user, self.now + TYPING_TTL);
                    } else {
                        r.typing.remove(&user);
                    }
                }
            }
            Action::Sent { local_id } => self.pending.retain(|p| p.local_id != local_id),
            Action::SendFailed { local_id, error } => {
                if let Some(i) = self.pending.iter().position(|p| p.local_id == local_id) {
                    let p = self.pending.remove(i);
                    // Give the text back so nothing typed is lost.
                    if self.input.is_empty() {
                        self.input = if p.emote {
                            format!("/me {}", p.text)
                        } else {
                            p.text
                        };
                        self.cursor = self.input.chars().count();
                    }
                }
                self.notice = Some(Notice::Error(format!("not sent: {error}")));
            }
            Action::SignedIn { user } => {
                self.prompt = None;
                if self.mode == Mode::Insert && self.input.is_empty() {
                    self.mode = Mode::Normal;
                }
                self.account = Some(user.clone());
                self.notice = Some(Notice::Info(format!("signed in as {user}")));
            }
            Action::SignedOut => {
                self.account = None;
                self.notice = Some(Notice::Info("signed out".into()));
            }
            Action::Info(text) => self.notice = Some(Notice::Info(text)),
            Action::Error(text) => self.notice = Some(Notice::Error(text)),
            Action::ThreadPage {
                room,
                messages,
                current_to,
            } => {
                if let Some(i) = self.find(&room) {
                    self.rooms[i].insert_page(messages, current_to);
                }
            }
            Action::Read { room, seq } => {
                if let Some(i) = self.find(&room) {
                    let me = self.me.clone();
                    self.rooms[i].mark_read(seq, &me);
                }
            }
            Action::Receipts { room, reads } => {
                if let Some(i) = self.find(&room) {
                    self.rooms[i].receipts(reads);
                }
            }
            Action::Members { room, members } => {
                if let Some(i) = self.find(&room) {
                    self.rooms[i].members = members.into_iter().collect();
                }
            }
            Action::Badges {
                room,
                unread,
                mentions,
            } => {
                let shown = self.room().is_some_and(|r| r.name == room) && self.view == View::Chat;
                if let Some(i) = self.find(&room).filter(|_| !shown) {
                    self.rooms[i].unread = unread;
                    self.rooms[i].mentions = mentions;
                }
            }
            Action::Invited { room, by } => {
                self.notice = Some(Notice::Info(format!(
                    "{by} invited you to #{room}: /join {room} to accept"
                )));
            }
            Action::Removed(room) => {
                let why = self
                    .find(&room)
                    .and_then(|i| self.rooms[i].removal_of(&self.me));
                if self.remove_room(&room, fx) {
                    let why = why.unwrap_or_else(|| format!("you were removed from #{room}"));
                    self.notice = Some(Notice::Error(why));
                }
            }
            Action::RoomDeleted { room, by } => {
                let removed = self.remove_room(&room, fx);
                if removed {
                    self.notice = Some(Notice::Error(format!("#{room} was deleted by {by}")));
                }
            }
            Action::SearchResults { query, hits } => self.show_results(query, hits),
            _ => {}
        }
    }

    pub(super) fn joined(
        &mut self,
        room: String,
        kind: RoomKind,
        last_seq: u64,
        online: Vec<String>,
        (history, current_to): (Vec<Message>, u64),
        fx: &mut Vec<Effect>,
    ) {
        let i = match self.find(&room) {
            Some(i) => i,
            None => {
                self.rooms.push(RoomView::new(room.clone(), kind, &self.me));
                self.rooms.len() - 1
            }
        };
        let r = &mut self.rooms[i];
        r.kind = kind;
        r.online = online.into_iter().collect();
        let fresh = r.oldest_seq().is_none();
        r.insert_page(history, current_to);
        if fresh {
            r.has_more = match r.oldest_seq() {
                Some(oldest) => oldest > 1,
                None => last_seq > 0,
            };
        }
        let asked = self.joining.iter().position(|j| {
            *j == room || (kind == RoomKind::Direct && r.display_name(&self.me) == format!("@{j}"))
        });
        if let Some(p) = asked {
            self.joining.remove(p);
            self.notice = None;
            self.current = i;
            self.view = View::Chat;
        } else if self.rooms.len() == 1 {
            self.current = 0;
        }
        if self.current == i {
            self.mark_shown_read(fx);
        }
    }

    pub(super) fn left(&mut self, room: &str, fx: &mut Vec<Effect>) {
        if self.remove_room(room, fx) {
            self.notice = Some(Notice::Info(format!("left #{room}")));
        }
    }

    /// Takes `room` out of the list; `false` when it was not there.
    fn remove_room(&mut self, room: &str, fx: &mut Vec<Effect>) -> bool {
        let Some(i) = self.find(room) else {
            return false;
        };
        if i == self.current {
            self.stop_typing(fx);
            if matches!(self.view, View::Thread { .. }) {
                self.view = View::Chat;
            }
        }
        self.rooms.remove(i);
        if self.current > i || self.current >= self.rooms.len() {
            self.current = self.current.saturating_sub(1);
        }
        true
    }

    pub(super) fn message(&mut self, m: Message, fx: &mut Vec<Effect>) {
        let i = match self.find(&m.room) {
            Some(i) => i,
            None => {
                let kind = if m.room.starts_with(DM_PREFIX) {
                    RoomKind::Direct
                } else {
                    RoomKind::Public
                };
                self.rooms
                    .push(RoomView::new(m.room.clone(), kind, &self.me));
                self.rooms.len() - 1
            }
        };
        let shown = i == self.current && matches!(self.view, View::Chat | View::Thread { .. });
        // Changes and moderation events are news of the room, not messages to read.
        let counts = !m.kind.is_change() && !m.kind.is_moderation();
        let mine = m.sender == self.me;
        let r = &mut self.rooms[i];
        r.typing.remove(&m.sender);
        let notify = counts && !mine && (r.kind == RoomKind::Direct || mentions(&m.text, &self.me));
        let title = format!("{} in {}", m.sender, r.display_name(&self.me));
        let body = m.text.clone();
        if !r.insert(m) {
            return; // a duplicate (replay seam, history overlap): nothing new
        }
        if shown {
            self.mark_shown_read(fx);
        } else if counts && !mine {
            r.unread += 1;
            if notify {
                r.mentions += 1;
            }
        }
        if notify && self.settings.notifications != Notifications::Off {
            fx.push(Effect::Notify { title, body });
        }
    }
}
