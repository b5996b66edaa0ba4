//! What changes the state ([`Action`]) and what the state asks of the world ([`Effect`]).

use std::time::Instant;

use chatcore_client::{Message, Receipt, RoomKind};

use super::NetCmd;

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnStatus {
    /// The first connection attempt is under way.
    Connecting,
    /// Connected as `user`.
    Connected {
        /// The authenticated user name.
        user: String,
    },
    /// The connection ended; the client is about to retry.
    Disconnected {
        /// Why, for people.
        reason: String,
    },
    /// Waiting for reconnect attempt `attempt` (from 1).
    Reconnecting {
        /// Attempt number since the connection was lost.
        attempt: u32,
    },
    /// The client stopped for good because the server's certificate was refused (not signed
    /// by a CA this client trusts); `--ca-file` can fix that, another attempt cannot.
    Untrusted {
        /// Why the certificate was refused, for people.
        reason: String,
    },
    /// No client runs until the account `user` is signed in (`--login`).
    SignIn {
        /// The account.
        user: String,
    },
    /// The client stopped for good (credentials refused, …).
    Closed {
        /// Why, for people.
        reason: String,
    },
}

/// One input to [`App::update`](crate::app::App::update).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    // ---- time and terminal ----
    /// The clock advanced (drives typing expiry and debounce).
    Tick(Instant),
    /// The terminal was resized.
    Resize(u16, u16),

    // ---- keys (mapped by `event`) ----
    /// Type a character into the input line (insert or command mode).
    Char(char),
    /// Pasted text (bracketed paste): typed in one go, newlines as spaces, never sent.
    Paste(String),
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Clear the input line.
    ClearLine,
    /// Move the cursor left.
    CursorLeft,
    /// Move the cursor right.
    CursorRight,
    /// Move the cursor to the start of the line.
    CursorHome,
    /// Move the cursor to the end of the line.
    CursorEnd,
    /// Enter: send the input, run the command, or change the selected setting.
    Submit,
    /// Enter insert mode.
    InsertMode,
    /// Enter insert mode with `/` typed (a slash command).
    SlashMode,
    /// Enter command mode (`:`).
    CommandMode,
    /// Back to normal mode / close an overlay.
    Escape,
    /// A first `g` was pressed; a second one scrolls to the top.
    PendingG,
    /// Scroll towards older messages by this many messages.
    ScrollUp(usize),
    /// Scroll towards newer messages by this many messages.
    ScrollDown(usize),
    /// Scroll half a page towards older messages.
    HalfPageUp,
    /// Scroll half a page towards newer messages.
    HalfPageDown,
    /// Scroll to the oldest message (loading history).
    ScrollTop,
    /// Scroll to the newest message.
    ScrollBottom,
    /// Select the next room.
    NextRoom,
    /// Select the previous room.
    PrevRoom,
    /// Select the room at this position (0-based).
    SelectRoom(usize),
    /// Enter select mode: pick a message to change (`e`, `d`, `r`, `t`).
    SelectMode,
    /// Tab in insert mode: complete a command or user name.
    Complete,
    /// Toggle the help overlay.
    ToggleHelp,
    /// Toggle the user list.
    ToggleUsers,
    /// Open or close the settings view.
    ToggleSettings,
    /// A mouse click at (column, row).
    Click(u16, u16),
    /// Quit.
    Quit,

    // ---- from the network ----
    /// The connection changed state.
    Conn(ConnStatus),
    /// A room was joined (answer to a join, or a DM the server joined us to).
    Joined {
        /// Room name.
        room: String,
        /// Room kind.
        kind: RoomKind,
        /// The room's newest seq at the join.
        last_seq: u64,
        /// Users online.
        online: Vec<String>,
        /// Recent messages, oldest first (empty on a resumed join: they arrive as messages).
        history: Vec<Message>,
        /// The seq up to which `history` shows current state.
        current_to: u64,
    },
    /// A room was left.
    Left(String),
    /// A message arrived (live or replayed).
    Message(Message),
    /// A page of older messages arrived.
    History {
        /// Room name.
        room: String,
        /// Messages, oldest first.
        messages: Vec<Message>,
        /// More exist below the oldest.
        has_more: bool,
        /// The seq up to which the page shows current state.
        current_to: u64,
    },
    /// Who is online in a room (a snapshot).
    Presence {
        /// Room name.
        room: String,
        /// Users online.
        online: Vec<String>,
    },
    /// How many are online in a large room (whose members are not listed one by one).
    OnlineCount {
        /// Room name.
        room: String,
        /// Users online, on every node.
        online: u64,
    },
    /// A user came online (`true`) or went offline in a room.
    UserPresence {
        /// Room name.
        room: String,
        /// User name.
        user: String,
        /// Online?
        online: bool,
    },
    /// Someone started or stopped typing.
    Typing {
        /// Room name.
        room: String,
        /// Who.
        user: String,
        /// Typing?
        on: bool,
    },
    /// A pending send was stored by the server.
    Sent {
        /// The local id of the pending send.
        local_id: u64,
    },
    /// A pending send failed.
    SendFailed {
        /// The local id of the pending send.
        local_id: u64,
        /// Why.
        error: String,
    },
    /// A page of replies to a thread's root.
    ThreadPage {
        /// Room name.
        room: String,
        /// The replies, oldest first, with current state.
        messages: Vec<Message>,
        /// The seq up to which the page shows current state.
        current_to: u64,
    },
    /// This user's read position in a room moved (here or on another device).
    Read {
        /// Room name.
        room: String,
        /// The stored read position.
        seq: u64,
    },
    /// Members' read positions in a room (for "seen by").
    Receipts {
        /// Room name.
        room: String,
        /// Who read how far.
        reads: Vec<Receipt>,
    },
    /// The members of a room (the answer to `/members`, and asked for after each join, for
    /// Tab completion of user names).
    Members {
        /// Room name.
        room: String,
        /// Member names, sorted.
        members: Vec<String>,
    },
    /// The server's badges of a room, from the user's read position (asked for after a
    /// join).
    Badges {
        /// Room name.
        room: String,
        /// Unread messages by others.
        unread: usize,
        /// Of those, mentions of the user.
        mentions: usize,
    },
    /// A room this user was invited to (`/join` accepts).
    Invited {
        /// Room name.
        room: String,
        /// Who invited.
        by: String,
    },
    /// The server took this client out of a room (kicked, banned, deleted).
    Removed(String),
    /// A joined room was deleted.
    RoomDeleted {
        /// Room name.
        room: String,
        /// Who deleted it.
        by: String,
    },
    /// The answer to a search, newest first.
    SearchResults {
        /// What was searched for.
        query: String,
        /// The matching messages.
        hits: Vec<Message>,
    },
    /// An account was signed in (`/login`, `/register`, or a saved session at start).
    SignedIn {
        /// The account's name, as registered.
        user: String,
    },
    /// The account was signed out (`/logout`).
    SignedOut,
    /// Something to tell the user (the answer to `:rooms`, …).
    Info(String),
    /// An error to show on the message line.
    Error(String),
}

/// Something [`App::update`](crate::app::App::update) asks the runner to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hand a command to the network task.
    Net(NetCmd),
    /// Tell the user about a mention or a direct message (bell or desktop, per settings).
    Notify {
        /// Title: room and sender.
        title: String,
        /// The message text.
        body: String,
    },
    /// Write the settings to the config file.
    SaveConfig,
    /// Leave the program.
    Quit,
}
