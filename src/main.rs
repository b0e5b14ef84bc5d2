//! The `pyrometer` binary: parse flags, set up logging, run the server.

use clap::Parser;

fn main() {
    let flags = pyrometer::flags::Flags::parse();
    pyrometer::logging::init(&flags.log_level, &flags.log_format);
    if let Err(e) = pyrometer::server::run(flags) {
        log::error!("{e:#}");
        std::process::exit(1);
    }
}
