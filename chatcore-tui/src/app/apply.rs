//! Network actions applied to the state: joins, leaves, messages, presence, typing and the
//! outcome of sends.

use chatcore::names::DM_PREFIX;
use chatcore_client::{Message, RoomKind};

use super::{Action, App, ConnStatus, Effect, Notice, RoomView, TYPING_TTL, mentions};
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
            } => self.joined(room, kind, last_seq, online, history),
            Action::Left(room) => self.left(&room, fx),
            Action::Message(m) => self.message(m, fx),
            Action::History {
                room,
                messages,
                has_more,
            } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    for m in messages {
                        r.insert(m);
                    }
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
            Action::Info(text) => self.notice = Some(Notice::Info(text)),
            Action::Error(text) => self.notice = Some(Notice::Error(text)),
            _ => {}
        }
    }

    pub(super) fn joined(
        &mut self,
        room: String,
        kind: RoomKind,
        last_seq: u64,
        online: Vec<String>,
        history: Vec<Message>,
    ) {
        let i = match self.find(&room) {
            Some(i) => i,
            None => {
                self.rooms.push(RoomView::new(room.clone(), kind));
                self.rooms.len() - 1
            }
        };
        let r = &mut self.rooms[i];
        r.kind = kind;
        r.online = online.into_iter().collect();
        let fresh = r.messages.is_empty();
        for m in history {
            r.insert(m);
        }
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
    }

    pub(super) fn left(&mut self, room: &str, fx: &mut Vec<Effect>) {
        let Some(i) = self.find(room) else { return };
        if i == self.current {
            self.stop_typing(fx);
        }
        self.rooms.remove(i);
        if self.current > i || self.current >= self.rooms.len() {
            self.current = self.current.saturating_sub(1);
        }
        self.notice = Some(Notice::Info(format!("left #{room}")));
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
                self.rooms.push(RoomView::new(m.room.clone(), kind));
                self.rooms.len() - 1
            }
        };
        let shown = i == self.current && self.view == View::Chat;
        let mine = m.sender == self.me;
        let r = &mut self.rooms[i];
        r.typing.remove(&m.sender);
        let notify = !mine && (r.kind == RoomKind::Direct || mentions(&m.text, &self.me));
        let title = format!("{} in {}", m.sender, r.display_name(&self.me));
        let body = m.text.clone();
        if !r.insert(m) {
            return; // a duplicate (replay seam, history overlap): nothing new
        }
        if !mine && !shown {
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
