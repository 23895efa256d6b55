//! Semantic checks. Every error spans the tokens the user wrote, and all of them are
//! collected into one [`Errors`] so that they are reported together.

use std::collections::HashSet;
use std::fmt::Display;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{FnArg, GenericParam, ItemFn, Pat, ReturnType, Type};

use crate::ast::{self, ImplBlock, Message, Method, Param};
use crate::attr::{self, Flavor, RuntimeMacro, RuntimeOptions};

/// Errors collected while checking one macro input.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// Records an error that spans `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records the error of a result, if any.
    pub(crate) fn check(&mut self, result: syn::Result<()>) {
        if let Err(error) = result {
            self.push(error);
        }
    }

    /// Adds one last error and returns them all.
    pub(crate) fn and(self, error: syn::Error) -> syn::Error {
        match self.0 {
            Some(mut errors) => {
                errors.combine(error);
                errors
            }
            None => error,
        }
    }

    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Checks an impl block under `#[messages]` and returns the messages of its valid methods.
pub(crate) fn messages(block: &ImplBlock, errors: &mut Errors) -> Vec<Message> {
    for attr in &block.misplaced {
        errors.spanned(attr, "#[message] goes on a method");
    }
    if let Some((_, path, for_token)) = &block.item.trait_ {
        let message = "#[messages] goes on an inherent impl block (`impl Counter { ... }`), not on a trait impl";
        errors.spanned(quote::quote!(#path #for_token), message);
        return Vec::new();
    }
    let generics = GenericNames::of(&block.item.generics);
    let mut names = HashSet::new();
    let mut messages = Vec::new();
    for method in &block.methods {
        let Some(message) = message(method, &block.item.self_ty, &generics, errors) else {
            continue;
        };
        if names.insert(message.name.to_string()) {
            messages.push(message);
        } else {
            let text = format!(
                "another #[message] method of this block already generates a message named `{}`; rename one with #[message(name = ...)]",
                message.name
            );
            errors.push(syn::Error::new(message.name.span(), text));
        }
    }
    messages
}

/// Checks one `#[message]` method; `None` if it has any error.
fn message(
    method: &Method,
    actor: &Type,
    generics: &GenericNames,
    errors: &mut Errors,
) -> Option<Message> {
    let mut own = Errors::default();
    for extra in method.markers.iter().skip(1) {
        own.spanned(extra, "duplicate #[message] attribute");
    }
    let options = attr::message(&method.markers[0], &mut own);
    let sig = &method.sig;
    if let Some(unsafety) = &sig.unsafety {
        own.spanned(unsafety, "a #[message] method can't be `unsafe`");
    }
    if !sig.generics.params.is_empty() {
        let params = &sig.generics.params;
        own.spanned(
            quote::quote!(#params),
            "a #[message] method can't be generic: its message must be one concrete type",
        );
    }
    receiver(sig, &mut own);

    let mut params = Vec::new();
    let mut context_seen = false;
    for input in &sig.inputs {
        let FnArg::Typed(input) = input else { continue };
        if ast::is_context(&input.ty) {
            if context_seen {
                own.spanned(&input.ty, "only one parameter can receive the Context");
            }
            context_seen = true;
            params.push(Param::Context);
            continue;
        }
        let name = match &*input.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                Some(pat.ident.clone())
            }
            pat => {
                own.spanned(pat, "a #[message] parameter becomes a message field and needs a plain name, such as `amount: u64`");
                None
            }
        };
        let ty = &*input.ty;
        if let Type::Reference(_) = ty {
            own.spanned(
                ty,
                "message fields must be owned: use an owned type such as String or Vec<T> instead of a reference",
            );
        } else {
            check_field_type(ty, "a message field", generics, &mut own);
        }
        if let Some(name) = name {
            params.push(Param::Field {
                name,
                ty: Box::new(parse_type(ast::replace_self(ty.to_token_stream(), actor))),
            });
        }
    }
    let reply = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => {
            check_field_type(ty, "the reply", generics, &mut own);
            Some(parse_type(ast::replace_self(ty.to_token_stream(), actor)))
        }
    };

    if let Err(error) = own.finish() {
        errors.push(error);
        return None;
    }
    Some(Message {
        name: options.name.unwrap_or_else(|| upper_camel_case(&sig.ident)),
        method: sig.ident.clone(),
        vis: method.vis.clone(),
        docs: method.docs.clone(),
        cfgs: method.cfgs.clone(),
        derives: options.derives,
        is_async: sig.asyncness.is_some(),
        params,
        reply,
        bounds: sig
            .generics
            .where_clause
            .iter()
            .flat_map(|clause| clause.predicates.iter().cloned())
            .collect(),
    })
}

