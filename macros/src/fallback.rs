//! What to emit when the input is invalid.
//!
//! Emitting nothing would make every use of the user's code fail too, burying the real error
//! under a cascade. So the macros still emit the user's code and whatever they could
//! generate: `#[messages]` emits the impl block and the messages of its valid methods,
//! `#[derive(Actor)]` its impl with default options, `#[main]` and `#[test]` the function
//! itself, out of the way. The errors come along as `compile_error!`s.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ItemFn;

use crate::validate::Errors;

/// Code to emit together with errors.
pub(crate) struct Failed {
    tokens: TokenStream,
    error: syn::Error,
}

impl Failed {
    pub(crate) fn new(tokens: TokenStream, error: syn::Error) -> Self {
        Failed { tokens, error }
    }

    /// The code followed by a `compile_error!` per error.
    pub(crate) fn into_tokens(self) -> TokenStream {
        let mut tokens = self.tokens;
        tokens.extend(self.error.to_compile_error());
        tokens
    }
}

/// Emits `tokens`, with the errors if there are any.
pub(crate) fn finish(tokens: TokenStream, errors: Errors) -> Result<TokenStream, Failed> {
    match errors.finish() {
        Ok(()) => Ok(tokens),
        Err(error) => Err(Failed::new(tokens, error)),
    }
}

/// Keeps a `#[main]` or `#[test]` function whose signature can't be expanded.
///
/// Its body is still type-checked, which finds the user's other mistakes, but it is no longer
/// an `async fn main` or a test. An empty `main` stands in so that the crate still has one.
pub(crate) fn runtime_fn(item: &ItemFn) -> TokenStream {
    let mut item = item.clone();
    item.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    if item.sig.ident != "main" {
        return quote!(#item);
    }
    item.sig.ident = format_ident!("__playhouse_invalid_main", span = item.sig.ident.span());
    quote! {
        #item
        fn main() {}
    }
}
