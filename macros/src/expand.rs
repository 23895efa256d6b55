//! Code generation. Each macro's driver runs the pipeline (options, input, checks) and the
//! functions below it write the code. Generated code names everything by absolute path.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{AttrStyle, Data, DeriveInput, Ident, Item, ItemFn, ItemImpl, Path, Type};

use crate::ast::{ImplBlock, Message, Param};
use crate::attr::{self, Flavor, RuntimeMacro, RuntimeOptions};
use crate::fallback::{self, Failed};
use crate::validate::{self, Errors};

/// `#[messages]`: a message struct, its `Message` impl and a `Handler` impl per method.
pub(crate) fn messages(args: TokenStream, item: &Item) -> Result<TokenStream, Failed> {
    let mut errors = Errors::default();
    let options = attr::messages(args, &mut errors);
    let block = match ImplBlock::from_item(item) {
        Ok(block) => block,
        Err(error) => return Err(Failed::new(item.to_token_stream(), errors.and(error))),
    };
    let messages = validate::messages(&block, &mut errors);
    let generated = messages
        .iter()
        .map(|message| message_items(&block.item, message, &options.krate));
    let item = &block.item;
    fallback::finish(quote!(#item #(#generated)*), errors)
}

/// `#[message]` outside of a `#[messages]` block: an error, and the item unchanged.
pub(crate) fn message(item: TokenStream) -> Result<TokenStream, Failed> {
    let text =
        "#[message] only works on a method inside an impl block marked #[playhouse::messages]";
    Err(Failed::new(item, syn::Error::new(Span::call_site(), text)))
}

/// `#[derive(Actor)]`: an `Actor` impl that starts from the value it is given.
pub(crate) fn actor(input: &DeriveInput) -> Result<TokenStream, Failed> {
    let mut errors = Errors::default();
    let options = attr::actor(&input.attrs, &mut errors);
    if let Data::Union(data) = &input.data {
        errors.spanned(
            data.union_token,
            "#[derive(Actor)] works on structs and enums, not unions",
        );
        return fallback::finish(TokenStream::new(), errors);
    }
    let krate = &options.krate;
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let tokens = quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Actor for #name #type_generics #where_clause {
            type Args = Self;
            type Error = ::core::convert::Infallible;

            async fn on_start(
                args: Self,
                _: &mut #krate::Context<Self>,
            ) -> ::core::result::Result<Self, ::core::convert::Infallible> {
                ::core::result::Result::Ok(args)
            }
        }
    };
    fallback::finish(tokens, errors)
}

/// `#[main]` and `#[test]`: a plain function that runs the async one on a new runtime.
pub(crate) fn runtime_fn(
    args: TokenStream,
    item: &ItemFn,
    which: RuntimeMacro,
) -> Result<TokenStream, Failed> {
    let mut errors = Errors::default();
    let options = attr::runtime(args, which, &mut errors);
    let flavor = match which {
        RuntimeMacro::Main => Flavor::MultiThread,
        RuntimeMacro::Test => validate::test_flavor(&options, &mut errors),
    };
    let tokens = if validate::runtime_fn(item, which, &mut errors) {
        runtime_fn_items(item, &options, flavor, which)
    } else {
        fallback::runtime_fn(item)
    };
    fallback::finish(tokens, errors)
}