/// Checks that a method takes `&self` or `&mut self`.
fn receiver(sig: &syn::Signature, errors: &mut Errors) {
    let Some(receiver) = sig.receiver() else {
        let message =
            "a #[message] method needs a `&self` or `&mut self` receiver: it runs on the actor";
        errors.push(syn::Error::new(sig.paren_token.span.join(), message));
        return;
    };
    let by_reference = matches!(&*receiver.ty, Type::Reference(reference)
        if matches!(&*reference.elem, Type::Path(path) if path.path.is_ident("Self")));
    if !by_reference {
        let message = "a #[message] method borrows the actor: take `&self` or `&mut self`, not `self` by value";
        errors.spanned(receiver, message);
    }
}

/// Checks a field or reply type: no `impl Trait`, no generic parameter of the impl.
fn check_field_type(ty: &Type, what: &str, generics: &GenericNames, errors: &mut Errors) {
    let tokens = ty.to_token_stream();
    if find_ident(&tokens, &mut |ident| ident == "impl").is_some() {
        errors.spanned(
            ty,
            format_args!("{what} needs a concrete type: `impl Trait` is not supported here"),
        );
    } else if let Some(span) = generics.find_in(&tokens) {
        let message = format!(
            "{what} can't use the impl block's generic parameters: the message struct is declared outside the impl block"
        );
        errors.push(syn::Error::new(span, message));
    }
}

/// The names of an impl block's generic parameters.
struct GenericNames {
    types: Vec<String>,
    lifetimes: Vec<String>,
}

impl GenericNames {
    fn of(generics: &syn::Generics) -> Self {
        let mut names = GenericNames {
            types: Vec::new(),
            lifetimes: Vec::new(),
        };
        for param in &generics.params {
            match param {
                GenericParam::Type(param) => names.types.push(param.ident.to_string()),
                GenericParam::Const(param) => names.types.push(param.ident.to_string()),
                GenericParam::Lifetime(param) => {
                    names.lifetimes.push(param.lifetime.ident.to_string())
                }
            }
        }
        if !generics.params.is_empty() {
            // `Self` names the actor type, with its generic parameters.
            names.types.push("Self".to_owned());
        }
        names
    }

    /// The span of the first mention of a generic parameter in some tokens.
    fn find_in(&self, tokens: &TokenStream) -> Option<Span> {
        find_token(tokens, &mut |tree, after_quote| {
            let TokenTree::Ident(ident) = tree else {
                return false;
            };
            let names = if after_quote {
                &self.lifetimes
            } else {
                &self.types
            };
            names.iter().any(|name| ident == name)
        })
    }
}

/// The span of the first identifier in some tokens (groups included) that matches.
fn find_ident(
    tokens: &TokenStream,
    matches: &mut dyn FnMut(&proc_macro2::Ident) -> bool,
) -> Option<Span> {
    find_token(
        tokens,
        &mut |tree, _| matches!(tree, TokenTree::Ident(ident) if matches(ident)),
    )
}

