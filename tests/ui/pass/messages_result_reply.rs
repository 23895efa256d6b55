//! A `Result` is a reply like any other; `Self` in a reply means the actor.

use playhouse::prelude::*;

#[derive(Actor, Clone, Debug, PartialEq)]
struct Account {
    balance: u64,
}

#[messages]
impl Account {
    #[message]
    fn withdraw(&mut self, amount: u64) -> Result<u64, String> {
        if amount > self.balance {
            return Err(format!("cannot withdraw {amount}"));
        }
        self.balance -= amount;
        Ok(self.balance)
    }

    #[message]
    fn snapshot(&self) -> Option<Self> {
        Some(self.clone())
    }
}

#[playhouse::main]
async fn main() {
    let account = Account::spawn(Account { balance: 10 });
    assert_eq!(account.ask(Withdraw { amount: 4 }).await.unwrap(), Ok(6));
    assert!(account.ask(Withdraw { amount: 7 }).await.unwrap().is_err());
    assert_eq!(
        account.ask(Snapshot).await.unwrap(),
        Some(Account { balance: 6 })
    );
}
