//! The open-file limit: `chat-server` raises its soft `RLIMIT_NOFILE` to the hard limit at
//! start-up and warns when the connections it was told to accept do not fit.
//!
//! Every connection is a file descriptor from `accept` on, and many systems start processes
//! with a soft limit of 1,024: far below the default `--max-connections` of 10,000. A server
//! that runs out does not refuse clearly: `accept` fails, new clients hang, `/health` stops
//! answering.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept free for everything that is not a client connection: listeners, the
/// store's files, the bus's sockets, logs.
const RESERVE: u64 = 64;

/// What the start-up did to the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// The soft limit before (`None`: unlimited).
    pub before: Option<u64>,
    /// The soft limit in force now (`None`: unlimited).
    pub now: Option<u64>,
}

/// Raises the soft limit on open files to the hard limit (a process may always do that).
pub fn raise() -> std::io::Result<FdLimit> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return Ok(FdLimit {
            before: limit.current,
            now: limit.current,
        });
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    )?;
    Ok(FdLimit {
        before: limit.current,
        now: getrlimit(Resource::Nofile).current,
    })
}

/// Descriptors the server may need at most: every connection of every transport, every
/// unfinished handshake of each (they hold descriptors before they count as connections),
/// and the reserve.
pub fn needed(connections: &[usize], handshakes: &[usize]) -> u64 {
    let sum = |v: &[usize]| v.iter().map(|&n| n as u64).sum::<u64>();
    sum(connections) + sum(handshakes) + RESERVE
}

/// The warning to log when `needed` descriptors do not fit in `limit`, else `None`.
pub fn shortfall(limit: FdLimit, needed: u64) -> Option<String> {
    let now = limit.now?;
    (needed > now).then(|| {
        format!(
            "the open-file limit ({now}) is below what --max-connections needs ({needed}, \
             counting unfinished handshakes and {RESERVE} spare): past it the server cannot \
             accept clients. Raise the hard limit (`ulimit -Hn`, LimitNOFILE= in systemd) or \
             lower --max-connections"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_the_soft_limit_to_the_hard_limit() {
        let limit = raise().expect("raise");
        assert_eq!(limit.now, getrlimit(Resource::Nofile).maximum);
    }

    #[test]
    fn warns_only_when_connections_do_not_fit() {
        let small = FdLimit {
            before: Some(1024),
            now: Some(1024),
        };
        let need = needed(&[10_000], &[1024]);
        assert_eq!(need, 10_000 + 1024 + RESERVE);
        let warning = shortfall(small, need).expect("too small");
        assert!(warning.contains("1024") && warning.contains("--max-connections"));
        assert!(shortfall(small, needed(&[500], &[64])).is_none());
        let unlimited = FdLimit {
            before: None,
            now: None,
        };
        assert!(shortfall(unlimited, need).is_none());
    }
}