fn find_token(
    tokens: &TokenStream,
    matches: &mut dyn FnMut(&TokenTree, bool) -> bool,
) -> Option<Span> {
    let mut previous_is_quote = false;
    for tree in tokens.clone() {
        if let TokenTree::Group(group) = &tree {
            if let Some(span) = find_token(&group.stream(), matches) {
                return Some(span);
            }
        } else if matches(&tree, previous_is_quote) {
            return Some(tree.span());
        }
        previous_is_quote = matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == '\'');
    }
    None
}

fn parse_type(tokens: TokenStream) -> Type {
    // The tokens come from a type the compiler already parsed, with `Self` replaced by
    // another type, so they parse again.
    syn::parse2(tokens).expect("a type with `Self` replaced is still a type")
}

/// `get_count` -> `GetCount`.
fn upper_camel_case(method: &syn::Ident) -> syn::Ident {
    let name = method.to_string();
    let name = name.trim_start_matches("r#");
    let mut camel = String::with_capacity(name.len());
    for word in name.split('_').filter(|word| !word.is_empty()) {
        let mut chars = word.chars();
        camel.extend(chars.next().map(|first| first.to_ascii_uppercase()));
        camel.push_str(chars.as_str());
    }
    syn::Ident::new(&camel, method.span())
}

/// Checks the function under `#[main]` or `#[test]`; `false` if its signature can't be expanded.
pub(crate) fn runtime_fn(item: &ItemFn, which: RuntimeMacro, errors: &mut Errors) -> bool {
    let mut valid = true;
    let sig = &item.sig;
    let name = which.name();
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            format_args!("#[{name}] runs an `async fn`: add the `async` keyword"),
        );
        valid = false;
    }
    if !sig.inputs.is_empty() {
        let inputs = &sig.inputs;
        errors.spanned(
            inputs,
            format_args!("a #[{name}] function takes no parameters"),
        );
        valid = false;
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            format_args!("a #[{name}] function can't be generic"),
        );
        valid = false;
    }
    valid
}

/// Checks that the options of `#[test]` fit together and returns the flavor to build.
pub(crate) fn test_flavor(options: &RuntimeOptions, errors: &mut Errors) -> Flavor {
    let flavor = match (options.flavor, options.worker_threads) {
        (Some((Flavor::CurrentThread, _)), Some((_, span))) => {
            errors.push(syn::Error::new(
                span,
                "worker_threads needs flavor = \"multi_thread\"",
            ));
            Flavor::CurrentThread
        }
        (Some((flavor, _)), _) => flavor,
        (None, Some(_)) => Flavor::MultiThread,
        (None, None) => Flavor::CurrentThread,
    };
    if let (Some((true, span)), Flavor::MultiThread) = (options.start_paused, flavor) {
        let reason = match options.flavor {
            Some(_) => "not flavor = \"multi_thread\"",
            None => "but worker_threads asks for the multi_thread flavor",
        };
        errors.push(syn::Error::new(
            span,
            format!("start_paused needs the current_thread flavor, {reason}"),
        ));
    }
    flavor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camel(name: &str) -> String {
        upper_camel_case(&syn::Ident::new(name, Span::call_site())).to_string()
    }

    #[test]
    fn method_names_become_upper_camel_case() {
        assert_eq!(camel("inc"), "Inc");
        assert_eq!(camel("get_count"), "GetCount");
        assert_eq!(camel("_private__name_"), "PrivateName");
        assert_eq!(camel("set_2d"), "Set2d");
    }

    #[test]
    fn generic_parameters_are_found_in_types() {
        let generics: syn::Generics = syn::parse_quote!(<'a, T, const N: usize>);
        let names = GenericNames::of(&generics);
        let find = |ty: TokenStream| names.find_in(&ty).is_some();
        assert!(find(quote::quote!(Vec<T>)));
        assert!(find(quote::quote!([u8; N])));
        assert!(find(quote::quote!(&'a str)));
        assert!(find(quote::quote!(Option<Self>)));
        assert!(!find(quote::quote!(Vec<String>)));
        assert!(!find(quote::quote!(&'static a)));
    }
}
