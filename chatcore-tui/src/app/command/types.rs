//! The parsed commands: a [`Command`], and the [`RoomCmd`] a moderation command carries.

use std::time::Duration;

use chatcore_client::Role;

use crate::config::Notifications;
use crate::theme::ThemeName;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:join ROOM`, `/join ROOM`.
    Join(String),
    /// `:leave [ROOM]`, `/leave [ROOM]`: the current room when none is named.
    Leave(Option<String>),
    /// `:dm USER [TEXT]`, `/msg USER TEXT`: a direct message.
    Dm {
        /// Recipient.
        to: String,
        /// Text; without it the input line is prepared for one.
        text: Option<String>,
    },
    /// `/me TEXT`: an emote in the current room.
    Me(String),
    /// `/nick NAME`, `:nick NAME`: reconnect as another guest.
    Nick(String),
    /// `:server URL`: connect to another server.
    Server(String),
    /// `:theme NAME`.
    Theme(ThemeName),
    /// `:notify bell|desktop|off`.
    Notify(Notifications),
    /// `:rooms`: list the server's rooms.
    Rooms,
    /// `:write`: save the settings to the config file.
    Write,
    /// `:settings`.
    Settings,
    /// `:help`, `/help`.
    Help,
    /// `:quit`, `:q`, `/quit`.
    Quit,
    /// `//text`: send text that starts with a slash.
    Say(String),
    /// `/register NAME`: create an account (the password is asked for next).
    Register(String),
    /// `/login NAME`: sign in to an account (the password is asked for next).
    Login(String),
    /// `/logout`: sign out and forget the saved session.
    Logout,
    /// `/create ROOM [--private]`.
    Create {
        /// Room name.
        room: String,
        /// Invite-only.
        private: bool,
    },
    /// A moderation command on the current room.
    Room(RoomCmd),
    /// `/block USER`: refuse their direct messages.
    Block(String),
    /// `/search TEXT`: full-text search over the readable rooms.
    Search(String),
}

/// An action on the current room, as the server's "Rooms with authority" commands take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomCmd {
    /// `/invite USER`: let a user into a private room.
    Invite(String),
    /// `/kick USER [REASON]`.
    Kick {
        /// Whom.
        user: String,
        /// Why, shown to the room.
        reason: Option<String>,
    },
    /// `/ban USER [DURATION] [REASON]`.
    Ban {
        /// Whom.
        user: String,
        /// How long; until `/unban` without it.
        duration: Option<Duration>,
        /// Why, shown to the room.
        reason: Option<String>,
    },
    /// `/unban USER`.
    Unban(String),
    /// `/mute USER [DURATION]`.
    Mute {
        /// Whom.
        user: String,
        /// How long; until `/unmute` without it.
        duration: Option<Duration>,
    },
    /// `/unmute USER`.
    Unmute(String),
    /// `/topic TEXT` (empty clears it).
    Topic(String),
    /// `/op USER` (moderator), `/deop USER` (member).
    Role {
        /// Whom.
        user: String,
        /// The new role.
        role: Role,
    },
    /// `/members`: the member list with roles.
    Members,
}
