//! What one seed runs: how many nodes and clients, how busy, and which faults strike when.

use std::time::Duration;

use chatcore_testkit::{BusFaults, SimRng};

/// The fault mix. Every seed gets one main fault; churn and a lossy bus come on top at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// The bus drops, duplicates, delays and reorders events.
    Lossy,
    /// The whole bus is down for 1–5 s while messages flow (the Redis outage of issue 17).
    Outage,
    /// One node is cut off the bus for 0.5–3 s.
    Partition,
    /// The store refuses every call for 0.1–1 s, now and then.
    StoreDown,
    /// Clients disconnect and resume at random, with sends in flight.
    Churn,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [
        Kind::Lossy,
        Kind::Outage,
        Kind::Partition,
        Kind::StoreDown,
        Kind::Churn,
    ];
}

/// A time window of the run, in simulated time from its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: Duration,
    pub(crate) end: Duration,
}

impl Window {
    fn random(rng: &mut SimRng, earliest: u64, latest: u64, shortest: u64, longest: u64) -> Self {
        let start = rng.range(earliest, latest);
        let len = rng.range(shortest, longest);
        Self {
            start: Duration::from_millis(start),
            end: Duration::from_millis(start + len),
        }
    }

    pub(crate) fn contains(&self, t: Duration) -> bool {
        self.start <= t && t < self.end
    }
}

/// One seed's run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) kind: Kind,
    pub(crate) nodes: usize,
    pub(crate) clients_per_node: usize,
    /// Chance per client per tick of sending a message.
    pub(crate) send: f64,
    /// Chance per client per tick of dropping its connection.
    pub(crate) churn: f64,
    pub(crate) bus: BusFaults,
    /// Bus down for everyone.
    pub(crate) outage: Option<Window>,
    /// One node (by index) cut off.
    pub(crate) partition: Option<(usize, Window)>,
    /// Store refusing calls.
    pub(crate) store_down: Vec<Window>,
    /// How long clients send.
    pub(crate) traffic: Duration,
    /// Seed of the bus's fault decisions.
    pub(crate) bus_seed: u64,
    /// Seed of the clients' decisions.
    pub(crate) client_seed: u64,
}

/// One step of simulated time: clients act and read once per tick.
pub(crate) const TICK: Duration = Duration::from_millis(10);

impl Plan {
    pub(crate) fn new(seed: u64) -> Self {
        let mut rng = SimRng::new(seed);
        let kind = Kind::ALL[(seed % Kind::ALL.len() as u64) as usize];
        let nodes = rng.range(2, 3) as usize;
        let lossy = kind == Kind::Lossy || rng.chance(0.25);
        let bus = if lossy {
            BusFaults {
                drop: rng.range(0, 30) as f64 / 100.0,
                duplicate: rng.range(0, 20) as f64 / 100.0,
                delay: rng.range(0, 50) as f64 / 100.0,
                max_delay: Duration::from_millis(rng.range(1, 300)),
            }
        } else {
            BusFaults::default()
        };
        let churn = if kind == Kind::Churn || rng.chance(0.2) {
            rng.range(1, 20) as f64 / 1000.0
        } else {
            0.0
        };
        let mut plan = Self {
            kind,
            nodes,
            clients_per_node: 2,
            // 10 ms ticks: 0.05–0.25 is 5–25 messages a second per client, 20–150 in all
            // (the outage of issue 17 ran at 120).
            send: rng.range(5, 25) as f64 / 100.0,
            churn,
            bus,
            outage: None,
            partition: None,
            store_down: Vec::new(),
            traffic: Duration::from_millis(4_000),
            bus_seed: rng.next_u64(),
            client_seed: rng.next_u64(),
        };
        match kind {
            Kind::Outage => {
                let w = Window::random(&mut rng, 300, 1_000, 1_000, 5_000);
                plan.traffic = plan.traffic.max(w.end + Duration::from_millis(1_000));
                plan.outage = Some(w);
            }
            Kind::Partition => {
                let node = rng.below(nodes as u64) as usize;
                plan.partition = Some((node, Window::random(&mut rng, 300, 2_000, 500, 3_000)));
            }
            Kind::StoreDown => {
                for _ in 0..rng.range(1, 3) {
                    let w = Window::random(&mut rng, 300, 3_500, 100, 1_000);
                    plan.store_down.push(w);
                }
            }
            Kind::Lossy | Kind::Churn => {}
        }
        plan
    }

    pub(crate) fn store_down_at(&self, t: Duration) -> bool {
        self.store_down.iter().any(|w| w.contains(t))
    }
}
