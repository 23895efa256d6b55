//! The workloads: their sizes, what each implementation reports, and how it is checked.
//!
//! An implementation runs a workload and reports what its actors saw (a count and a
//! checksum); this module alone knows what they should have seen, so a wrong result fails
//! the case whichever library produced it.

use std::time::Duration;

use crate::impls::Impl;

/// Full sizes are the (and Savina's) scaled to run in seconds; smoke sizes only
/// prove that every case still compiles, runs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    Full,
    Smoke,
}

impl Scale {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scale::Full => "full",
            Scale::Smoke => "smoke",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(Scale::Full),
            "smoke" => Some(Scale::Smoke),
            _ => None,
        }
    }
}

/// The kind of mailbox (or channel) a workload asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Bounded, with [`CAPACITY`] slots, where the library has bounded mailboxes.
    Bounded,
    Unbounded,
}

/// The capacity of every bounded mailbox and channel in the suite: Playhouse's default.
pub(crate) const CAPACITY: usize = playhouse::DEFAULT_MAILBOX_CAPACITY;

/// How many senders `counting-4-senders` uses.
pub(crate) const SENDERS: u64 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Workload {
    Counting,
    CountingUnbounded,
    CountingSenders,
    Ask,
    PingPong,
    ThreadRing,
    ForkJoinThroughput,
    ForkJoinCreate,
    Chameneos,
    Big,
    Tracing,
}

/// The size of one case: `size` messages (or actors, for creation) and `actors` actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) size: u64,
    pub(crate) actors: usize,
}

impl Params {
    /// Rounds the size down so that it splits evenly where the workload splits it.
    pub(crate) fn normalized(self, workload: Workload) -> Self {
        let parts = match workload {
            Workload::CountingSenders => SENDERS,
            Workload::ForkJoinThroughput | Workload::Big => self.actors as u64,
            _ => 1,
        };
        Params {
            size: (self.size / parts).max(1) * parts,
            actors: self.actors.max(1),
        }
    }
}

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Metric {
    pub(crate) name: &'static str,
    /// Unit shown in tables.
    pub(crate) unit: &'static str,
    pub(crate) higher_is_better: bool,
}

pub(crate) const MESSAGES_PER_SECOND: Metric = Metric {
    name: "msgs_per_s",
    unit: "msg/s",
    higher_is_better: true,
};
pub(crate) const ASKS_PER_SECOND: Metric = Metric {
    name: "asks_per_s",
    unit: "ask/s",
    higher_is_better: true,
};
pub(crate) const MEAN_LATENCY: Metric = Metric {
    name: "mean_latency_ns",
    unit: "ns/ask",
    higher_is_better: false,
};
pub(crate) const HOPS_PER_SECOND: Metric = Metric {
    name: "hops_per_s",
    unit: "hop/s",
    higher_is_better: true,
};
pub(crate) const MEETINGS_PER_SECOND: Metric = Metric {
    name: "meetings_per_s",
    unit: "meeting/s",
    higher_is_better: true,
};
pub(crate) const SPAWNS_PER_SECOND: Metric = Metric {
    name: "spawns_per_s",
    unit: "spawn/s",
    higher_is_better: true,
};
pub(crate) const STOPS_PER_SECOND: Metric = Metric {
    name: "stops_per_s",
    unit: "stop/s",
    higher_is_better: true,
};
pub(crate) const BYTES_PER_ACTOR: Metric = Metric {
    name: "bytes_per_actor",
    unit: "B/actor",
    higher_is_better: false,
};

/// What an implementation reports after a message workload: how long the timed part took,
/// how many messages its actors handled, and a workload-specific checksum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) elapsed: Duration,
    pub(crate) count: u64,
    pub(crate) checksum: u64,
}

/// What an implementation reports after `fork-join-create`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Created {
    /// From the first spawn until every actor has handled its one message.
    pub(crate) spawn: Duration,
    /// From the first stop request until every actor has ended.
    pub(crate) stop: Duration,
    /// Resident memory before the first spawn and while all actors are alive and idle.
    pub(crate) rss_before: u64,
    pub(crate) rss_alive: u64,
    /// How many actors handled their message, and how many were seen to end.
    pub(crate) started: u64,
    pub(crate) stopped: u64,
}

/// What a case measured: one value per metric.
pub(crate) type Measured = Vec<(Metric, f64)>;

