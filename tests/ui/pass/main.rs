//! `#[main]` returns the body's output, and `?` works in the body.

use std::num::ParseIntError;

#[playhouse::main]
async fn main() -> Result<(), ParseIntError> {
    let number: u32 = "42".parse()?;
    if number == 0 {
        return Ok(());
    }
    let answer = playhouse::runtime::Handle::current()
        .spawn("answer", async move { number })
        .await;
    assert_eq!(answer.unwrap(), 42);
    Ok(())
}
