//! The `proficio` command: parse the command line, start logging, run.

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = proficio::cli::Cli::parse();
    proficio::init_tracing();
    proficio::cli::run(cli)
}
