//! The evaluation tests' mock model API as a process, for the browser tests (node) and for
//! trying `leakscope eval` without a key:
//!
//! ```text
//! cargo run --quiet --example openai_mock_server -- [--script FAULTS.json] [--port N]
//! ```
//!
//! The first line on stdout is the origin, `http://127.0.0.1:<port>`; point clients at
//! `<origin>/v1` (OpenAI: `/v1/chat/completions`, Anthropic: `/v1/messages`). It serves until
//! killed. The script format, the answers and the control endpoints (`GET /__seen`,
//! `GET /__paid`, `GET /__violations`, `POST /__release`) are described in
//! `tests/native/support/openai_server.rs`.

#[allow(dead_code)]
#[path = "../tests/native/support/openai_server.rs"]
mod openai_server;

use std::io::Write;
use std::process::ExitCode;

use openai_server::{MockServer, Script};

const USAGE: &str = "usage: openai_mock_server [--script FAULTS.json] [--port N]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("openai_mock_server: {message}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut script = Script::default();
    let mut port = 0u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--script" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                script = Script::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
            }
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| format!("--port {v}: not a port"))?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let server = MockServer::start_on(&format!("127.0.0.1:{port}"), script)
        .map_err(|e| format!("127.0.0.1:{port}: {e}"))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", server.origin())
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())?;
    loop {
        std::thread::park();
    }
}