fn message_items(block: &ItemImpl, message: &Message, krate: &Path) -> TokenStream {
    let Message {
        name,
        method,
        vis,
        cfgs,
        derives,
        ..
    } = message;
    let actor = &block.self_ty;

    let source = method_name(actor, method);
    let docs = if message.docs.is_empty() {
        let doc =
            format!("Message generated from {source}; its reply is the method's return value.");
        quote!(#[doc = #doc])
    } else {
        message.docs.iter().map(ToTokens::to_token_stream).collect()
    };
    let derive = (!derives.is_empty()).then(|| quote!(#[derive(#(#derives),*)]));
    let fields = message.fields().map(|(field, ty)| {
        let doc = format!("Argument `{field}` of {source}.");
        quote!(#[doc = #doc] #vis #field: #ty)
    });
    let body = if message.fields().next().is_none() {
        quote!(;)
    } else {
        quote!({ #(#fields,)* })
    };

    let reply = message
        .reply
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    let returns = message.reply.as_ref().map(|reply| quote!(-> #reply));

    let mut generics = block.generics.clone();
    if !message.bounds.is_empty() {
        generics
            .make_where_clause()
            .predicates
            .extend(message.bounds.iter().cloned());
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();

    // Local names that the user's tokens can't see.
    let message_var = Ident::new("message", Span::mixed_site());
    let ctx = Ident::new(
        if message.takes_context() {
            "ctx"
        } else {
            "_ctx"
        },
        Span::mixed_site(),
    );
    let field_names = message.fields().map(|(field, _)| field);
    let arguments = message.params.iter().map(|param| match param {
        Param::Field { name, .. } => name.to_token_stream(),
        Param::Context => ctx.to_token_stream(),
    });
    let call_await = message.is_async.then(|| quote!(.await));

    quote! {
        #(#cfgs)*
        #docs
        #derive
        #vis struct #name #body

        #(#cfgs)*
        #[automatically_derived]
        impl #krate::Message for #name {
            type Reply = #reply;
        }

        #(#cfgs)*
        #[automatically_derived]
        impl #impl_generics #krate::Handler<#name> for #actor #where_clause {
            async fn handle(&mut self, #message_var: #name, #ctx: &mut #krate::Context<Self>) #returns {
                let #name { #(#field_names),* } = #message_var;
                self.#method(#(#arguments),*) #call_await
            }
        }
    }
}

/// The method as plain code, such as `` `Counter::inc` ``, for the generated docs.
fn method_name(actor: &Type, method: &Ident) -> String {
    match actor {
        Type::Path(path) if path.qself.is_none() => {
            let segments = path
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string());
            let prefix = if path.path.leading_colon.is_some() {
                "::"
            } else {
                ""
            };
            // Plain code, not an intra-doc link: the actor may be private while its
            // message is public, and rustdoc warns about links to private items.
            format!(
                "`{prefix}{}::{method}`",
                segments.collect::<Vec<_>>().join("::")
            )
        }
        _ => format!("the method `{method}`"),
    }
}

fn runtime_fn_items(
    item: &ItemFn,
    options: &RuntimeOptions,
    flavor: Flavor,
    which: RuntimeMacro,
) -> TokenStream {
    let krate = &options.krate;
    let mut attrs = item.attrs.clone();
    // The body moves into an async block, so inner attributes go on the function.
    for attr in &mut attrs {
        attr.style = AttrStyle::Outer;
    }
    let test = (which == RuntimeMacro::Test).then(|| quote!(#[::core::prelude::v1::test]));
    let vis = &item.vis;
    let mut sig = item.sig.clone();
    sig.asyncness = None;
    let output = match &sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => ty.to_token_stream(),
    };
    let body = &item.block;

    let builder = match flavor {
        Flavor::MultiThread => quote!(new),
        Flavor::CurrentThread => quote!(new_current_thread),
    };
    // Spanned on the user's option, so an error about the call points there.
    let worker_threads = options.worker_threads.map(|(count, span)| {
        let count = proc_macro2::Literal::usize_unsuffixed(count);
        quote_spanned!(span=> .worker_threads(#count))
    });
    let start_paused = options
        .start_paused
        .map(|(paused, span)| quote_spanned!(span=> .start_paused(#paused)));

    // A program ends gracefully on Ctrl-C; a test just runs.
    let block_on = match which {
        RuntimeMacro::Main => quote_spanned! {Span::mixed_site()=>
            let output: ::core::option::Option<#output> =
                runtime.block_on_or_ctrl_c(async move #body);
            let report = runtime.shutdown();
            let output = match output {
                ::core::option::Option::Some(output) => output,
                ::core::option::Option::None => {
                    ::std::eprintln!("playhouse: interrupted; {}", report);
                    ::std::process::exit(130)
                }
            };
        },
        RuntimeMacro::Test => quote_spanned! {Span::mixed_site()=>
            let output: #output = runtime.block_on(async move #body);
            let report = runtime.shutdown();
        },
    };
    // Mixed-site hygiene keeps these locals out of the user's body.
    let run = quote_spanned! {Span::mixed_site()=>
        let runtime = match #krate::Builder::#builder() #worker_threads #start_paused .build() {
            ::core::result::Result::Ok(runtime) => runtime,
            ::core::result::Result::Err(error) => {
                ::core::panic!("failed to start the Playhouse runtime: {}", error)
            }
        };
        #block_on
        if !report.is_clean() {
            ::std::eprintln!("playhouse: {}", report);
        }
        output
    };
    quote! {
        #test
        #(#attrs)*
        #vis #sig {
            #run
        }
    }
}
