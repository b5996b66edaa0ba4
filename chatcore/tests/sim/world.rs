//! One seeded run: nodes on one memory store and one chaotic bus, clients on every node,
//! the plan's faults at their times, and the contract checked throughout and at the end.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use chatcore::bus::LocalNetwork;
use chatcore::store::{HistoryQuery, MemoryStore, Store};
use chatcore::{Hub, Limits};
use chatcore_testkit::{BusChaos, FlakyBus, FlakyStore, Outage, SimRng};

use crate::client::{Ledger, ROOM, SimClient};
use crate::plan::{Plan, TICK};

/// Every member must be live again this soon after the bus returns (contract 8: "within
/// about a second"; the memory store reads in no simulated time).
pub(crate) const LIVE_WITHIN: Duration = Duration::from_millis(1_000);
/// What a bus that also loses single events may add: the `Head` that tells the other nodes
/// of a lost tail can be lost too, and is repeated with the presence lease (every 3 s).
const LOSSY_EXTRA: Duration = Duration::from_secs(3);
/// After the traffic stops and every fault is healed, everyone must catch up this soon.
const SETTLE: Duration = Duration::from_secs(10);
/// Small queues, so a release of held-back messages that would overflow a real one (1,024)
/// overflows here with the few hundred messages a run sends.
const QUEUE: usize = 64;

/// What a run leaves behind.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// A hash of every delivery (who, when, which seq) and every ack: the same seed must
    /// give the same hash.
    pub(crate) trace: u64,
    pub(crate) messages: u64,
    pub(crate) drops: u32,
}

