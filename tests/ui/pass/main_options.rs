//! `#[main(worker_threads = N)]`, and other attributes stay on the function.

#[playhouse::main(worker_threads = 2)]
#[allow(unused_variables)]
async fn main() {
    let unused = 1;
}
