//! The impl block's generics and bounds, and a method's where clause, go on the handlers.

use std::fmt::Display;

use playhouse::prelude::*;

#[derive(Actor)]
struct Log<T: Send + 'static> {
    lines: Vec<T>,
}

#[messages]
impl<T> Log<T>
where
    T: Display + Send + 'static,
{
    #[message]
    fn len(&self) -> usize {
        self.lines.len()
    }

    #[message]
    fn render(&self, separator: String) -> String
    where
        T: Clone,
    {
        let lines: Vec<String> = self.lines.iter().map(|line| line.to_string()).collect();
        lines.join(&separator)
    }
}

#[playhouse::main]
async fn main() {
    let log = Log::spawn(Log {
        lines: vec![1, 2, 3],
    });
    assert_eq!(log.ask(Len).await.unwrap(), 3);
    assert_eq!(
        log.ask(Render {
            separator: ", ".into()
        })
        .await
        .unwrap(),
        "1, 2, 3"
    );
}
