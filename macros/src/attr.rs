//! Options written in the macros' attributes.
//!
//! Each parser records its errors and still returns options, with defaults where an option
//! was wrong, so that the rest of the input is checked and expanded too.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitBool, LitInt, LitStr, Path};

use crate::validate::Errors;

/// Options of `#[messages(...)]`.
pub(crate) struct MessagesOptions {
    pub(crate) krate: Path,
}

/// Options of `#[message(...)]`.
#[derive(Default)]
pub(crate) struct MessageOptions {
    pub(crate) name: Option<Ident>,
    pub(crate) derives: Vec<Path>,
}

/// Options of `#[actor(...)]` on a `#[derive(Actor)]` type.
pub(crate) struct ActorOptions {
    pub(crate) krate: Path,
}

/// Which scheduler `#[main]` or `#[test]` starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    MultiThread,
    CurrentThread,
}

/// Options of `#[main(...)]` and `#[test(...)]`, each with the span of its key.
pub(crate) struct RuntimeOptions {
    pub(crate) krate: Path,
    pub(crate) flavor: Option<(Flavor, Span)>,
    pub(crate) worker_threads: Option<(usize, Span)>,
    pub(crate) start_paused: Option<(bool, Span)>,
}

/// Which attribute a [`RuntimeOptions`] comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuntimeMacro {
    Main,
    Test,
}

impl RuntimeMacro {
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuntimeMacro::Main => "main",
            RuntimeMacro::Test => "test",
        }
    }
}

fn default_crate() -> Path {
    syn::parse_quote!(::playhouse)
}

/// Parses `#[messages(crate = "path")]`.
pub(crate) fn messages(args: TokenStream, errors: &mut Errors) -> MessagesOptions {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            set_once(&mut krate, crate_path(&meta)?, &meta)
        } else {
            Err(unknown(&meta, "#[messages]", "`crate = \"path\"`"))
        }
    });
    errors.check(parser.parse2(args));
    MessagesOptions {
        krate: krate.unwrap_or_else(default_crate),
    }
}

/// Parses a method's `#[message]` or `#[message(name = Name, derive(Trait, ...))]`.
pub(crate) fn message(attr: &Attribute, errors: &mut Errors) -> MessageOptions {
    let mut options = MessageOptions::default();
    if let syn::Meta::Path(_) = attr.meta {
        return options;
    }
    let mut name = None;
    errors.check(attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("name") {
            let value = meta.value()?;
            let expected = |error: syn::Error| {
                syn::Error::new(
                    error.span(),
                    "expected the name of the message struct, such as `name = Increment`",
                )
            };
            set_once(&mut name, value.parse::<Ident>().map_err(expected)?, &meta)
        } else if meta.path.is_ident("derive") {
            if !meta.input.peek(syn::token::Paren) {
                return Err(meta.error("expected a list of traits, such as `derive(Debug, Clone)`"));
            }
            meta.parse_nested_meta(|derive| {
                options.derives.push(derive.path);
                Ok(())
            })
        } else {
            Err(unknown(
                &meta,
                "#[message]",
                "`name = Name` or `derive(Trait, ...)`",
            ))
        }
    }));
    options.name = name;
    options
}

/// Parses the `#[actor(crate = "path")]` attributes of a `#[derive(Actor)]` type.
pub(crate) fn actor(attrs: &[Attribute], errors: &mut Errors) -> ActorOptions {
    let mut krate = None;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("actor")) {
        errors.check(attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                set_once(&mut krate, crate_path(&meta)?, &meta)
            } else {
                Err(unknown(&meta, "#[actor]", "`crate = \"path\"`"))
            }
        }));
    }
    ActorOptions {
        krate: krate.unwrap_or_else(default_crate),
    }
}

/// Parses the options of `#[main(...)]` or `#[test(...)]`.
pub(crate) fn runtime(
    args: TokenStream,
    which: RuntimeMacro,
    errors: &mut Errors,
) -> RuntimeOptions {
    let mut krate = None;
    let mut flavor = None;
    let mut worker_threads = None;
    let mut start_paused = None;
    let parser = syn::meta::parser(|meta| {
        let span = meta.path.span();
        if meta.path.is_ident("crate") {
            set_once(&mut krate, crate_path(&meta)?, &meta)
        } else if meta.path.is_ident("worker_threads") {
            let count = meta.value()?.parse::<LitInt>()?;
            let value = count.base10_parse::<usize>()?;
            if value == 0 {
                return Err(syn::Error::new(
                    count.span(),
                    "worker_threads must be at least 1",
                ));
            }
            set_once(&mut worker_threads, (value, span), &meta)
        } else if which == RuntimeMacro::Test && meta.path.is_ident("flavor") {
            let name = meta.value()?.parse::<LitStr>()?;
            let value = match name.value().as_str() {
                "multi_thread" => Flavor::MultiThread,
                "current_thread" => Flavor::CurrentThread,
                _ => {
                    let message = "unknown flavor; expected \"multi_thread\" or \"current_thread\"";
                    return Err(syn::Error::new(name.span(), message));
                }
            };
            set_once(&mut flavor, (value, span), &meta)
        } else if which == RuntimeMacro::Test && meta.path.is_ident("start_paused") {
            let value = meta.value()?.parse::<LitBool>()?.value;
            set_once(&mut start_paused, (value, span), &meta)
        } else if which == RuntimeMacro::Main {
            Err(unknown(
                &meta,
                "#[main]",
                "`worker_threads = N` or `crate = \"path\"`",
            ))
        } else {
            let expected = "`flavor = \"...\"`, `worker_threads = N`, `start_paused = true` or `crate = \"path\"`";
            Err(unknown(&meta, "#[test]", expected))
        }
    });
    errors.check(parser.parse2(args));
    RuntimeOptions {
        krate: krate.unwrap_or_else(default_crate),
        flavor,
        worker_threads,
        start_paused,
    }
}

/// Parses `crate = "some::path"`.
fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let path = meta.value()?.parse::<LitStr>()?;
    path.parse().map_err(|_| {
        syn::Error::new(
            path.span(),
            "expected a path to the playhouse crate, such as \"::playhouse\"",
        )
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if slot.is_some() {
        let name = quote::ToTokens::to_token_stream(&meta.path);
        return Err(meta.error(format_args!("duplicate option `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

fn unknown(meta: &ParseNestedMeta<'_>, attribute: &str, expected: &str) -> syn::Error {
    let name = quote::ToTokens::to_token_stream(&meta.path);
    meta.error(format_args!(
        "unknown {attribute} option `{name}`; expected {expected}"
    ))
}
