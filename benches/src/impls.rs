//! The implementations, one module each, every one written the way that library's own
//! documentation writes actors.
//!
//! Each module offers the same functions, one per workload (`counting`, `ask`,
//! `ping_pong`, `thread_ring`, `fork_join_throughput`, `fork_join_create`, `chameneos`,
//! `big`), plus `block_on`, which builds the runtime that library runs on and drives a
//! workload to its end. Each function sets its actors up, times only the part the
//! workload measures, and reports what the actors saw; `workloads` checks it.

pub(crate) mod actix;
pub(crate) mod kameo;
pub(crate) mod playhouse;
pub(crate) mod ractor;
pub(crate) mod raw;
pub(crate) mod xtra;

/// The worker threads of every multi-thread runtime in the suite.
pub(crate) const WORKER_THREADS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Impl {
    /// A tokio task looping on `recv`, a oneshot for replies: the floor for a tokio design.
    Raw,
    Playhouse,
    Actix,
    Ractor,
    Kameo,
    Xtra,
    /// Playhouse with a `tracing` subscriber that listens at INFO (so `trace` is off).
    PlayhouseInfo,
    /// Playhouse with a `tracing` subscriber that records every span, `trace` included.
    PlayhouseTrace,
}

impl Impl {
    pub(crate) const ALL: [Impl; 8] = [
        Impl::Raw,
        Impl::Playhouse,
        Impl::Actix,
        Impl::Ractor,
        Impl::Kameo,
        Impl::Xtra,
        Impl::PlayhouseInfo,
        Impl::PlayhouseTrace,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Raw => "raw",
            Impl::Playhouse => "playhouse",
            Impl::Actix => "actix",
            Impl::Ractor => "ractor",
            Impl::Kameo => "kameo",
            Impl::Xtra => "xtra",
            Impl::PlayhouseInfo => "playhouse-info",
            Impl::PlayhouseTrace => "playhouse-trace",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|implementation| implementation.name() == text)
    }

    /// A longer name for tables.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Impl::Raw => "raw tokio",
            Impl::Playhouse => "Playhouse",
            Impl::Actix => "actix",
            Impl::Ractor => "ractor",
            Impl::Kameo => "kameo",
            Impl::Xtra => "xtra",
            Impl::PlayhouseInfo => "INFO subscriber",
            Impl::PlayhouseTrace => "TRACE subscriber",
        }
    }
}

/// Runs `$body` with `$module` naming the implementation's module, on that
/// implementation's runtime: `on_impl!(implementation, |m| m::ask(params))`.
macro_rules! on_impl {
    ($implementation:expr, |$module:ident| $body:expr) => {
        match $implementation {
            $crate::impls::Impl::Raw => {
                use $crate::impls::raw as $module;
                $module::block_on($body)
            }
            $crate::impls::Impl::Playhouse
            | $crate::impls::Impl::PlayhouseInfo
            | $crate::impls::Impl::PlayhouseTrace => {
                use $crate::impls::playhouse as $module;
                $module::block_on($body)
            }
            $crate::impls::Impl::Actix => {
                use $crate::impls::actix as $module;
                $module::block_on($body)
            }
            $crate::impls::Impl::Ractor => {
                use $crate::impls::ractor as $module;
                $module::block_on($body)
            }
            $crate::impls::Impl::Kameo => {
                use $crate::impls::kameo as $module;
                $module::block_on($body)
            }
            $crate::impls::Impl::Xtra => {
                use $crate::impls::xtra as $module;
                $module::block_on($body)
            }
        }
    };
}

pub(crate) use on_impl;

/// Builds the multi-thread tokio runtime the tokio-based peers run on.
pub(crate) fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// Runs `future` as a task on `runtime`'s workers (not on the calling thread, which only
/// waits), so that every tokio-based implementation uses exactly its two workers.
pub(crate) fn block_on_tokio<F>(runtime: tokio::runtime::Runtime, future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let output = runtime
        .block_on(runtime.spawn(future))
        .expect("the workload does not panic");
    // Whatever the workload left behind (idle actors) is not part of the measurement.
    runtime.shutdown_background();
    output
}
