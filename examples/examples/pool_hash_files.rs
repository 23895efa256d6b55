//! A pool of hashers checksums a directory of files, doing the reading and hashing on the
//! runtime's blocking pool so that the scheduler's worker threads stay free.
//!
//! Shows:
//!
//! 1. a pool of four identical workers behind one handle, routed least-loaded, so that the
//!    big files do not pile up behind each other;
//! 2. bounded worker mailboxes pushing back: thirty files are asked for at once, a dozen
//!    fit in the pool, and the other asks wait for room;
//! 3. blocking work (file reads and a hash) moved to `run_blocking` from a handler;
//! 4. a file that cannot be read answered with an error reply, not a crash;
//! 5. the pool stopped: its workers first, then its supervisor.
//!
//! Run it with `cargo run --example pool_hash_files`.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::thread::{self, ThreadId};
use std::time::Instant;

use playhouse::pool::{Pool, Routing};
use playhouse::prelude::*;

/// How many files to make, and how many hashers share them.
const FILES: usize = 30;
const HASHERS: usize = 4;

/// Hashes files, one at a time, counting what it did.
#[derive(Actor, Clone)]
struct Hasher {
    files: u32,
    bytes: u64,
}

/// A file's checksum, and the threads that handled the message and hashed the file.
struct Checksum {
    hash: u64,
    bytes: u64,
    handler_thread: ThreadId,
    hashing_thread: ThreadId,
}

#[messages]
impl Hasher {
    /// Replies with the FNV-1a hash of the file at `path`, or why it could not be read.
    #[message]
    async fn hash_file(
        &mut self,
        ctx: &mut Context<Self>,
        path: PathBuf,
    ) -> Result<Checksum, String> {
        let handler_thread = thread::current().id();
        // Reading and hashing block: on the blocking pool, they leave this worker thread
        // free for other actors while this handler waits.
        let hashed = ctx
            .system()
            .handle()
            .run_blocking(move || {
                let (hash, bytes) = fnv1a_file(&path)?;
                Ok::<_, io::Error>((hash, bytes, thread::current().id()))
            })
            .await
            .map_err(|error| error.to_string())?;
        let (hash, bytes, hashing_thread) = hashed.map_err(|error| error.to_string())?;
        self.files += 1;
        self.bytes += bytes;
        Ok(Checksum {
            hash,
            bytes,
            handler_thread,
            hashing_thread,
        })
    }

    /// Replies with how many files and bytes this worker hashed.
    #[message]
    fn totals(&self) -> (u32, u64) {
        (self.files, self.bytes)
    }
}

/// The 64-bit FNV-1a hash of a file's bytes, and how many there were.
fn fnv1a_file(path: &Path) -> io::Result<(u64, u64)> {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut file = File::open(path)?;
    let mut buffer = vec![0; 64 * 1024];
    let mut hash = OFFSET_BASIS;
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok((hash, total));
        }
        for &byte in &buffer[..read] {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
        total += read as u64;
    }
}

/// Writes `FILES` files of pseudo-random bytes, from 1 KiB to about 600 KiB, and returns
/// their paths.
fn make_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: cheap, and the same files every run.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut paths = Vec::new();
    for index in 0..FILES {
        let size = 1024 + (next() % (600 * 1024)) as usize;
        let mut bytes = Vec::with_capacity(size + 8);
        while bytes.len() < size {
            bytes.extend_from_slice(&next().to_le_bytes());
        }
        bytes.truncate(size);
        let path = dir.join(format!("file-{index:02}.bin"));
        File::create(&path)?.write_all(&bytes)?;
        paths.push(path);
    }
    Ok(paths)
}

#[playhouse::main]
async fn main() -> io::Result<()> {
    let dir = std::env::temp_dir().join(format!("playhouse-pool-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut paths = make_files(&dir)?;
    let total_bytes: u64 = paths
        .iter()
        .map(|path| std::fs::metadata(path).map(|meta| meta.len()))
        .sum::<io::Result<u64>>()?;
    println!(
        "1. Made {FILES} files, {:.1} MiB in all, in {}",
        total_bytes as f64 / (1024.0 * 1024.0),
        dir.display()
    );
    // One path that does not exist: its ask gets an error reply.
    paths.push(dir.join("missing.bin"));

    let pool = Pool::<Hasher>::builder(HASHERS)
        .routing(Routing::LeastLoaded)
        .mailbox(Mailbox::bounded(2))
        .spawn(Hasher { files: 0, bytes: 0 })
        .expect("four hashers");
    println!(
        "2. A pool of {} hashers ({:?}), each with a mailbox of 2: {} files in flight at most",
        pool.size(),
        pool.routing(),
        HASHERS * 3
    );

    let started = Instant::now();
    let mut asks = tokio::task::JoinSet::new();
    for path in paths {
        let pool = pool.clone();
        asks.spawn(async move {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Waits for room when every hasher is busy and its mailbox is full.
            let reply = pool.ask(HashFile { path }).await;
            (name, reply)
        });
    }
    let mut results = BTreeMap::new();
    while let Some(joined) = asks.join_next().await {
        let (name, reply) = joined.expect("the ask task finished");
        results.insert(name, reply);
    }
    let elapsed = started.elapsed();

    println!("3. Checksums (FNV-1a, 64 bits):");
    let mut handler_threads = HashSet::new();
    let mut hashing_threads = HashSet::new();
    for (name, reply) in &results {
        match reply {
            Ok(Ok(checksum)) => {
                println!(
                    "  {name}  {:016x}  {:>7} bytes",
                    checksum.hash, checksum.bytes
                );
                handler_threads.insert(checksum.handler_thread);
                hashing_threads.insert(checksum.hashing_thread);
            }
            Ok(Err(error)) => println!("  {name}  error: {error}"),
            Err(error) => println!("  {name}  ask failed: {error}"),
        }
    }
    println!("  all hashed in {} ms", elapsed.as_millis());
    let apart = if hashing_threads.is_disjoint(&handler_threads) {
        "none of them"
    } else {
        "some of them"
    };
    println!(
        "  the hashing ran on {} blocking-pool threads, {apart} among the {} scheduler \
         threads that ran the handlers",
        hashing_threads.len(),
        handler_threads.len(),
    );

    println!("4. Work per hasher (least-loaded spreads it by queue length):");
    for worker in pool.workers() {
        let (files, bytes) = worker.ask(Totals).await.expect("the hasher replies");
        println!(
            "  {worker}: {files:>2} files, {:>5} KiB",
            bytes.div_ceil(1024)
        );
    }

    pool.stop();
    println!("5. Pool stopped: {}", pool.wait().await);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
