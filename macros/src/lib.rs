//! Procedural macros of [Playhouse](https://docs.rs/playhouse).
//!
//! Use them through the `playhouse` crate, which re-exports them as `playhouse::messages`,
//! `playhouse::message`, `playhouse::Actor` (the derive), `playhouse::main` and
//! `playhouse::test`, with runnable examples. Generated code names the `playhouse` crate as
//! `::playhouse`; each macro takes a `crate = "path"` option for when it lives elsewhere.

mod ast;
mod attr;
mod expand;
mod fallback;
mod validate;

use proc_macro::TokenStream;
use syn::parse_macro_input;

use crate::attr::RuntimeMacro;
use crate::fallback::Failed;

/// Turns the methods of an impl block into messages that the actor handles.
///
/// Each method marked `#[message]` becomes a message struct named after the method in
/// `UpperCamelCase` (`get_count` gives `GetCount`), with one field per parameter, a
/// `Message` impl whose `Reply` is the method's return type, and a `Handler` impl that calls
/// the method. Methods without `#[message]` are left alone, and the `#[message]` attributes
/// are removed.
///
/// A message method:
///
/// - takes `&self` or `&mut self`;
/// - may be `async` or not;
/// - takes any number of owned parameters with plain names, which become the message's
///   fields (references are rejected: messages cross threads, so they own their data);
/// - may take one parameter of type `&mut Context<Self>` (or `&Context<Self>`, or any path
///   ending in `Context`): it receives the handler's context and is not a message field;
/// - returns anything: that is the reply (`()` when there is no return type; a `Result` is
///   just a reply like any other);
/// - can't be generic. The impl block can be: its generic parameters and where clause go on
///   the `Handler` impls, but the message's fields and reply can't use them.
///
/// The struct and its fields get the method's visibility; the struct also gets the method's
/// doc comment (or a generated one) and its `#[cfg]` attributes. `Self` in a field or reply
/// type means the actor type.
///
/// # Options
///
/// - `#[messages(crate = "path")]`: the path of the `playhouse` crate, `::playhouse` by default.
/// - `#[message(name = Name)]`: names the message struct.
/// - `#[message(derive(Trait, ...))]`: derives traits on the message struct, such as
///   `Debug` or `Clone`.
///
/// # Examples
///
/// ```text
/// #[playhouse::messages]
/// impl Counter {
///     /// Adds to the count and replies with the new total.
///     #[message(derive(Debug))]
///     pub fn inc(&mut self, by: u64) -> u64 {
///         self.count += by;
///         self.count
///     }
///
///     #[message]
///     pub async fn stop_now(&self, ctx: &mut Context<Self>) {
///         ctx.stop();
///     }
/// }
/// ```
///
/// expands to the impl block without the `#[message]` attributes, and:
///
/// ```text
/// /// Adds to the count and replies with the new total.
/// #[derive(Debug)]
/// pub struct Inc {
///     /// Argument `by` of `Counter::inc`.
///     pub by: u64,
/// }
///
/// #[automatically_derived]
/// impl ::playhouse::Message for Inc {
///     type Reply = u64;
/// }
///
/// #[automatically_derived]
/// impl ::playhouse::Handler<Inc> for Counter {
///     async fn handle(&mut self, message: Inc, _ctx: &mut ::playhouse::Context<Self>) -> u64 {
///         let Inc { by } = message;
///         self.inc(by)
///     }
/// }
///
/// /// Message generated from `Counter::stop_now`; its reply is the method's return value.
/// pub struct StopNow;
///
/// #[automatically_derived]
/// impl ::playhouse::Message for StopNow {
///     type Reply = ();
/// }
///
/// #[automatically_derived]
/// impl ::playhouse::Handler<StopNow> for Counter {
///     async fn handle(&mut self, message: StopNow, ctx: &mut ::playhouse::Context<Self>) {
///         let StopNow {} = message;
///         self.stop_now(ctx).await
///     }
/// }
/// ```
///
/// Send them with `counter.ask(Inc { by: 2 }).await` or `counter.tell(StopNow).await`.
#[proc_macro_attribute]
pub fn messages(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = parse_macro_input!(input as syn::Item);
    emit(expand::messages(args.into(), &item))
}

/// Marks a method of a `#[messages]` impl block as a message handler.
///
/// It has no effect of its own: `#[messages]` reads and removes it. See `#[messages]` for
/// its options (`name = Name`, `derive(Trait, ...)`). Used anywhere else, it is an error.
///
/// # Examples
///
/// ```text
/// #[playhouse::messages]
/// impl Counter {
///     #[message(name = Increment, derive(Debug, Clone))]
///     fn inc(&mut self, by: u64) -> u64 {
///         self.count += by;
///         self.count
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn message(_args: TokenStream, input: TokenStream) -> TokenStream {
    emit(expand::message(input.into()))
}

