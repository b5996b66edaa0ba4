//! The command line of `chat-cli`: the global flags and the commands.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::{find, moderation};

const LONG_ABOUT: &str = "A scriptable client of a chatcore chat server, for shells and bots.\n\n\
Every flag has an environment variable twin (shown as [env: …]). `send` and `tail` need an \
identity: --token (a session token, see `chat-cli token`) or --user (a guest name, on servers \
that let guests in). `rooms` and `history` use it when given, and otherwise read public rooms \
anonymously over the REST API.\n\n\
Exit codes: 0 ok (also when stdout closes early, as with `| head`), 1 local failure (reading \
stdin), 2 usage, 3 connection (unreachable, lost, timeout), 4 authentication (refused \
credentials, forbidden), 5 server error.";

/// Flags of `chat-cli`.
#[derive(Debug, Parser)]
#[command(name = "chat-cli", version, about = "A scriptable chatcore client.", long_about = LONG_ABOUT)]
pub(crate) struct Cli {
    /// The server: its HTTP base (`http://host:port`, or with the prefix it is mounted under)
    /// or its socket URL (`ws://host:port/ws`); `https://…` and `wss://…` connect over TLS;
    /// `tcp://host:port` uses a server's TCP transport (`chat-server --tcp-listen`),
    /// `tcps://host:port` the same over TLS.
    #[arg(
        long,
        global = true,
        env = "CHATCORE_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub(crate) server: String,
    /// PEM file of CA certificates to trust for `https://`/`wss://` servers, in addition to
    /// the usual public CAs: the CA of a private deployment, or a self-signed server's
    /// certificate.
    #[arg(long, global = true, env = "CHATCORE_CA_FILE", value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Session token (JWT) to connect with. When both a token and a user are set, the one given
    /// on the command line wins; from the environment, the token wins.
    #[arg(long, global = true, env = "CHATCORE_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Guest name to connect with (servers that let guests in).
    #[arg(long, global = true, env = "CHATCORE_USER")]
    pub(crate) user: Option<String>,
    /// Print one JSON object per line instead of text for people.
    #[arg(long, global = true, env = "CHATCORE_JSON", action = ArgAction::SetTrue,
          value_parser = BoolishValueParser::new())]
    pub(crate) json: bool,
    /// Wire codec of the WebSocket.
    #[arg(long, global = true, env = "CHATCORE_CODEC", value_enum, default_value_t = CodecArg::Json)]
    pub(crate) codec: CodecArg,
    /// Seconds to wait for the connection and for each reply.
    #[arg(long, global = true, env = "CHATCORE_TIMEOUT", default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) timeout: u64,
    /// What to log to stderr, as a tracing filter (`warn`, `debug`, `chatcore_client=trace`).
    #[arg(long, global = true, env = "CHATCORE_LOG", default_value = "warn")]
    pub(crate) log: String,
    #[command(subcommand)]
    pub(crate) command: Cmd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CodecArg {
    /// JSON text frames.
    Json,
    /// MessagePack binary frames.
    Msgpack,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Cmd {
    /// Send a message to a room (joining it first). The words of TEXT are joined with spaces.
    /// TEXT `-` reads standard input and sends each non-blank line as one message, in order,
    /// as lines arrive (so `tail -f log | chat-cli send ops -` works).
    Send {
        /// Room name.
        room: String,
        /// Message text, or `-` for standard input.
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        text: Vec<String>,
    },
    /// Print a room's messages as they arrive, until interrupted. Survives server restarts
    /// (reconnects and resumes without gaps or duplicates).
    Tail {
        /// Room name.
        room: String,
        /// First print every stored message after this seq.
        #[arg(long, value_name = "SEQ")]
        since: Option<u64>,
    },
    /// Print a page of a room's stored messages, oldest first.
    History {
        /// Room name.
        room: String,
        /// Only messages below this seq (the newest of them).
        #[arg(long, value_name = "SEQ")]
        before: Option<u64>,
        /// Only messages above this seq (the oldest of them).
        #[arg(long, value_name = "SEQ")]
        after: Option<u64>,
        /// Page size (the server caps it, at 200 by default).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    /// List the rooms: public ones, and the user's private and direct ones.
    Rooms,
    /// Get a session token for NAME (only servers that let guests in issue them) and print it:
    /// `export CHATCORE_TOKEN=$(chat-cli token ann)`.
    Token {
        /// User name.
        name: String,
    },
    /// Create an account (servers started with `--registration`) and sign in. The password is
    /// the first line of standard input: `printf '%s\n' "$PW" | chat-cli register ann`. The
    /// session is kept in the XDG config directory (mode 0600) for later commands.
    Register {
        /// Account name.
        name: String,
    },
    /// Sign in to an account; the password is the first line of standard input. The session
    /// is kept like `register`'s.
    Login {
        /// Account name (any case).
        name: String,
    },
    /// Replace the text of one's own message SEQ (joining the room first).
    Edit {
        /// Room name.
        room: String,
        /// Seq of the message.
        seq: u64,
        /// The new text; its words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Delete message SEQ: one's own, or any as a moderator.
    Delete {
        /// Room name.
        room: String,
        /// Seq of the message.
        seq: u64,
    },
    /// React to message SEQ with EMOJI (`--remove` takes the reaction back).
    React {
        /// Room name.
        room: String,
        /// Seq of the message.
        seq: u64,
        /// One emoji.
        emoji: String,
        /// Remove the reaction instead.
        #[arg(long)]
        remove: bool,
    },
    /// Print a page of the replies to message ROOT, oldest first.
    Thread {
        /// Room name.
        room: String,
        /// Seq of the thread's root message.
        root: u64,
        /// Only replies above this seq.
        #[arg(long, value_name = "SEQ")]
        after: Option<u64>,
        /// Page size.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
    },
    #[command(flatten)]
    Room(moderation::RoomCmd),
    #[command(flatten)]
    Act(moderation::ActCmd),
    #[command(flatten)]
    Find(find::FindCmd),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
