//! Rooms with authority: `create-room`, `delete-room`, `invite`, `kick`, `ban`, `unban`,
//! `mute`, `unmute`, `topic`, `role`, `members`, `block`, `unblock`.

use std::time::Duration;

use chatcore_client::{Ack, Auth, Client, Role, RoomKind};
use clap::{Subcommand, ValueEnum};

use crate::args::Cli;
use crate::connect::{needs_identity, with_client};
use crate::failure::Outcome;
use crate::output::{print_json, print_line, print_room};

/// Commands about rooms and users that are not room events.
#[derive(Debug, Subcommand)]
pub(crate) enum RoomCmd {
    /// Create a room owned by you (public unless `--private`: invisible to non-members,
    /// joined by invitation only).
    CreateRoom {
        /// Room name.
        room: String,
        /// Invitation only.
        #[arg(long)]
        private: bool,
        /// The first topic.
        #[arg(long, value_name = "TEXT")]
        topic: Option<String>,
    },
    /// Delete a room (its owner, or a server admin): messages and members go, the audit
    /// log stays, and the name is never a room again.
    DeleteRoom {
        /// Room name.
        room: String,
    },
    /// List a room's members with their roles.
    Members {
        /// Room name.
        room: String,
    },
    /// Refuse direct messages from USER.
    Block {
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
    },
    /// Accept direct messages from USER again.
    Unblock {
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
    },
}

/// Moderation actions: each is a room event, answered by its ack.
#[derive(Debug, Clone, Subcommand)]
pub(crate) enum ActCmd {
    /// Invite USER to a private room (admins and up); they accept by joining it.
    Invite {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
    },
    /// Remove USER from a room (moderators and up); they may join again.
    Kick {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
        /// Why, shown to the room.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Remove USER and keep them out (admins and up), for `--for` or until `unban`.
    Ban {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
        /// Why, shown to the room.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// How long: `90s`, `10m`, `2h`, `7d`.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        duration: Option<Duration>,
    },
    /// Lift a ban (admins and up).
    Unban {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
    },
    /// Stop USER from sending (moderators and up), for `--for` or until `unmute`.
    Mute {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
        /// Why, shown to the room.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// How long: `90s`, `10m`, `2h`, `7d`.
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        duration: Option<Duration>,
    },
    /// Lift a mute (moderators and up).
    Unmute {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
    },
    /// Set a room's topic (moderators and up); the words are joined with spaces, an empty
    /// string clears it.
    Topic {
        /// Room name.
        room: String,
        /// The new topic.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Give USER a role in a room (admins up to moderator; the owner anything, `owner`
    /// transfers ownership).
    Role {
        /// Room name.
        room: String,
        /// Who (the user's name).
        #[arg(value_name = "USER")]
        who: String,
        /// The new role.
        role: RoleArg,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    /// An ordinary member.
    Member,
    /// May kick, mute and set the topic.
    Moderator,
    /// May also ban, invite and promote up to moderator.
    Admin,
    /// Owns the room.
    Owner,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Member => Role::Member,
            RoleArg::Moderator => Role::Moderator,
            RoleArg::Admin => Role::Admin,
            RoleArg::Owner => Role::Owner,
        }
    }
}

/// `90s`, `10m`, `2h`, `7d` (a bare number is seconds).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is no duration: use 90s, 10m, 2h or 7d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("`{unit}` is no unit: use s, m, h or d")),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("a duration must be longer than 0".into()),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Err(format!("`{text}` is too long")),
    }
}

/// Runs one of the commands that are not room events.
pub(crate) async fn run_room(cli: &Cli, auth: Auth, cmd: &RoomCmd) -> Outcome {
    needs_identity(&auth, "this command")?;
    let json = cli.json;
    match cmd {
        RoomCmd::CreateRoom {
            room,
            private,
            topic,
        } => {
            let kind = if *private {
                RoomKind::Private
            } else {
                RoomKind::Public
            };
            let (room, topic) = (room.clone(), topic.clone());
            let summary = with_client(cli, auth, |c, _| async move {
                c.create_room(room, kind, topic).await
            })
            .await?;
            print_room(json, &summary)
        }
        RoomCmd::DeleteRoom { room } => {
            let name = room.clone();
            with_client(cli, auth, |c, _| async move { c.delete_room(name).await }).await?;
            let value = serde_json::json!({"room": room, "deleted": true});
            done(json, &value, &format!("deleted {room}"))
        }
        RoomCmd::Members { room } => {
            let name = room.clone();
            let members =
                with_client(cli, auth, |c, _| async move { c.members(name).await }).await?;
            if json {
                return members.iter().try_for_each(print_json);
            }
            members
                .iter()
                .try_for_each(|m| print_line(&format!("{} ({})", m.user, m.role.as_str())))
        }
        RoomCmd::Block { who } | RoomCmd::Unblock { who } => {
            let on = matches!(cmd, RoomCmd::Block { .. });
            let user = who.clone();
            with_client(cli, auth, |c, _| async move { c.block(user, on).await }).await?;
            let line = format!("{} {who}", if on { "blocked" } else { "unblocked" });
            done(
                json,
                &serde_json::json!({"user": who, "blocked": on}),
                &line,
            )
        }
    }
}

/// Runs a moderation action and prints the ack of its room event.
pub(crate) async fn run_act(cli: &Cli, auth: Auth, cmd: &ActCmd) -> Outcome {
    needs_identity(&auth, "this command")?;
    let (verb, room) = match cmd {
        ActCmd::Invite { room, .. } => ("invited to", room),
        ActCmd::Kick { room, .. } => ("kicked from", room),
        ActCmd::Ban { room, .. } => ("banned from", room),
        ActCmd::Unban { room, .. } => ("unbanned in", room),
        ActCmd::Mute { room, .. } => ("muted in", room),
        ActCmd::Unmute { room, .. } => ("unmuted in", room),
        ActCmd::Topic { room, .. } => ("set the topic of", room),
        ActCmd::Role { room, .. } => ("changed a role in", room),
    };
    let owned = cmd.clone();
    let ack = with_client(cli, auth, |c, _| async move { act(&c, owned).await }).await?;
    if cli.json {
        return print_json(&ack);
    }
    print_line(&format!("{verb} {room} (event #{})", ack.seq))
}

async fn act(c: &Client, cmd: ActCmd) -> chatcore_client::Result<Ack> {
    match cmd {
        ActCmd::Invite { room, who } => c.invite(room, who).await,
        ActCmd::Kick { room, who, reason } => c.kick(room, who, reason).await,
        ActCmd::Ban {
            room,
            who,
            reason,
            duration,
        } => c.ban(room, who, reason, duration).await,
        ActCmd::Unban { room, who } => c.unban(room, who).await,
        ActCmd::Mute {
            room,
            who,
            reason,
            duration,
        } => c.mute(room, who, reason, duration).await,
        ActCmd::Unmute { room, who } => c.unmute(room, who).await,
        ActCmd::Topic { room, text } => c.set_topic(room, text.join(" ")).await,
        ActCmd::Role { room, who, role } => c.set_role(room, who, role.into()).await,
    }
}

fn done(json: bool, value: &serde_json::Value, line: &str) -> Outcome {
    if json {
        print_json(value)
    } else {
        print_line(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        for bad in ["", "m", "0s", "10y", "-5m", "1.5h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
