//! The macros' input as small structs that keep the user's spans.
//!
//! Parsing here only sorts the input into pieces; [`validate`](crate::validate) decides what
//! is allowed and builds a [`Message`] for each valid method.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};
use syn::{
    Attribute, Ident, ImplItem, Item, ItemImpl, Path, Signature, Type, Visibility, WherePredicate,
};

/// An impl block under `#[messages]`.
pub(crate) struct ImplBlock {
    /// The user's impl block with every `#[message]` attribute removed.
    pub(crate) item: ItemImpl,
    /// The methods that were marked `#[message]`, in order.
    pub(crate) methods: Vec<Method>,
    /// `#[message]` attributes found on items that are not methods.
    pub(crate) misplaced: Vec<Attribute>,
}

/// A method marked `#[message]`.
pub(crate) struct Method {
    /// Every `#[message]` attribute on the method (one is expected).
    pub(crate) markers: Vec<Attribute>,
    /// The method's `#[doc]` attributes.
    pub(crate) docs: Vec<Attribute>,
    /// The method's `#[cfg]` attributes, repeated on everything generated from it.
    pub(crate) cfgs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
}

/// What `#[messages]` generates for one method, once validated.
pub(crate) struct Message {
    /// The name of the message struct.
    pub(crate) name: Ident,
    pub(crate) method: Ident,
    pub(crate) vis: Visibility,
    pub(crate) docs: Vec<Attribute>,
    pub(crate) cfgs: Vec<Attribute>,
    pub(crate) derives: Vec<Path>,
    pub(crate) is_async: bool,
    /// The method's parameters after the receiver, in order.
    pub(crate) params: Vec<Param>,
    /// The return type, with `Self` replaced by the actor type; `None` means `()`.
    pub(crate) reply: Option<Type>,
    /// The method's own where clause, added to the handler's.
    pub(crate) bounds: Vec<WherePredicate>,
}

/// A parameter of a message method.
pub(crate) enum Param {
    /// A field of the message struct, with `Self` in its type replaced by the actor type.
    Field { name: Ident, ty: Box<Type> },
    /// The parameter that receives the handler's context.
    Context,
}

impl Message {
    /// The fields of the message struct.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&Ident, &Type)> {
        self.params.iter().filter_map(|param| match param {
            Param::Field { name, ty } => Some((name, &**ty)),
            Param::Context => None,
        })
    }

    /// Whether the method asks for the handler's context.
    pub(crate) fn takes_context(&self) -> bool {
        self.params
            .iter()
            .any(|param| matches!(param, Param::Context))
    }
}

impl ImplBlock {
    /// Sorts an impl block's items, taking the `#[message]` markers off them.
    pub(crate) fn from_item(item: &Item) -> syn::Result<Self> {
        let Item::Impl(item) = item else {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[messages] goes on an impl block, such as `impl Counter { ... }`",
            ));
        };
        let mut item = item.clone();
        let mut methods = Vec::new();
        let mut misplaced = Vec::new();
        for impl_item in &mut item.items {
            match impl_item {
                ImplItem::Fn(method) => {
                    let markers = take_markers(&mut method.attrs);
                    if !markers.is_empty() {
                        methods.push(Method {
                            markers,
                            docs: attrs_named(&method.attrs, "doc"),
                            cfgs: attrs_named(&method.attrs, "cfg"),
                            vis: method.vis.clone(),
                            sig: method.sig.clone(),
                        });
                    }
                }
                ImplItem::Const(item) => misplaced.extend(take_markers(&mut item.attrs)),
                ImplItem::Type(item) => misplaced.extend(take_markers(&mut item.attrs)),
                ImplItem::Macro(item) => misplaced.extend(take_markers(&mut item.attrs)),
                _ => {}
            }
        }
        Ok(ImplBlock {
            item,
            methods,
            misplaced,
        })
    }
}

/// Whether an attribute is `#[message]`, however its path is written.
fn is_marker(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "message")
}

fn take_markers(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (markers, rest) = attrs.drain(..).partition(is_marker);
    *attrs = rest;
    markers
}

fn attrs_named(attrs: &[Attribute], name: &str) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident(name))
        .cloned()
        .collect()
}

/// The type of the context parameter, if `ty` is a reference to a `Context<..>`.
///
/// Only the last path segment is looked at, so `&mut Context<Self>` and
/// `&playhouse::Context<Counter>` both count.
pub(crate) fn is_context(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    match &*reference.elem {
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Context")
        }
        _ => false,
    }
}

/// Replaces every `Self` in some tokens with the actor type.
///
/// Message structs and their `Message` impls live outside the actor's impl block, where
/// `Self` would mean something else.
pub(crate) fn replace_self(tokens: TokenStream, actor: &Type) -> TokenStream {
    let mut output = TokenStream::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        match tree {
            TokenTree::Ident(ident) if ident == "Self" => {
                // `Self::Assoc` needs the qualified form `<Counter<T>>::Assoc`.
                if matches!(trees.peek(), Some(TokenTree::Punct(punct)) if punct.as_char() == ':') {
                    output.extend(quote::quote!(<#actor>));
                } else {
                    actor.to_tokens(&mut output);
                }
            }
            TokenTree::Group(group) => {
                let mut replaced =
                    Group::new(group.delimiter(), replace_self(group.stream(), actor));
                replaced.set_span(group.span());
                output.append(replaced);
            }
            other => output.append(other),
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_becomes_the_actor_type() {
        let actor: Type = syn::parse_quote!(Counter);
        let replaced = |tokens: TokenStream| replace_self(tokens, &actor).to_string();
        assert_eq!(replaced(quote::quote!(Option<Self>)), "Option < Counter >");
        assert_eq!(
            replaced(quote::quote!(Vec<Self::Item>)),
            "Vec < < Counter > :: Item >"
        );
        assert_eq!(
            replaced(quote::quote!((Self, [Self; 2]))),
            "(Counter , [Counter ; 2])"
        );
    }

    #[test]
    fn context_parameters_are_recognised_by_the_last_segment() {
        let is = |ty: Type| is_context(&ty);
        assert!(is(syn::parse_quote!(&mut Context<Self>)));
        assert!(is(syn::parse_quote!(&playhouse::Context<Counter>)));
        assert!(!is(syn::parse_quote!(Context<Self>)));
        assert!(!is(syn::parse_quote!(&mut ContextData)));
    }
}
