//! `chat-cli`: a scriptable chatcore client for shells and bots.
//!
//! ```text
//! chat-cli send ROOM TEXT…          send a message (TEXT `-`: each stdin line is a message)
//! chat-cli tail ROOM [--since SEQ]  print messages as they arrive (after SEQ first)
//! chat-cli history ROOM [--before SEQ] [--after SEQ] [--limit N]
//! chat-cli rooms                    list rooms
//! chat-cli token NAME               get a session token (servers that let guests in)
//! chat-cli register NAME            create an account (password: first line of stdin)
//! chat-cli login NAME               sign in (password: first line of stdin)
//! chat-cli edit|delete|react|thread  change earlier messages, page a thread
//! chat-cli create-room|delete-room|invite|kick|ban|unban|mute|unmute|topic|role|members
//! chat-cli block|unblock USER       refuse or accept direct messages from USER
//! chat-cli read ROOM SEQ | search WORDS… | users PREFIX
//! ```
//!
//! `register` and `login` keep the session in `$XDG_CONFIG_HOME/chatcore/session.json`
//! (mode 0600); later commands against the same `--server` use it when neither `--token`
//! nor `--user` is given.
//!
//! Every flag has a `CHATCORE_…` environment twin. `--json` prints one JSON object per line.
//! `--server https://…` (or `wss://…`) connects over TLS; `--ca-file PATH` trusts the CA
//! certificates of a PEM file in addition to the public CAs.
//!
//! Exit codes: 0 success (also when stdout is closed early, as by `| head`), 1 local failure
//! (reading stdin), 2 usage (bad flags, missing identity, blank text), 3 connection (server
//! unreachable, connection lost for good, timeout), 4 authentication (credentials refused,
//! forbidden), 5 server error (an error reply, a protocol violation).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chatcore_client::{
    Auth, Client, ClientConfig, ClientEvent, Codec, ConnectionState, DisconnectReason, Error,
    Events, HistoryPage, HistoryQuery, RestClient,
};
use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use tokio::io::AsyncBufReadExt;

#[path = "chat-cli/changes.rs"]
mod changes;
#[path = "chat-cli/find.rs"]
mod find;
#[path = "chat-cli/moderation.rs"]
mod moderation;
#[path = "chat-cli/output.rs"]
mod output;
#[path = "chat-cli/session.rs"]
mod session;

use output::{print_json, print_line, print_message, print_room, stdout_closed};

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
struct Cli {
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
    server: String,
    /// PEM file of CA certificates to trust for `https://`/`wss://` servers, in addition to
    /// the usual public CAs: the CA of a private deployment, or a self-signed server's
    /// certificate.
    #[arg(long, global = true, env = "CHATCORE_CA_FILE", value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Session token (JWT) to connect with. When both a token and a user are set, the one given
    /// on the command line wins; from the environment, the token wins.
    #[arg(long, global = true, env = "CHATCORE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Guest name to connect with (servers that let guests in).
    #[arg(long, global = true, env = "CHATCORE_USER")]
    user: Option<String>,
    /// Print one JSON object per line instead of text for people.
    #[arg(long, global = true, env = "CHATCORE_JSON", action = ArgAction::SetTrue,
          value_parser = BoolishValueParser::new())]
    json: bool,
    /// Wire codec of the WebSocket.
    #[arg(long, global = true, env = "CHATCORE_CODEC", value_enum, default_value_t = CodecArg::Json)]
    codec: CodecArg,
    /// Seconds to wait for the connection and for each reply.
    #[arg(long, global = true, env = "CHATCORE_TIMEOUT", default_value_t = 10, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// What to log to stderr, as a tracing filter (`warn`, `debug`, `chatcore_client=trace`).
    #[arg(long, global = true, env = "CHATCORE_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CodecArg {
    /// JSON text frames.
    Json,
    /// MessagePack binary frames.
    Msgpack,
}

