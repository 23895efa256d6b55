//! Compile tests of the macros: what they accept, and the errors they report.
//!
//! Regenerate the expected errors with
//! `TRYBUILD=overwrite cargo test -p playhouse-tests --test ui`, then read every `.stderr`.

#[test]
fn macros_accept_valid_input_and_explain_invalid_input() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
