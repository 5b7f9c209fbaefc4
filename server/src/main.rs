//! `scimpad`: serve the console (default) or run an administrative command.

use clap::Parser;

/// mimalloc instead of the system allocator: a SCIM request makes hundreds of small allocations
/// (JSON values, SQL text, rows), and glibc's malloc and free were 15 % of the server's CPU in the
/// lookup benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::cli::Cli::parse().run().await
}