pub(crate) async fn run(plan: &Plan) -> Result<Outcome, String> {
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let store = FlakyStore::new(Arc::clone(&memory), Outage::default());
    let net = LocalNetwork::new();
    let chaos = BusChaos::new(plan.bus_seed, plan.bus);
    let limits = Limits::default()
        .with_queue_capacity(QUEUE)
        .map_err(|e| format!("limits: {e}"))?;
    let mut hubs = Vec::new();
    for n in 0..plan.nodes {
        let bus = FlakyBus::chaotic(net.node(format!("n{n}")), Arc::clone(&chaos));
        let hub = Hub::builder()
            .shared_store(Arc::new(store.clone()))
            .bus(bus)
            .limits(limits.clone())
            .build()
            .await
            .map_err(|e| format!("hub: {e}"))?;
        hubs.push(hub);
    }
    let mut clients: Vec<SimClient> = (0..plan.nodes * plan.clients_per_node)
        .map(|i| SimClient::new(format!("u{i}"), i % plan.nodes))
        .collect();
    let mut rng = SimRng::new(plan.client_seed);
    let mut ledger = Ledger::default();
    let start = tokio::time::Instant::now();
    let mut checked_live = false;
    let within = if plan.bus.drop > 0.0 {
        LIVE_WITHIN + LOSSY_EXTRA
    } else {
        LIVE_WITHIN
    };
    // When the bus came back, and the store's newest seq at that moment.
    let mut returned: Option<(Duration, u64)> = None;
    let mut outage_on = false;
    let mut cut_on = false;
    loop {
        let now = start.elapsed();
        let traffic = now < plan.traffic;
        // Faults switch on and off at their planned times; all end with the traffic.
        let want_outage = traffic && plan.outage.is_some_and(|w| w.contains(now));
        let want_cut = traffic && plan.partition.is_some_and(|(_, w)| w.contains(now));
        if want_outage && !outage_on {
            chaos.outage();
        }
        if let Some((node, _)) = plan.partition {
            if want_cut && !cut_on {
                chaos.cut(&format!("n{node}"));
            }
        }
        if (outage_on && !want_outage) || (cut_on && !want_cut) {
            chaos.heal();
            let last = memory.last_seq(ROOM).await.map_err(|e| e.to_string())?;
            returned = Some((now, last));
        }
        (outage_on, cut_on) = (want_outage, want_cut);
        store.hook().set_down(traffic && plan.store_down_at(now));

        for c in clients.iter_mut() {
            c.drain(now, memory.as_ref(), &mut ledger).await?;
            if !c.online() {
                if c.back_at.is_some_and(|t| t <= now) {
                    c.connect(&hubs[c.node]).await?;
                }
                continue;
            }
            if traffic && rng.chance(plan.churn) {
                let back = now + Duration::from_millis(rng.range(10, 500));
                c.disconnect(back);
                continue;
            }
            let fresh = traffic && rng.chance(plan.send);
            c.send(fresh).await;
        }

        if let Some((back, target)) = returned {
            if !checked_live && now >= back + within {
                checked_live = true;
                live_after_outage(plan, &clients, back, target, within)?;
            }
        }
        if !traffic && settled(&clients, memory.as_ref()).await? {
            // Settled before the check was due: the deliveries' times still tell.
            if let (Some((back, target)), false) = (returned, checked_live) {
                live_after_outage(plan, &clients, back, target, within)?;
            }
            break;
        }
        if now > plan.traffic + SETTLE {
            return Err(stuck(&clients, memory.as_ref()).await);
        }
        tokio::time::sleep(TICK).await;
    }
    let messages = check_store(memory.as_ref(), &clients, &ledger).await?;
    let mut h = DefaultHasher::new();
    for c in &clients {
        c.deliveries.hash(&mut h);
        c.nonces.hash(&mut h);
    }
    for hub in &hubs {
        hub.shutdown(Duration::ZERO)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(Outcome {
        trace: h.finish(),
        messages,
        drops: clients.iter().map(|c| c.drops).sum(),
    })
}

/// Contract 8: every member connected throughout is live within `within` of the bus
/// returning: it has every message the store had committed by then.
fn live_after_outage(
    plan: &Plan,
    clients: &[SimClient],
    back: Duration,
    target: u64,
    within: Duration,
) -> Result<(), String> {
    for c in clients.iter().filter(|c| c.online() && c.drops == 0) {
        let at = c
            .deliveries
            .iter()
            .find(|(_, seq)| *seq >= target)
            .map(|(t, _)| *t);
        if target > 0 && at.is_none_or(|t| t > back + within) {
            return Err(format!(
                "{} (node {}) not live {within:?} after the bus returned at {back:?} \
                 ({:?}): has seq {} of the {target} committed by then",
                c.user, c.node, plan.kind, c.seen
            ));
        }
    }
    Ok(())
}

/// Everyone online has everything, nothing is in flight.
async fn settled(clients: &[SimClient], store: &dyn Store) -> Result<bool, String> {
    let last = store.last_seq(ROOM).await.map_err(|e| e.to_string())?;
    Ok(clients
        .iter()
        .all(|c| c.live() && c.seen == last && c.unacked() == 0))
}

async fn stuck(clients: &[SimClient], store: &dyn Store) -> String {
    let last = store.last_seq(ROOM).await.unwrap_or(0);
    let behind: Vec<String> = clients
        .iter()
        .filter(|c| !(c.live() && c.seen == last && c.unacked() == 0))
        .map(|c| {
            format!(
                "{} (node {}): live {}, seen {}, unacked {}",
                c.user,
                c.node,
                c.live(),
                c.seen,
                c.unacked()
            )
        })
        .collect();
    format!("not settled {SETTLE:?} after the faults ended (store at seq {last}): {behind:?}")
}

/// Contracts 1, 2 and 4 at the end: the store holds 1..=N with no gap, each nonce once, each
/// at the seq its ack named, with the text every client saw.
async fn check_store(
    store: &dyn Store,
    clients: &[SimClient],
    ledger: &Ledger,
) -> Result<u64, String> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let q = HistoryQuery {
            after: Some(after),
            before: None,
            limit: 200,
        };
        let page = store.history(ROOM, q).await.map_err(|e| e.to_string())?;
        after = page.messages.last().map_or(after, |m| m.seq);
        let more = page.has_more && !page.messages.is_empty();
        all.extend(page.messages);
        if !more {
            break;
        }
    }
    let mut nonces = std::collections::HashMap::new();
    for (i, m) in all.iter().enumerate() {
        if m.seq != i as u64 + 1 {
            return Err(format!("store: seq {} at position {}", m.seq, i + 1));
        }
        let nonce = m.nonce.clone().unwrap_or_default();
        if let Some(first) = nonces.insert(nonce.clone(), m.seq) {
            return Err(format!("store: nonce {nonce} at seq {first} and {}", m.seq));
        }
        if let Some(seen) = ledger.texts.get(&m.seq) {
            if *seen != (m.sender.clone(), m.text.clone()) {
                return Err(format!(
                    "store: seq {} is {m:?}, clients saw {seen:?}",
                    m.seq
                ));
            }
        }
    }
    for c in clients {
        for (nonce, acked) in &c.nonces {
            if acked.is_some() && nonces.get(nonce) != acked.as_ref() {
                return Err(format!(
                    "{}: {nonce} acked as {acked:?}, stored at {:?}",
                    c.user,
                    nonces.get(nonce)
                ));
            }
        }
    }
    Ok(all.len() as u64)
}
