//! Several servers behind one name (a Kubernetes headless service, a
//! round-robin record): which of its addresses a call tries first, and
//! what each address has done lately.
//!
//! Calls take the addresses in turns: sorted (so the resolver's own
//! shuffling does not matter), then rotated by one for each call to that
//! name. An address whose connection just failed (refused, or silent while
//! another answered) goes to the back of the line for [`AVOID_FOR`], so a
//! dead server does not cost every call its share of the connect timeout;
//! it is still tried when nothing else answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::locks::lock;

/// How long an address that failed is tried last.
pub const AVOID_FOR: Duration = Duration::from_secs(15);

struct Record {
    connected: u64,
    failed: u64,
    failed_at: Option<Instant>,
    last_used: Instant,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            connected: 0,
            failed: 0,
            failed_at: None,
            last_used: Instant::now(),
        }
    }
}

/// Past this many addresses, those unused for [`FORGET_AFTER`] are
/// forgotten (servers come and go over months).
const MANY: usize = 256;
const FORGET_AFTER: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Fleet {
    /// The next turn for each name (`host:port`).
    turns: HashMap<String, usize>,
    addresses: HashMap<SocketAddr, Record>,
}

static FLEET: Mutex<Option<Fleet>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Fleet) -> R) -> R {
    f(lock(&FLEET).get_or_insert_with(Fleet::default))
}

fn record(fleet: &mut Fleet, addr: SocketAddr, now: Instant) -> &mut Record {
    if fleet.addresses.len() >= MANY && !fleet.addresses.contains_key(&addr) {
        fleet
            .addresses
            .retain(|_, r| now.saturating_duration_since(r.last_used) < FORGET_AFTER);
        if fleet.turns.len() >= MANY {
            fleet.turns.clear();
        }
    }
    let r = fleet.addresses.entry(addr).or_default();
    r.last_used = now;
    r
}

/// The order in which a call to `name` tries `addrs`, as of `now`.
pub(crate) fn order(name: &str, mut addrs: Vec<SocketAddr>, now: Instant) -> Vec<SocketAddr> {
    addrs.sort();
    addrs.dedup();
    with(|fleet| {
        if !addrs.is_empty() {
            let turn = fleet.turns.entry(name.to_string()).or_default();
            let n = addrs.len();
            addrs.rotate_left(*turn % n);
            *turn = turn.wrapping_add(1);
        }
        let avoided = |a: &SocketAddr| {
            fleet
                .addresses
                .get(a)
                .and_then(|r| r.failed_at)
                .is_some_and(|t| now.saturating_duration_since(t) < AVOID_FOR)
        };
        // A stable partition: the rotation holds within each part.
        let (mut good, bad): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| !avoided(a));
        good.extend(bad);
        good
    })
}

/// A call connected to `addr`.
pub(crate) fn connected(addr: SocketAddr) {
    with(|fleet| {
        let r = record(fleet, addr, Instant::now());
        r.connected += 1;
        r.failed_at = None;
    });
}

/// `addr` refused a call, or stayed silent while another address answered.
pub(crate) fn failed(addr: SocketAddr, now: Instant) {
    with(|fleet| {
        let r = record(fleet, addr, now);
        r.failed += 1;
        r.failed_at = Some(now);
    });
}

/// What the CLI shows of one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressView {
    pub addr: SocketAddr,
    /// Calls connected to it since the module loaded.
    pub connected: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// How much longer it is tried last, if it is.
    pub avoided_for: Option<Duration>,
}

/// Every address a call has tried since the module loaded, in order.
pub fn addresses() -> Vec<AddressView> {
    let now = Instant::now();
    let mut v: Vec<AddressView> = with(|fleet| {
        fleet
            .addresses
            .iter()
            .map(|(addr, r)| AddressView {
                addr: *addr,
                connected: r.connected,
                failed: r.failed,
                avoided_for: r
                    .failed_at
                    .map(|t| AVOID_FOR.saturating_sub(now.saturating_duration_since(t)))
                    .filter(|d| !d.is_zero()),
            })
            .collect()
    });
    v.sort_by_key(|a| a.addr);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(last_octets: &[u8], port: u16) -> Vec<SocketAddr> {
        last_octets
            .iter()
            .map(|o| SocketAddr::from(([127, 0, 0, *o], port)))
            .collect()
    }

    #[test]
    fn calls_take_the_addresses_in_turns_whatever_the_resolver_order() {
        let name = "turns.test:1";
        let mut firsts = Vec::new();
        for i in 0..9 {
            // The resolver answers in a different order each time.
            let mut given = addrs(&[2, 3, 4], 1);
            given.rotate_left(i % 3);
            firsts.push(order(name, given, Instant::now())[0]);
        }
        for a in addrs(&[2, 3, 4], 1) {
            assert_eq!(firsts.iter().filter(|f| **f == a).count(), 3, "{firsts:?}");
        }
        assert_ne!(firsts[0], firsts[1]);
    }

    #[test]
    fn a_failed_address_goes_last_for_a_while_then_takes_its_turn_again() {
        let name = "avoid.test:2";
        let all = addrs(&[5, 6, 7], 2);
        let t0 = Instant::now();
        failed(all[0], t0);
        for _ in 0..6 {
            let o = order(name, all.clone(), t0 + Duration::from_secs(1));
            assert_eq!(o.len(), 3);
            assert_eq!(o[2], all[0], "{o:?}");
        }
        let later = t0 + AVOID_FOR + Duration::from_secs(1);
        let firsts: Vec<_> = (0..3).map(|_| order(name, all.clone(), later)[0]).collect();
        assert!(firsts.contains(&all[0]), "{firsts:?}");
        connected(all[0]);
        let view = addresses().into_iter().find(|a| a.addr == all[0]).unwrap();
        assert_eq!(
            (view.connected, view.failed, view.avoided_for),
            (1, 1, None)
        );
    }
}
