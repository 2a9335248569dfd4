//! `leakscope` command line: the native face of the same core the browser runs.

use clap::{Parser, Subcommand};
use leakscope::compute::{ComputeDevice, smoke_check};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "leakscope",
    version,
    about = "Visual safety information leakage, measured"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show which backends work on this machine and run a small computation on each.
    Devices,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Devices => devices(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn devices() -> Result<(), String> {
    let (gpu, why_not) = pollster::block_on(ComputeDevice::best_available());
    let mut devices = vec![ComputeDevice::flex()];
    match why_not {
        None => devices.push(gpu),
        Some(why) => println!("wgpu: {why}"),
    }
    for device in devices {
        let result = pollster::block_on(smoke_check(&device.device)).map_err(|e| e.to_string())?;
        println!("{}: 2×2 product {:?}", device.describe(), result.product);
    }
    Ok(())
}
