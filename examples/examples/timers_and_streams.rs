//! Timers and an attached stream: a monitor that keeps time and reads a feed.
//!
//! In `on_start`, the `Monitor` sets
//!
//! - a heartbeat every 300 ms (`Context::send_interval`),
//! - a reminder for 700 ms later (`Context::send_after`),
//! - a timer it cancels at once (`TimerHandle::cancel`): nothing ever comes of it,
//!
//! and attaches a stream of log lines (`Context::attach_stream_with_end`), which a producer
//! task feeds through a channel, a line every 200 ms. Each line arrives as a message; when
//! the producer is done and the stream ends, the end message arrives after the last line,
//! and the monitor stops. Its heartbeat ends with it: timers and streams belong to the
//! actor's incarnation.
//!
//! Finishes in about 1.3 s. Run it with `cargo run --example timers_and_streams`.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use playhouse::prelude::*;
use playhouse::TimerHandle;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

/// Keeps a heartbeat and reads a feed of log lines until it ends.
struct Monitor {
    started: Instant,
    beats: u32,
    lines: u32,
    heartbeat: TimerHandle,
}

impl Monitor {
    /// Prints what happened, with the time since the monitor started.
    fn say(&self, what: impl std::fmt::Display) {
        println!("[{:>5} ms] {what}", self.started.elapsed().as_millis());
    }
}

impl Actor for Monitor {
    /// The feed of log lines.
    type Args = mpsc::Receiver<String>;
    type Error = Infallible;

    async fn on_start(
        feed: mpsc::Receiver<String>,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        let started = Instant::now();
        let heartbeat = ctx.send_interval(Duration::from_millis(300), || Heartbeat);
        // No need to keep the handle of a timer you will not cancel.
        ctx.send_after(Duration::from_millis(700), Reminder("stretch your legs"));
        let never = ctx.send_after(Duration::from_millis(500), Reminder("(never sent)"));
        never.cancel();
        println!(
            "[    0 ms] set a heartbeat and a reminder; cancelled a timer (finished: {})",
            never.is_finished()
        );
        let lines = ReceiverStream::new(feed).map(Line);
        ctx.attach_stream_with_end(lines, FeedEnded);
        Ok(Monitor {
            started,
            beats: 0,
            lines: 0,
            heartbeat,
        })
    }

    async fn on_stop(&mut self, _ctx: &mut Context<Self>, reason: &ExitReason) {
        self.say(format_args!(
            "{reason} after {} heartbeats and {} lines",
            self.beats, self.lines
        ));
    }
}

/// An interval's tick.
struct Heartbeat;
impl Message for Heartbeat {
    type Reply = ();
}
impl Handler<Heartbeat> for Monitor {
    async fn handle(&mut self, _: Heartbeat, _ctx: &mut Context<Self>) {
        self.beats += 1;
        self.say(format_args!("heartbeat {}", self.beats));
    }
}

/// A one-shot timer's message.
struct Reminder(&'static str);
impl Message for Reminder {
    type Reply = ();
}
impl Handler<Reminder> for Monitor {
    async fn handle(&mut self, Reminder(text): Reminder, _ctx: &mut Context<Self>) {
        self.say(format_args!("reminder: {text}"));
    }
}

/// One item of the attached stream.
struct Line(String);
impl Message for Line {
    type Reply = ();
}
impl Handler<Line> for Monitor {
    async fn handle(&mut self, Line(line): Line, _ctx: &mut Context<Self>) {
        self.lines += 1;
        self.say(format_args!("line {}: {line}", self.lines));
    }
}

/// The attached stream's end notice, sent after its last item.
struct FeedEnded;
impl Message for FeedEnded {
    type Reply = ();
}
impl Handler<FeedEnded> for Monitor {
    async fn handle(&mut self, _: FeedEnded, ctx: &mut Context<Self>) {
        self.say("the feed ended; stopping");
        ctx.stop();
    }
}

/// Hands out the heartbeat's handle, to check on it from outside.
struct HeartbeatTimer;
impl Message for HeartbeatTimer {
    type Reply = TimerHandle;
}
impl Handler<HeartbeatTimer> for Monitor {
    async fn handle(&mut self, _: HeartbeatTimer, _ctx: &mut Context<Self>) -> TimerHandle {
        self.heartbeat.clone()
    }
}

#[playhouse::main]
async fn main() {
    let (feed, lines) = mpsc::channel(4);
    let monitor = Monitor::spawn(lines);
    let heartbeat = monitor.ask(HeartbeatTimer).await.unwrap();

    let producer = tokio::spawn(async move {
        for line in [
            "GET /index.html 200",
            "GET /style.css 200",
            "POST /login 302",
            "GET /missing 404",
            "GET /dashboard 200",
            "POST /logout 302",
        ] {
            tokio::time::sleep(Duration::from_millis(200)).await;
            feed.send(line.to_string()).await.unwrap();
        }
        // Dropping the sender ends the stream.
    });

    let reason = monitor.wait().await;
    producer.await.unwrap();
    println!(
        "monitor ended ({reason}); heartbeat finished: {}",
        heartbeat.is_finished()
    );
    assert!(heartbeat.is_finished());
}
