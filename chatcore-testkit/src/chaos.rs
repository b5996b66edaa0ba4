//! [`BusChaos`]: the faults a simulated bus suffers, decided by a seeded generator so a run
//! replays exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chatcore::bus::BusHandler;

use crate::rng::SimRng;

/// How often each fault strikes one published event. All zero delivers everything at once.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BusFaults {
    /// Chance an event is lost (Redis pub/sub is at most once).
    pub drop: f64,
    /// Chance an event arrives twice.
    pub duplicate: f64,
    /// Chance an event is held back, so later ones overtake it.
    pub delay: f64,
    /// Longest hold-back of a delayed event.
    pub max_delay: Duration,
}

/// What happens to one published event: delivered now, later, twice, or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate(Vec<Option<Duration>>);

impl Fate {
    /// One entry per copy delivered: `None` at once, `Some(d)` after `d`.
    pub fn deliveries(&self) -> &[Option<Duration>] {
        &self.0
    }
}

/// The faults every node of one simulated cluster shares: per-event drops, duplicates and
/// delays, whole-bus outages and single-node partitions.
///
/// Decisions are made when an event is published, in publish order, from one seeded
/// [`SimRng`]; on a paused tokio clock with a current-thread runtime the same seed gives the
/// same run.
pub struct BusChaos {
    /// Per-event fault rates.
    faults: BusFaults,
    /// A std mutex: held for one decision, never across an await.
    state: Mutex<State>,
}

struct State {
    rng: SimRng,
    /// Nodes that neither send nor hear anything.
    cut: BTreeSet<String>,
    /// Every node's hub, to tell it the bus may have lost events when its link returns.
    handlers: BTreeMap<String, Arc<dyn BusHandler>>,
    /// Events lost so far (faults and cuts).
    lost: u64,
}

impl std::fmt::Debug for BusChaos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("BusChaos")
            .field("faults", &self.faults)
            .field("cut", &st.cut)
            .field("lost", &st.lost)
            .finish_non_exhaustive()
    }
}

impl BusChaos {
    /// Faults at `faults` rates, decided from `seed`.
    pub fn new(seed: u64, faults: BusFaults) -> Arc<Self> {
        Arc::new(Self {
            faults,
            state: Mutex::new(State {
                rng: SimRng::new(seed),
                cut: BTreeSet::new(),
                handlers: BTreeMap::new(),
                lost: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn register(&self, node: &str, handler: Arc<dyn BusHandler>) {
        self.lock().handlers.insert(node.to_owned(), handler);
    }

    /// `true` while `node` is cut off.
    pub fn is_cut(&self, node: &str) -> bool {
        self.lock().cut.contains(node)
    }

    /// Events lost so far, to faults and cuts.
    pub fn lost(&self) -> u64 {
        self.lock().lost
    }

    /// Cuts `node` off: it neither sends nor hears until [`BusChaos::heal`].
    pub fn cut(&self, node: &str) {
        self.lock().cut.insert(node.to_owned());
    }

    /// Cuts every registered node off: the bus is down.
    pub fn outage(&self) {
        let mut st = self.lock();
        st.cut = st.handlers.keys().cloned().collect();
    }

    /// Reconnects every cut node and tells each that it may have missed events, as a Redis
    /// client does when it reconnects.
    pub fn heal(&self) {
        let healed: Vec<Arc<dyn BusHandler>> = {
            let mut st = self.lock();
            let cut = std::mem::take(&mut st.cut);
            cut.iter()
                .filter_map(|node| st.handlers.get(node).cloned())
                .collect()
        };
        for handler in healed {
            handler.on_gap_suspected();
        }
    }

    /// Decides what happens to one event `node` publishes.
    pub fn fate(&self, node: &str) -> Fate {
        let f = self.faults;
        let mut st = self.lock();
        if st.cut.contains(node) || st.rng.chance(f.drop) {
            st.lost += 1;
            return Fate(Vec::new());
        }
        let copies = if st.rng.chance(f.duplicate) { 2 } else { 1 };
        let mut fate = Vec::with_capacity(copies);
        for _ in 0..copies {
            let delay = st.rng.chance(f.delay).then(|| {
                let most = f.max_delay.as_millis().max(1) as u64;
                Duration::from_millis(st.rng.range(1, most))
            });
            fate.push(delay);
        }
        Fate(fate)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BusChaos, BusFaults};

    #[test]
    fn no_faults_deliver_every_event_once_at_once() {
        let chaos = BusChaos::new(1, BusFaults::default());
        for _ in 0..100 {
            assert_eq!(chaos.fate("a").deliveries(), &[None]);
        }
    }

    #[test]
    fn a_cut_node_sends_nothing_until_healed() {
        let chaos = BusChaos::new(1, BusFaults::default());
        chaos.cut("a");
        assert!(chaos.fate("a").deliveries().is_empty());
        assert_eq!(chaos.fate("b").deliveries(), &[None]);
        chaos.heal();
        assert_eq!(chaos.fate("a").deliveries(), &[None]);
        assert_eq!(chaos.lost(), 1);
    }

    #[test]
    fn faults_strike_at_their_rates_and_replay_from_the_seed() {
        let faults = BusFaults {
            drop: 0.2,
            duplicate: 0.2,
            delay: 0.5,
            max_delay: Duration::from_millis(30),
        };
        let run = |seed| {
            let chaos = BusChaos::new(seed, faults);
            (0..1000).map(|_| chaos.fate("a")).collect::<Vec<_>>()
        };
        let fates = run(9);
        assert_eq!(fates, run(9));
        let lost = fates.iter().filter(|f| f.deliveries().is_empty()).count();
        let twice = fates.iter().filter(|f| f.deliveries().len() == 2).count();
        assert!((120..280).contains(&lost), "{lost}");
        assert!((100..260).contains(&twice), "{twice}");
        let late = fates.iter().flat_map(|f| f.deliveries()).flatten();
        assert!(late.clone().all(|d| *d <= Duration::from_millis(30)));
        assert!(late.count() > 300);
    }
}
