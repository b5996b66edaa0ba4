//! Running a parsed `:` or `/` command.

use chatcore_client::RoomKind;

use super::command::Command;
use super::{App, Effect, Mode, NetCmd, Notice, Pending, Prompt, RoomView, View};
use crate::theme::{Theme, ThemeName};

impl App {
    /// Runs a parsed `:` or `/` command.
    pub(super) fn run(&mut self, cmd: Command, fx: &mut Vec<Effect>) {
        self.notice = None;

        match cmd {
            Command::Join(room) => match self.find(&room) {
                Some(i) => self.select(i, fx),
                None => {
                    self.joining.push(room.clone());
                    self.notice = Some(Notice::Info(format!("joining #{room}…")));
                    fx.push(Effect::Net(NetCmd::Join(room)));
                }
            },
            Command::Leave(room) => match room.or_else(|| self.room().map(|r| r.name.clone())) {
                Some(room) => fx.push(Effect::Net(NetCmd::Leave(room))),
                None => self.notice = Some(Notice::Error("no room to leave".into())),
            },
            Command::Dm { to, text: None } => {
                self.mode = Mode::Insert;
                self.input = format!("/msg {to} ");
                self.cursor = self.input.chars().count();
            }
            Command::Dm {
                to,
                text: Some(text),
            } => {
                self.joining.push(to.clone());
                let local_id = self.local_id();
                fx.push(Effect::Net(NetCmd::Dm { local_id, to, text }));
            }
            Command::Me(text) => self.send(text, true, fx),
            Command::Say(text) => self.send(text, false, fx),
            Command::Nick(user) => {
                if let Some(account) = &self.account {
                    self.notice = Some(Notice::Error(format!(
                        "signed in as {account}: /logout first to use a guest name"
                    )));
                } else if self.settings.token.is_some() {
                    self.notice = Some(Notice::Error(
                        "signed in with a token: the name comes from the token".into(),
                    ));
                } else {
                    self.settings.user.clone_from(&user);
                    self.notice = Some(Notice::Info(format!("reconnecting as {user}…")));
                    let server = self.settings.server.clone();
                    fx.push(Effect::Net(NetCmd::Reconnect { server, user }));
                }
            }
            Command::Server(server) => {
                if server != self.settings.server {
                    // The rooms are joined afresh there: the old server's messages (and
                    // seqs, which the new server numbers on its own) do not belong.
                    for r in &mut self.rooms {
                        *r = RoomView::new(std::mem::take(&mut r.name), r.kind, &self.me);
                    }
                }
                self.settings.server.clone_from(&server);
                self.notice = Some(Notice::Info(format!("connecting to {server}…")));
                let user = self.settings.user.clone();
                fx.push(Effect::Net(NetCmd::Reconnect { server, user }));
            }
            Command::Theme(name) => self.set_theme(name),
            Command::Notify(n) => {
                self.settings.notifications = n;
                self.notice = Some(Notice::Info(format!("notifications: {n}")));
            }
            Command::Rooms => fx.push(Effect::Net(NetCmd::Rooms)),
            Command::Write => {
                self.settings.rooms = self
                    .rooms
                    .iter()
                    .filter(|r| r.kind != RoomKind::Direct)
                    .map(|r| r.name.clone())
                    .collect();
                fx.push(Effect::SaveConfig);
            }
            Command::Settings => self.view = View::Settings,
            Command::Help => self.show_help = true,
            Command::Register(user) => self.ask_password(user, true),
            Command::Login(user) => self.ask_password(user, false),
            Command::Logout => fx.push(Effect::Net(NetCmd::Logout)),
            Command::Create { room, private } => {
                self.joining.push(room.clone());
                self.notice = Some(Notice::Info(format!("creating #{room}…")));
                fx.push(Effect::Net(NetCmd::Create { room, private }));
            }
            Command::Room(cmd) => match self.room().filter(|r| r.kind != RoomKind::Direct) {
                Some(r) => {
                    let room = r.name.clone();
                    fx.push(Effect::Net(NetCmd::Moderate { room, cmd }));
                }
                None => self.notice = Some(Notice::Error("open a room first".into())),
            },
            Command::Block(user) => fx.push(Effect::Net(NetCmd::Block(user))),
            Command::Search(q) => {
                self.notice = Some(Notice::Info(format!("searching for {q}…")));
                fx.push(Effect::Net(NetCmd::Search(q)));
            }
            Command::Quit => {
                self.quitting = true;
                self.stop_typing(fx);
                fx.push(Effect::Net(NetCmd::Close));
                fx.push(Effect::Quit);
            }
        }
    }

    /// Asks for the password of `user` in the input line (`create`: to register).
    fn ask_password(&mut self, user: String, create: bool) {
        self.notice = Some(Notice::Info(format!(
            "password for {user} (hidden; Enter signs in, Esc cancels)"
        )));
        self.prompt = Some(Prompt {
            user,
            create,
            secret: String::new(),
        });
        self.mode = Mode::Insert;
    }

    /// Switches to theme `name`.
    pub fn set_theme(&mut self, name: ThemeName) {
        self.settings.theme = name;
        self.theme = Theme::new(name);
        self.notice = Some(Notice::Info(format!("theme: {name}")));
    }

    pub(super) fn local_id(&mut self) -> u64 {
        let id = self.next_local_id;
        self.next_local_id += 1;
        id
    }

    pub(super) fn send(&mut self, text: String, emote: bool, fx: &mut Vec<Effect>) {
        let Some(room) = self.room().map(|r| r.name.clone()) else {
            self.notice = Some(Notice::Error("join a room first: :join NAME".into()));
            return;
        };
        let local_id = self.local_id();
        let reply_to = match self.view {
            View::Thread { root } => Some(root),
            _ => None,
        };
        self.pending.push(Pending {
            local_id,
            room: room.clone(),
            text: text.clone(),
            emote,
            reply_to,
        });
        if let Some(r) = self.room_mut() {
            r.scroll = 0;
        }
        fx.push(Effect::Net(NetCmd::Send {
            local_id,
            room,
            text,
            emote,
            reply_to,
        }));
    }
}