impl Workload {
    pub(crate) const ALL: [Workload; 11] = [
        Workload::Counting,
        Workload::CountingUnbounded,
        Workload::CountingSenders,
        Workload::Ask,
        Workload::PingPong,
        Workload::ThreadRing,
        Workload::ForkJoinThroughput,
        Workload::ForkJoinCreate,
        Workload::Chameneos,
        Workload::Big,
        Workload::Tracing,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Counting => "counting",
            Workload::CountingUnbounded => "counting-unbounded",
            Workload::CountingSenders => "counting-4-senders",
            Workload::Ask => "ask",
            Workload::PingPong => "ping-pong",
            Workload::ThreadRing => "thread-ring",
            Workload::ForkJoinThroughput => "fork-join-throughput",
            Workload::ForkJoinCreate => "fork-join-create",
            Workload::Chameneos => "chameneos",
            Workload::Big => "big",
            Workload::Tracing => "tracing",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|workload| workload.name() == text)
    }

    /// One line on what the workload does, for `list` and the report.
    pub(crate) fn describe(self, params: Params) -> String {
        let Params { size, actors } = params;
        let size = crate::stats::count(size as f64);
        match self {
            Workload::Counting => format!(
                "one actor, one sender, {size} tells, then one ask for the count (bounded mailboxes of {CAPACITY})"
            ),
            Workload::CountingUnbounded => {
                "as counting, with unbounded mailboxes and channels".to_owned()
            }
            Workload::CountingSenders => format!(
                "one actor, {SENDERS} concurrent senders, {size} tells in all, then one ask"
            ),
            Workload::Ask => format!("{size} sequential asks (request and reply round trips)"),
            Workload::PingPong => format!("two actors bounce {size} messages"),
            Workload::ThreadRing => format!("{actors} actors in a ring pass a token {size} hops"),
            Workload::ForkJoinThroughput => format!(
                "one sender, {actors} actors, {} messages each, round robin",
                crate::stats::count((params.size / actors as u64) as f64)
            ),
            Workload::ForkJoinCreate => format!(
                "spawn {size} actors, one message each, stop them all; RSS per idle actor"
            ),
            Workload::Chameneos => {
                format!("{actors} chameneos meet {size} times at one mall actor")
            }
            Workload::Big => format!(
                "{actors} actors, {} pings each to random peers, each answered by a pong",
                crate::stats::count((params.size / actors as u64) as f64)
            ),
            Workload::Tracing => format!(
                "Playhouse counting ({size} tells) with no subscriber vs subscribers that ignore or record `trace`"
            ),
        }
    }

    /// The implementation every other one is compared with, pair by pair.
    pub(crate) fn baseline(self) -> Impl {
        match self {
            Workload::Tracing => Impl::Playhouse,
            _ => Impl::Raw,
        }
    }

    /// The implementations compared with the baseline, in table order.
    pub(crate) fn contenders(self) -> &'static [Impl] {
        match self {
            // Bounded mailboxes: ractor has only unbounded ones, and actix's `do_send`
            // ignores its mailbox capacity (its bounded `send` waits for the handler's reply).
            Workload::Counting => &[Impl::Playhouse, Impl::Kameo, Impl::Xtra],
            Workload::Tracing => &[Impl::PlayhouseInfo, Impl::PlayhouseTrace],
            _ => &[
                Impl::Playhouse,
                Impl::Actix,
                Impl::Ractor,
                Impl::Kameo,
                Impl::Xtra,
            ],
        }
    }

    /// The kind of mailbox the workload uses where a library offers a choice.
    pub(crate) fn kind(self) -> Kind {
        match self {
            Workload::CountingUnbounded => Kind::Unbounded,
            _ => Kind::Bounded,
        }
    }

    pub(crate) fn params(self, scale: Scale) -> Params {
        let (full, smoke) = match self {
            Workload::Counting | Workload::CountingUnbounded | Workload::Tracing => {
                ((1_000_000, 1), (10_000, 1))
            }
            Workload::CountingSenders => ((1_000_000, 1), (10_000, 1)),
            Workload::Ask => ((100_000, 1), (1_000, 1)),
            Workload::PingPong => ((1_000_000, 2), (10_000, 2)),
            Workload::ThreadRing => ((1_000_000, 1_000), (10_000, 100)),
            Workload::ForkJoinThroughput => ((6_400_000, 64), (8_000, 8)),
            Workload::ForkJoinCreate => ((100_000, 100_000), (1_000, 1_000)),
            // Savina: 100 chameneos, 200,000 meetings.
            Workload::Chameneos => ((200_000, 100), (1_000, 10)),
            // Savina: 120 actors, 20,000 pings each; scaled to 5,000 each.
            Workload::Big => ((600_000, 120), (1_200, 12)),
        };
        let (size, actors) = match scale {
            Scale::Full => full,
            Scale::Smoke => smoke,
        };
        Params { size, actors }
    }

    /// The metric the chart and the "ahead of every peer" target use.
    pub(crate) fn primary(self) -> Metric {
        match self {
            Workload::Ask => ASKS_PER_SECOND,
            Workload::ThreadRing => HOPS_PER_SECOND,
            Workload::ForkJoinCreate => SPAWNS_PER_SECOND,
            Workload::Chameneos => MEETINGS_PER_SECOND,
            _ => MESSAGES_PER_SECOND,
        }
    }

    /// Every metric a case of this workload reports, primary first.
    pub(crate) fn metrics(self) -> &'static [Metric] {
        match self {
            Workload::Ask => &[ASKS_PER_SECOND, MEAN_LATENCY],
            Workload::ThreadRing => &[HOPS_PER_SECOND],
            Workload::ForkJoinCreate => &[SPAWNS_PER_SECOND, STOPS_PER_SECOND, BYTES_PER_ACTOR],
            Workload::Chameneos => &[MEETINGS_PER_SECOND],
            _ => &[MESSAGES_PER_SECOND],
        }
    }

    /// Checks a message workload's report and turns it into metrics.
    pub(crate) fn check_run(self, params: Params, run: &Run) -> Result<Measured, String> {
        let (count, checksum) = self.expected(params);
        if run.count != count || run.checksum != checksum {
            return Err(format!(
                "{}: wrong result: count {} (expected {count}), checksum {} (expected {checksum})",
                self.name(),
                run.count,
                run.checksum
            ));
        }
        let seconds = run.elapsed.as_secs_f64().max(1e-9);
        let n = params.size as f64;
        Ok(match self {
            Workload::Ask => vec![
                (ASKS_PER_SECOND, n / seconds),
                (MEAN_LATENCY, seconds * 1e9 / n),
            ],
            // Each ping is answered by a pong: twice as many messages as pings.
            Workload::Big => vec![(MESSAGES_PER_SECOND, 2.0 * n / seconds)],
            workload => vec![(workload.primary(), n / seconds)],
        })
    }

    /// The (count, checksum) a correct run of a message workload reports.
    fn expected(self, params: Params) -> (u64, u64) {
        let Params { size: n, actors } = params;
        let actors = actors as u64;
        match self {
            // Every sender sends the values 1..=n/senders; the actor counts and sums them.
            Workload::Counting | Workload::CountingUnbounded | Workload::Tracing => {
                (n, triangle(n))
            }
            Workload::CountingSenders => {
                let each = n / SENDERS;
                (n, SENDERS * triangle(each))
            }
            // Request i (0-based) is answered with i + 1; the asker sums the replies.
            Workload::Ask => (n, triangle(n)),
            // Two players alternate, the first taking the first hit.
            Workload::PingPong => (n, n.div_ceil(2)),
            // The token starts at actor 0 and visits i, i+1, ...; checksum: sum of
            // (actor index × hops it handled), which pins down where every hop went.
            Workload::ThreadRing => {
                let checksum = (0..actors)
                    .map(|i| i * ring_share(n, actors, i))
                    .sum::<u64>();
                (n, checksum)
            }
            // Message k (0-based) carries k and goes to actor k mod actors.
            Workload::ForkJoinThroughput => (n, n * (n - 1) / 2),
            // Every meeting is counted by both chameneos; every chameneo reports once.
            Workload::Chameneos => (2 * n, actors),
            // Every actor sends its share of pings and hears as many pongs.
            Workload::Big => (n, n),
            Workload::ForkJoinCreate => (n, n),
        }
    }

    /// Checks `fork-join-create` and turns it into metrics.
    pub(crate) fn check_created(
        self,
        params: Params,
        created: &Created,
    ) -> Result<Measured, String> {
        let n = params.size;
        if created.started != n || created.stopped != n {
            return Err(format!(
                "fork-join-create: {} of {n} actors started, {} of {n} stopped",
                created.started, created.stopped
            ));
        }
        let grown = created.rss_alive.saturating_sub(created.rss_before);
        Ok(vec![
            (
                SPAWNS_PER_SECOND,
                n as f64 / created.spawn.as_secs_f64().max(1e-9),
            ),
            (
                STOPS_PER_SECOND,
                n as f64 / created.stop.as_secs_f64().max(1e-9),
            ),
            (BYTES_PER_ACTOR, grown as f64 / n as f64),
        ])
    }
}

/// 1 + 2 + ... + n.
fn triangle(n: u64) -> u64 {
    n * (n + 1) / 2
}

/// How many of `hops` hops, starting at actor 0, land on actor `i` of a ring of `actors`.
fn ring_share(hops: u64, actors: u64, i: u64) -> u64 {
    hops / actors + u64::from(i < hops % actors)
}

/// The values sender `sender` sends in a counting workload: 1..=each.
pub(crate) fn counting_values(params: Params, senders: u64) -> u64 {
    params.size / senders
}

/// How many pings each actor of `big` sends.
pub(crate) fn big_pings(params: Params) -> u64 {
    params.size / params.actors as u64
}

/// How many messages each actor of `fork-join-throughput` gets.
pub(crate) fn fork_join_share(params: Params) -> u64 {
    params.size / params.actors as u64
}
