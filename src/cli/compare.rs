//! `leakscope compare RUN…`: the leaderboard of several evaluation runs
//! ([`leakscope::eval::compare`]): each run's folder (its `report.json`, and `rows.jsonl` for
//! the paired test when it is there) or a `report.json` itself.

use std::path::{Path, PathBuf};

use leakscope::eval::compare::{Leaderboard, Run};

use super::read_file;

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Run folders written by `leakscope eval` (report.json, rows.jsonl), or report.json files.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Also write the tables as Markdown here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write the tables as CSV here.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

fn read_run(path: &Path) -> Result<Run, String> {
    let (report, rows) = if path.is_dir() {
        let rows = path.join("rows.jsonl");
        (path.join("report.json"), rows.is_file().then_some(rows))
    } else {
        (path.to_owned(), None)
    };
    if !report.is_file() {
        return Err(format!(
            "{} not found: give a run folder written by `leakscope eval`, or its report.json",
            report.display()
        ));
    }
    let rows_bytes = rows.as_deref().map(read_file).transpose()?;
    Run::read(
        &path.display().to_string(),
        &read_file(&report)?,
        rows_bytes.as_deref(),
    )
    .map_err(|e| e.to_string())
}

pub fn run(args: CompareArgs) -> Result<(), String> {
    let runs = args
        .runs
        .iter()
        .map(|p| read_run(p))
        .collect::<Result<Vec<_>, _>>()?;
    let board = Leaderboard::build(runs).map_err(|e| e.to_string())?;
    for table in board.tables() {
        println!("{}", table.render_text());
    }
    for (path, text) in [(&args.markdown, board.markdown()), (&args.csv, board.csv())] {
        if let Some(path) = path {
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
