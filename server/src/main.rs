//! `scimpad`: serve the console (default) or run an administrative command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::cli::Cli::parse().run().await
}