#[derive(Debug, Subcommand)]
enum Cmd {
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

/// Why the command failed, and so which exit code.
#[derive(Debug)]
enum Failure {
    /// Bad usage (exit 2).
    Usage(String),
    /// A client error (exit by class).
    Client(Error),
    /// A local I/O failure (exit 1).
    Io(String),
    /// Stdout was closed by its reader: stop quietly (exit 0).
    StdoutClosed,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Client(e)
    }
}

type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => e.exit(), // --help/--version exit 0; usage errors exit 2
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let from_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let identity = identity(&cli, from_command_line("token"), from_command_line("user"));
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(Failure::Io(format!("cannot start the runtime: {e}"))),
    };
    match runtime.block_on(run(&cli, identity)) {
        Ok(()) | Err(Failure::StdoutClosed) => ExitCode::SUCCESS,
        Err(f) => fail(f),
    }
}

/// The identity to connect with: a command-line flag beats an environment variable; among
/// equals the token wins, except both on the command line, which is a usage error.
fn identity(cli: &Cli, token_cli: bool, user_cli: bool) -> Result<Auth, Failure> {
    match (&cli.token, &cli.user) {
        (Some(_), Some(_)) if token_cli && user_cli => Err(Failure::Usage(
            "give either --token or --user, not both".into(),
        )),
        (Some(_), Some(user)) if user_cli => Ok(Auth::Guest(user.clone())),
        (Some(token), _) => Ok(Auth::Token(token.clone())),
        (None, Some(user)) => Ok(Auth::Guest(user.clone())),
        (None, None) => {
            Ok(session::load(&cli.server)
                .map_or(Auth::None, |saved| Auth::Token(saved.access_token)))
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn fail(failure: Failure) -> ExitCode {
    let (code, text) = match failure {
        Failure::Usage(m) => (2, m),
        Failure::Io(m) => (1, m),
        Failure::StdoutClosed => (0, String::new()),
        Failure::Client(e) => (exit_code(&e), explain(&e)),
    };
    if !text.is_empty() {
        eprintln!("chat-cli: error: {text}");
    }
    ExitCode::from(code)
}

/// The line printed for a client error: what went wrong, and for a refused certificate what
/// to do about it.
fn explain(e: &Error) -> String {
    match e {
        Error::Disconnected(DisconnectReason::GaveUp(inner)) => explain(inner),
        Error::Tls {
            reason,
            certificate: true,
            ..
        } => format!("TLS: {reason}; pass --ca-file (CHATCORE_CA_FILE) with the CA that signed it"),
        Error::Tls { url, reason, .. } => {
            format!("TLS: {reason}; is {url} a TLS server? (use http:// or ws:// if it is not)")
        }
        other => other.to_string(),
    }
}

/// The documented exit code of a client error.
fn exit_code(e: &Error) -> u8 {
    if let Error::Disconnected(DisconnectReason::GaveUp(inner)) = e {
        return exit_code(inner);
    }
    if e.is_auth() {
        return 4;
    }
    if e.is_connection() || matches!(e, Error::Closed) {
        return 3;
    }
    match e {
        Error::Config(_) | Error::Invalid(_) => 2,
        _ => 5,
    }
}

async fn run(cli: &Cli, identity: Result<Auth, Failure>) -> Outcome {
    let auth = identity?;
    match &cli.command {
        Cmd::Token { name } => {
            let grant = rest(cli, &Auth::None)?.issue_token(name).await?;
            if cli.json {
                print_json(&grant)
            } else {
                print_line(&grant.token)
            }
        }
        Cmd::Register { name } | Cmd::Login { name } => {
            let create = matches!(cli.command, Cmd::Register { .. });
            let (grant, path) =
                session::sign_in(rest(cli, &Auth::None)?, &cli.server, name, create).await?;
            if cli.json {
                print_json(&serde_json::json!({
                    "user": grant.user,
                    "admin": grant.admin,
                    "expires_in": grant.expires_in,
                    "session_file": path,
                }))
            } else {
                print_line(&format!(
                    "signed in as {}; session saved to {}",
                    grant.user,
                    path.display()
                ))
            }
        }
        Cmd::Rooms => {
            let rooms = match &auth {
                Auth::None => rest(cli, &auth)?.rooms().await?,
                _ => with_client(cli, auth, |c, _| async move { c.rooms().await }).await?,
            };
            rooms.iter().try_for_each(|r| print_room(cli.json, r))
        }
        Cmd::History {
            room,
            before,
            after,
            limit,
        } => {
            let mut query = HistoryQuery::latest();
            query.before = *before;
            query.after = *after;
            query.limit = *limit;
            let page: HistoryPage = match &auth {
                Auth::None => rest(cli, &auth)?.history(room, query).await?,
                _ => {
                    let room = room.clone();
                    with_client(
                        cli,
                        auth,
                        |c, _| async move { c.history(room, query).await },
                    )
                    .await?
                }
            };
            page.messages
                .iter()
                .try_for_each(|m| print_message(cli.json, m))
        }
        Cmd::Send { room, text } => {
            needs_identity(&auth, "send")?;
            let (client, events) = connect(cli, auth).await?;
            drop(events); // not interested: the client then discards them
            let result = send(cli, &client, room, text).await;
            let _ = client.close().await;
            result
        }
        Cmd::Edit { room, seq, text } => {
            let edit = changes::Change::Edit(text.join(" "));
            changes::change(cli, auth, room, *seq, edit).await
        }
        Cmd::Delete { room, seq } => {
            changes::change(cli, auth, room, *seq, changes::Change::Delete).await
        }
        Cmd::React {
            room,
            seq,
            emoji,
            remove,
        } => {
            let change = match remove {
                true => changes::Change::Unreact(emoji.clone()),
                false => changes::Change::React(emoji.clone()),
            };
            changes::change(cli, auth, room, *seq, change).await
        }
        Cmd::Thread {
            room,
            root,
            after,
            limit,
        } => changes::thread(cli, auth, room, *root, *after, *limit).await,
        Cmd::Room(cmd) => moderation::run_room(cli, auth, cmd).await,
        Cmd::Act(cmd) => moderation::run_act(cli, auth, cmd).await,
        Cmd::Find(cmd) => find::run(cli, auth, cmd).await,
        Cmd::Tail { room, since } => {
            needs_identity(&auth, "tail")?;
            let (client, events) = connect(cli, auth).await?;
            let result = tail(cli, &client, events, room, *since).await;
            let _ = client.close().await;
            result
        }
    }
}

fn needs_identity(auth: &Auth, command: &str) -> Outcome {
    if *auth == Auth::None {
        return Err(Failure::Usage(format!(
            "{command} needs an identity: pass --user NAME (CHATCORE_USER) or --token TOKEN (CHATCORE_TOKEN)"
        )));
    }
    Ok(())
}

fn config(cli: &Cli, auth: Auth) -> Result<ClientConfig, Failure> {
    let timeout = Duration::from_secs(cli.timeout);
    let codec = match cli.codec {
        CodecArg::Json => Codec::Json,
        CodecArg::Msgpack => Codec::MsgPack,
    };
    let mut config = ClientConfig::new(cli.server.as_str())
        .and_then(|c| c.with_connect_timeout(timeout))
        .and_then(|c| c.with_request_timeout(timeout))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(path) = &cli.ca_file {
        config = config
            .with_ca_file(path)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    Ok(config.with_auth(auth).with_codec(codec))
}

fn rest(cli: &Cli, auth: &Auth) -> Result<RestClient, Failure> {
    let mut api = RestClient::new(&cli.server).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(path) = &cli.ca_file {
        api = api
            .with_ca_file(path)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let api = api.with_timeout(Duration::from_secs(cli.timeout));
    Ok(match auth {
        Auth::Token(token) => api.with_token(token.clone()),
        _ => api,
    })
}

async fn connect(cli: &Cli, auth: Auth) -> Result<(Client, Events), Failure> {
    Ok(Client::connect(config(cli, auth)?).await?)
}

/// Connects, runs one command, and closes.
async fn with_client<T, F, Fut>(cli: &Cli, auth: Auth, f: F) -> Result<T, Failure>
where
    F: FnOnce(Client, Events) -> Fut,
    Fut: std::future::Future<Output = chatcore_client::Result<T>>,
{
    let (client, events) = connect(cli, auth).await?;
    let result = f(client.clone(), events).await;
    let _ = client.close().await;
    Ok(result?)
}

async fn send(cli: &Cli, client: &Client, room: &str, words: &[String]) -> Outcome {
    client.join(room).await?;
    if words.len() == 1 && words[0] == "-" {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        loop {
            let line = lines
                .next_line()
                .await
                .map_err(|e| Failure::Io(format!("reading standard input: {e}")))?;
            let Some(line) = line else { return Ok(()) };
            if !line.trim().is_empty() {
                send_one(cli, client, room, line).await?;
            }
        }
    }
    send_one(cli, client, room, words.join(" ")).await
}

async fn send_one(cli: &Cli, client: &Client, room: &str, text: String) -> Outcome {
    let ack = client.send(room, text).await?;
    if cli.json {
        print_json(&ack)
    } else {
        print_line(&format!("sent #{} to {}", ack.seq, ack.room))
    }
}

async fn tail(
    cli: &Cli,
    client: &Client,
    mut events: Events,
    room: &str,
    since: Option<u64>,
) -> Outcome {
    match since {
        Some(seq) => client.join_after(room, seq).await?,
        None => client.join(room).await?,
    };
    let stdout_closed = stdout_closed();
    tokio::pin!(stdout_closed);
    let mut lost = false;
    loop {
        let event = tokio::select! {
            () = &mut stdout_closed => return Err(Failure::StdoutClosed),
            event = events.recv() => event,
        };
        match event {
            Some(ClientEvent::Message(m)) if m.room == room => print_message(cli.json, &m)?,
            Some(ClientEvent::State(ConnectionState::Disconnected(reason))) if !lost => {
                lost = true;
                eprintln!("chat-cli: {reason}; reconnecting");
            }
            Some(ClientEvent::State(ConnectionState::Connected(_))) if lost => {
                lost = false;
                eprintln!("chat-cli: reconnected");
            }
            Some(ClientEvent::RejoinFailed { room: r, error }) if r == room => {
                return Err(error.into());
            }
            Some(ClientEvent::State(ConnectionState::Closed(reason))) => {
                return Err(Failure::Client(match reason {
                    DisconnectReason::GaveUp(e) => *e,
                    other => Error::Disconnected(other),
                }));
            }
            None => return Err(Failure::Client(Error::Closed)),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(&Error::Unauthorized("x".into())), 4);
        let unreachable = Error::Connect {
            url: "u".into(),
            reason: "r".into(),
        };
        assert_eq!(exit_code(&unreachable), 3);
        let server = Error::Server {
            code: chatcore_client::ErrorCode::UnknownRoom,
            message: "m".into(),
        };
        assert_eq!(exit_code(&server), 5);
        assert_eq!(exit_code(&Error::Invalid("blank".into())), 2);
        let gave_up = Error::Disconnected(DisconnectReason::GaveUp(Box::new(Error::Unauthorized(
            "x".into(),
        ))));
        assert_eq!(exit_code(&gave_up), 4);
        let untrusted = Error::Tls {
            url: "wss://h/ws".into(),
            reason: "the server's certificate is not trusted (UnknownIssuer)".into(),
            certificate: true,
        };
        assert_eq!(exit_code(&untrusted), 3);
        assert_eq!(
            explain(&untrusted),
            "TLS: the server's certificate is not trusted (UnknownIssuer); pass --ca-file \
             (CHATCORE_CA_FILE) with the CA that signed it"
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
