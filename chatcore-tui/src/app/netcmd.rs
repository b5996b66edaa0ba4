//! What the state asks of the network task ([`NetCmd`]).

use super::command::RoomCmd;

/// A command for the network task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCmd {
    /// Join a room.
    Join(String),
    /// Leave a room.
    Leave(String),
    /// Send a message (`emote` for `/me`).
    Send {
        /// Local id, echoed in [`Action::Sent`](super::Action::Sent) / [`Action::SendFailed`](super::Action::SendFailed).
        local_id: u64,
        /// Room name.
        room: String,
        /// Text.
        text: String,
        /// An emote (`/me`).
        emote: bool,
        /// The thread's root, for a reply sent from the thread view.
        reply_to: Option<u64>,
    },
    /// Send a direct message.
    Dm {
        /// Local id, echoed in [`Action::Sent`](super::Action::Sent) / [`Action::SendFailed`](super::Action::SendFailed).
        local_id: u64,
        /// Recipient.
        to: String,
        /// Text.
        text: String,
    },
    /// Start or stop the typing indicator.
    Typing {
        /// Room name.
        room: String,
        /// Typing?
        on: bool,
    },
    /// Fetch messages older than `before`.
    History {
        /// Room name.
        room: String,
        /// Seq bound (exclusive).
        before: u64,
    },
    /// List the server's rooms (answered with [`Action::Info`](super::Action::Info)).
    Rooms,
    /// Reconnect as another guest name (`/nick`) or to another server.
    Reconnect {
        /// New server URL.
        server: String,
        /// New guest name.
        user: String,
    },
    /// Replace the text of one's own message.
    Edit {
        /// Room name.
        room: String,
        /// The message's seq.
        seq: u64,
        /// The new text.
        text: String,
    },
    /// Delete a message.
    Delete {
        /// Room name.
        room: String,
        /// The message's seq.
        seq: u64,
    },
    /// Add (`on`) or remove one's reaction.
    React {
        /// Room name.
        room: String,
        /// The message's seq.
        seq: u64,
        /// The emoji.
        emoji: String,
        /// Add (`true`) or remove.
        on: bool,
    },
    /// Load the replies to a message (answered with [`Action::ThreadPage`](super::Action::ThreadPage)).
    Thread {
        /// Room name.
        room: String,
        /// The root's seq.
        root: u64,
    },
    /// Move the read position of a room forwards.
    Read {
        /// Room name.
        room: String,
        /// The newest seq shown.
        seq: u64,
    },
    /// Create a room, then join it.
    Create {
        /// Room name.
        room: String,
        /// Invite-only.
        private: bool,
    },
    /// A moderation command on `room`.
    Moderate {
        /// Room name.
        room: String,
        /// What to do.
        cmd: RoomCmd,
    },
    /// Refuse direct messages from a user.
    Block(String),
    /// Full-text search (answered with [`Action::SearchResults`](super::Action::SearchResults)).
    Search(String),
    /// Register (`create`) or log in to an account, then connect as it.
    SignIn {
        /// The account's name.
        user: String,
        /// Its password.
        password: Secret,
        /// Register a new account rather than log in.
        create: bool,
    },
    /// Sign the account out (on the server too) and forget its saved session.
    Logout,
    /// Close the connection.
    Close,
}

/// A password on its way to the server: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The text, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}
