//! Spans: one per actor, one per handled message, with the documented names and fields.

use std::sync::{Arc, Mutex};

use playhouse::prelude::*;
use tracing::span::{Attributes, Id};
use tracing::{Instrument, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A span as `name{field=value,...}`, with its parent's name.
type SpanRecord = (String, Option<String>);

/// Records every new span, and every follows-from link as `(span name, followed span name)`.
#[derive(Clone, Default)]
struct SpanLog {
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    links: Arc<Mutex<Vec<(String, String)>>>,
}

struct FieldText(String);
impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?},", field.name(), value));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!("{}={},", field.name(), value));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanLog {
    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: LayerContext<'_, S>) {
        let name = |id: &Id| {
            ctx.span(id)
                .map(|span| span.name().to_owned())
                .unwrap_or_default()
        };
        self.links.lock().unwrap().push((name(span), name(follows)));
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut fields = FieldText(String::new());
        attrs.record(&mut fields);
        let span = ctx.span(id).unwrap();
        let parent = span.parent().map(|parent| parent.name().to_owned());
        self.spans.lock().unwrap().push((
            format!("{}{{{}}}", attrs.metadata().name(), fields.0),
            parent,
        ));
    }
}

#[derive(Actor)]
struct Traced;

struct Hello;
impl Message for Hello {
    type Reply = ();
}
impl Handler<Hello> for Traced {
    async fn handle(&mut self, _: Hello, _ctx: &mut Context<Self>) {}
}

#[test]
fn actors_and_messages_get_their_spans() {
    let log = SpanLog::default();
    let subscriber = tracing_subscriber::registry().with(log.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = playhouse::Builder::new_current_thread().build().unwrap();
    let id = runtime.block_on(async {
        let actor = Traced::spawn(Traced);
        actor
            .ask(Hello)
            .instrument(tracing::info_span!("test.sender"))
            .await
            .unwrap();
        actor.id().as_u64()
    });
    runtime.shutdown();
    let spans = log.spans.lock().unwrap().clone();
    let actor_span = format!("actor.run{{actor.id={id},actor.type=Traced,}}");
    assert!(
        spans.iter().any(|(span, _)| *span == actor_span),
        "{spans:#?}"
    );
    let message_span = format!(
        "actor.handle_message{{actor.id={id},actor.type=Traced,message.type=tracing::Hello,}}"
    );
    let (_, parent) = spans
        .iter()
        .find(|(span, _)| *span == message_span)
        .unwrap_or_else(|| panic!("no {message_span} in {spans:#?}"));
    assert_eq!(*parent, None, "a message span starts a trace of its own");
    let links = log.links.lock().unwrap().clone();
    assert!(
        links.contains(&("actor.handle_message".to_owned(), "test.sender".to_owned())),
        "the message span follows from the sender's span: {links:?}"
    );
}
