//! The `proficio` command: parse the command line, start logging, run.

use clap::Parser as _;

/// mimalloc rather than the system allocator: the request path and the store's memtables
/// allocate many small, short-lived objects, where glibc's malloc took about half of the
/// request handling's CPU in profiles (docs/performance.md). Built without transparent huge
/// pages (`no_thp`): with them, peak RSS was 30–45 % higher for the same live heap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = proficio::cli::Cli::parse();
    proficio::init_tracing();
    proficio::cli::run(cli)
}
