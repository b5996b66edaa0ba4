//! Select mode and what it leads to: picking a message, then editing, deleting, reacting to
//! it or opening its thread; the thread view; the search results view; read positions.

use super::{App, Effect, Mode, NetCmd, Notice, Pick, REACTIONS, SearchView, View};

impl App {
    /// `v`: select mode, starting on the newest message of the room.
    pub(super) fn enter_select(&mut self) {
        let Some(r) = self.room_mut() else {
            return;
        };
        let Some(seq) = r.step(None, true) else {
            self.notice = Some(Notice::Error("no message to select".into()));
            return;
        };
        r.selected = Some(seq);
        r.scroll = r.newer_than(seq);
        self.mode = Mode::Select;
        self.view = View::Chat;
        self.notice = Some(Notice::Info(
            "select: j/k move · e edit · d delete · r react · t thread · Esc done".into(),
        ));
    }

    /// Moves the selection `n` messages older (`up`) or newer, keeping it in view (at the
    /// bottom of the pane: a message may take several rows, so that is where it surely
    /// shows).
    pub(super) fn move_selection(&mut self, n: usize, up: bool) {
        let Some(r) = self.room_mut() else { return };
        let mut seq = r.selected;
        for _ in 0..n.max(1) {
            seq = r.step(seq, up);
        }
        if let Some(seq) = seq {
            r.selected = Some(seq);
            r.scroll = r.newer_than(seq);
        }
        self.pick = None;
    }

    /// A letter in select mode (`j`/`k` arrive as scrolling, which moves the selection).
    pub(super) fn select_key(&mut self, c: char, fx: &mut Vec<Effect>) {
        let Some((room, seq)) = self
            .room()
            .and_then(|r| r.selected.map(|s| (r.name.clone(), s)))
        else {
            self.leave_select();
            return;
        };
        match (self.pick.take(), c) {
            (Some(Pick::Delete), 'y') => {
                fx.push(Effect::Net(NetCmd::Delete { room, seq }));
                self.notice = Some(Notice::Info("deleting…".into()));
            }
            (Some(Pick::React), d @ '1'..='6') => {
                let emoji = REACTIONS[usize::from(d as u8 - b'1')].to_owned();
                let mine = self
                    .room()
                    .and_then(|r| r.get(seq))
                    .is_some_and(|m| m.reactions.iter().any(|x| x.emoji == emoji && x.me));
                fx.push(Effect::Net(NetCmd::React {
                    room,
                    seq,
                    emoji,
                    on: !mine,
                }));
                self.notice = None;
            }
            (Some(_), _) => self.notice = Some(Notice::Info("cancelled".into())),
            (None, 'e') => self.start_edit(room, seq),
            (None, 'd') => {
                self.pick = Some(Pick::Delete);
                self.notice = Some(Notice::Info(
                    "delete this message? y deletes, any other key keeps it".into(),
                ));
            }
            (None, 'r') => {
                self.pick = Some(Pick::React);
                let menu: Vec<String> = REACTIONS
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("{} {e}", i + 1))
                    .collect();
                self.notice = Some(Notice::Info(format!(
                    "react: {} (again removes yours)",
                    menu.join("  ")
                )));
            }
            (None, 't') => self.open_thread(room, seq, fx),
            (None, 'v' | 'q') => self.leave_select(),
            _ => {}
        }
    }

    /// Leaves select mode.
    pub(super) fn leave_select(&mut self) {
        self.pick = None;
        self.mode = Mode::Normal;
        if let Some(r) = self.room_mut() {
            r.selected = None;
        }
        self.notice = None;
    }

    fn start_edit(&mut self, room: String, seq: u64) {
        let me = self.me.clone();
        let Some(m) = self.room().and_then(|r| r.get(seq)) else {
            return;
        };
        if m.sender != me || m.deleted.is_some() || m.kind.is_moderation() {
            self.notice = Some(Notice::Error("only your own messages can be edited".into()));
            return;
        }
        self.input = m.text.clone();
        self.cursor = self.input.chars().count();
        self.editing = Some((room, seq));
        self.leave_select();
        self.mode = Mode::Insert;
        self.notice = Some(Notice::Info("editing: Enter saves, Esc cancels".into()));
    }

    /// Enter while editing: sends the new text.
    pub(super) fn save_edit(&mut self, fx: &mut Vec<Effect>) {
        let Some((room, seq)) = self.editing.take() else {
            return;
        };
        let text = self.input.trim_end().to_owned();
        self.input.clear();
        self.cursor = 0;
        self.mode = Mode::Normal;
        if text.trim().is_empty() {
            self.notice = Some(Notice::Error("empty text: d in select mode deletes".into()));
            return;
        }
        self.notice = None;
        fx.push(Effect::Net(NetCmd::Edit { room, seq, text }));
    }

    fn open_thread(&mut self, room: String, root: u64, fx: &mut Vec<Effect>) {
        self.leave_select();
        self.view = View::Thread { root };
        self.notice = Some(Notice::Info(
            "thread: i replies here · Esc back to the room".into(),
        ));
        fx.push(Effect::Net(NetCmd::Thread { room, root }));
    }

    /// Shows the answer to `/search`.
    pub(super) fn show_results(&mut self, query: String, hits: Vec<chatcore_client::Message>) {
        self.notice = Some(Notice::Info(format!(
            "{} result(s) for {query}: j/k select · Enter opens the room · Esc back",
            hits.len()
        )));
        self.search = Some(SearchView {
            query,
            hits,
            selected: 0,
        });
        self.view = View::Search;
        self.mode = Mode::Normal;
    }

    /// Moves the selected search hit.
    pub(super) fn move_hit(&mut self, n: usize, up: bool) {
        if let Some(s) = self.search.as_mut() {
            let last = s.hits.len().saturating_sub(1);
            s.selected = if up {
                s.selected.saturating_sub(n)
            } else {
                (s.selected + n).min(last)
            };
        }
    }

    /// Enter on a search hit: its room, joined if needed.
    pub(super) fn open_hit(&mut self, fx: &mut Vec<Effect>) {
        let Some(room) = self
            .search
            .as_ref()
            .and_then(|s| s.hits.get(s.selected))
            .map(|m| m.room.clone())
        else {
            return;
        };
        self.view = View::Chat;
        self.run(super::command::Command::Join(room), fx);
    }

    /// Marks the shown room read up to its newest message, when that is news to the server.
    pub(super) fn mark_shown_read(&mut self, fx: &mut Vec<Effect>) {
        if self.view != View::Chat && !matches!(self.view, View::Thread { .. }) {
            return;
        }
        let me = self.me.clone();
        let Some(r) = self.room_mut() else { return };
        let Some(newest) = r.newest_seq() else { return };
        if newest > r.read_seq {
            r.mark_read(newest, &me);
            fx.push(Effect::Net(NetCmd::Read {
                room: r.name.clone(),
                seq: newest,
            }));
        }
    }
}