/// Derives `Actor` for an actor that starts from the value it is spawned with.
///
/// The actor's `Args` is the type itself and starting can't fail. Implement `Actor` by hand
/// to build the actor from other arguments, to refuse to start, or to act when it stops.
/// Works on structs and enums, generic or not; `#[actor(crate = "path")]` sets the path of
/// the `playhouse` crate.
///
/// # Examples
///
/// ```text
/// #[derive(playhouse::Actor)]
/// struct Counter {
///     count: u64,
/// }
/// ```
///
/// expands to:
///
/// ```text
/// #[automatically_derived]
/// impl ::playhouse::Actor for Counter {
///     type Args = Self;
///     type Error = ::core::convert::Infallible;
///
///     async fn on_start(
///         args: Self,
///         _: &mut ::playhouse::Context<Self>,
///     ) -> ::core::result::Result<Self, ::core::convert::Infallible> {
///         ::core::result::Result::Ok(args)
///     }
/// }
/// ```
#[proc_macro_derive(Actor, attributes(actor))]
pub fn derive_actor(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    emit(expand::actor(&input))
}

/// Runs an `async fn main` on a new Playhouse runtime.
///
/// The function is turned into a plain one that builds a multi-thread runtime with
/// `playhouse::Builder`, runs the body to completion with `block_on`, then shuts the system
/// down and returns the body's output. If the shutdown is not clean (some actors did not stop
/// in time), it prints the shutdown report to stderr.
///
/// The function must be `async` and take no parameters; it may return a value, such as a
/// `Result`.
///
/// # Ctrl-C
///
/// On Ctrl-C (SIGINT) the body is dropped, the system shuts down gracefully (actors stop
/// newest first, children before their parents), the report is printed to stderr, and
/// the process exits with status 130.
///
/// # Options
///
/// - `worker_threads = N`: the number of worker threads (one per core by default).
/// - `crate = "path"`: the path of the `playhouse` crate, `::playhouse` by default.
///
/// # Panics
///
/// The generated function panics if the runtime can't start.
///
/// # Examples
///
/// ```text
/// #[playhouse::main(worker_threads = 2)]
/// async fn main() {
///     println!("hello from an actor system");
/// }
/// ```
///
/// expands to:
///
/// ```text
/// fn main() {
///     let runtime = match ::playhouse::Builder::new().worker_threads(2).build() {
///         ::core::result::Result::Ok(runtime) => runtime,
///         ::core::result::Result::Err(error) => {
///             ::core::panic!("failed to start the Playhouse runtime: {}", error)
///         }
///     };
///     let output: ::core::option::Option<()> = runtime.block_on_or_ctrl_c(async move {
///         println!("hello from an actor system");
///     });
///     let report = runtime.shutdown();
///     let output = match output {
///         ::core::option::Option::Some(output) => output,
///         ::core::option::Option::None => {
///             ::std::eprintln!("playhouse: interrupted; {}", report);
///             ::std::process::exit(130)
///         }
///     };
///     if !report.is_clean() {
///         ::std::eprintln!("playhouse: {}", report);
///     }
///     output
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = parse_macro_input!(input as syn::ItemFn);
    emit(expand::runtime_fn(args.into(), &item, RuntimeMacro::Main))
}

/// Runs an `async fn` test on a new Playhouse runtime.
///
/// Like `#[main]`, but the function becomes a `#[test]`, and the runtime runs on the test's
/// own thread by default (the current-thread flavor), which keeps tests deterministic. Other
/// attributes, such as `#[should_panic]`, stay on the test. The function must be `async`
/// and take no parameters; it may return a `Result`.
///
/// # Options
///
/// - `flavor = "current_thread"` (the default) or `flavor = "multi_thread"`.
/// - `worker_threads = N`: the number of worker threads; implies `"multi_thread"`.
/// - `start_paused = true`: starts with time paused, so that timers fire as soon as every
///   task waits. Needs the `test-util` feature of `playhouse` and the current-thread flavor.
/// - `crate = "path"`: the path of the `playhouse` crate, `::playhouse` by default.
///
/// # Examples
///
/// ```text
/// #[playhouse::test(start_paused = true)]
/// async fn counts() {
///     assert_eq!(1 + 1, 2);
/// }
/// ```
///
/// expands to:
///
/// ```text
/// #[::core::prelude::v1::test]
/// fn counts() {
///     let runtime = match ::playhouse::Builder::new_current_thread().start_paused(true).build() {
///         ::core::result::Result::Ok(runtime) => runtime,
///         ::core::result::Result::Err(error) => {
///             ::core::panic!("failed to start the Playhouse runtime: {}", error)
///         }
///     };
///     let output: () = runtime.block_on(async move {
///         assert_eq!(1 + 1, 2);
///     });
///     let report = runtime.shutdown();
///     if !report.is_clean() {
///         ::std::eprintln!("playhouse: {}", report);
///     }
///     output
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = parse_macro_input!(input as syn::ItemFn);
    emit(expand::runtime_fn(args.into(), &item, RuntimeMacro::Test))
}

/// Turns a macro's result into tokens, with a `compile_error!` per error.
fn emit(result: Result<proc_macro2::TokenStream, Failed>) -> TokenStream {
    result.unwrap_or_else(Failed::into_tokens).into()
}
