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

mod args;
mod changes;
mod connect;
mod failure;
mod find;
mod messages;
mod moderation;
mod output;
mod session;

use std::process::ExitCode;

use chatcore_client::{Auth, HistoryPage, HistoryQuery};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Cmd};
use connect::{connect, needs_identity, rest, with_client};
use failure::{Failure, Outcome, fail};
use messages::{send, tail};
use output::{print_json, print_line, print_message, print_room};

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
