//! Several servers behind one name (a Kubernetes headless service, a
//! round-robin record): which of its addresses a call tries first, and
//! what each address has done lately.
//!
//! Calls take the addresses in turns: sorted (so the resolver's own
//! shuffling does not matter), then rotated by one for each call to that
//! name. An address whose connection just failed (refused, or silent while
//! another answered) goes to the back of the line for [`AVOID_FOR`], so a
//! dead server does not cost every call its share of the connect timeout;
//! it is still tried when nothing else answers, the one that failed most
//! recently last.

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

/// Addresses, and names, remembered at most: past this the least recently
/// used is forgotten (servers come and go over months, and a dialplan may
/// name a new one for every call).
pub const REMEMBERED: usize = 256;

#[derive(Default)]
struct Fleet {
    /// The next turn for each name (`host:port`), and when it was last used.
    turns: HashMap<String, (usize, Instant)>,
    addresses: HashMap<SocketAddr, Record>,
}

/// Makes room for one more key in `map`: the least recently used goes.
fn make_room<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    key: &K,
    used: impl Fn(&V) -> Instant,
) {
    if map.len() < REMEMBERED || map.contains_key(key) {
        return;
    }
    if let Some(oldest) = map
        .iter()
        .min_by_key(|(_, v)| used(v))
        .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

static FLEET: Mutex<Option<Fleet>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Fleet) -> R) -> R {
    f(lock(&FLEET).get_or_insert_with(Fleet::default))
}

fn record(fleet: &mut Fleet, addr: SocketAddr, now: Instant) -> &mut Record {
    make_room(&mut fleet.addresses, &addr, |r| r.last_used);
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
            let name = name.to_string();
            make_room(&mut fleet.turns, &name, |(_, used)| *used);
            let (turn, used) = fleet.turns.entry(name).or_insert((0, now));
            let n = addrs.len();
            addrs.rotate_left(*turn % n);
            *turn = turn.wrapping_add(1);
            *used = now;
        }
        let failed_at = |a: &SocketAddr| {
            fleet
                .addresses
                .get(a)
                .and_then(|r| r.failed_at)
                .filter(|t| now.saturating_duration_since(*t) < AVOID_FOR)
        };
        // A stable partition: the rotation holds among the good. Among the
        // avoided, the one that failed longest ago comes first: the one
        // that failed just now (a stream's lost server) is the least
        // likely to answer, and goes last.
        let (mut good, mut bad): (Vec<_>, Vec<_>) =
            addrs.into_iter().partition(|a| failed_at(a).is_none());
        bad.sort_by_key(|a| failed_at(a));
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

/// The addresses calls have tried (the [`REMEMBERED`] most recently
/// used), the most recently used first.
pub fn addresses() -> Vec<AddressView> {
    let now = Instant::now();
    with(|fleet| {
        let mut records: Vec<(&SocketAddr, &Record)> = fleet.addresses.iter().collect();
        records.sort_by_key(|(_, r)| std::cmp::Reverse(r.last_used));
        records
            .into_iter()
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_remembered_is_bounded_and_the_least_recently_used_goes() {
        let t0 = Instant::now();
        let mut fleet = Fleet::default();
        for i in 0..(REMEMBERED as u32 * 4) {
            let addr = SocketAddr::from((std::net::Ipv4Addr::from(0x0a00_0000 + i), 9092));
            record(&mut fleet, addr, t0 + Duration::from_millis(i.into()));
        }
        assert_eq!(fleet.addresses.len(), REMEMBERED);
        let newest = SocketAddr::from((
            std::net::Ipv4Addr::from(0x0a00_0000 + REMEMBERED as u32 * 4 - 1),
            9092,
        ));
        let oldest_kept = SocketAddr::from((
            std::net::Ipv4Addr::from(0x0a00_0000 + REMEMBERED as u32 * 3),
            9092,
        ));
        assert!(
            fleet.addresses.contains_key(&newest) && fleet.addresses.contains_key(&oldest_kept)
        );
        // Names too.
        for i in 0..REMEMBERED * 3 {
            let name = format!("bot-{i}.lru.test:1");
            make_room(&mut fleet.turns, &name, |(_, used)| *used);
            fleet
                .turns
                .insert(name, (0, t0 + Duration::from_millis(i as u64)));
        }
        assert_eq!(fleet.turns.len(), REMEMBERED);
        assert!(fleet
            .turns
            .contains_key(&format!("bot-{}.lru.test:1", REMEMBERED * 3 - 1)));
    }

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

    #[test]
    fn of_two_failed_addresses_the_one_that_failed_last_goes_last() {
        // A stream's server dies while the fleet's other address is still
        // avoided for an earlier failure: the other is tried first.
        let name = "both-failed.test:3";
        let all = addrs(&[8, 9], 3);
        let t0 = Instant::now();
        failed(all[1], t0);
        failed(all[0], t0 + Duration::from_secs(5));
        for _ in 0..4 {
            let o = order(name, all.clone(), t0 + Duration::from_secs(6));
            assert_eq!(o, [all[1], all[0]]);
        }
    }
}
