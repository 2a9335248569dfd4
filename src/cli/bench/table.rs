//! The benchmark's output: one table line per (row, batch, implementation) with the ratio of
//! each Burn median to the PyTorch median of the same row, and the same figures as JSON.

use std::fmt::Write;

use super::process::{cpu_model, today};
use super::{BenchArgs, Measurement};

pub struct Report {
    date: String,
    cpu: String,
    logical_cpus: usize,
    threads: usize,
    model: String,
    iters: usize,
    warmup: usize,
    budget_s: f64,
    reference: Option<serde_json::Value>,
    results: Vec<Measurement>,
}

impl Report {
    pub fn new(
        args: &BenchArgs,
        reference: Option<&serde_json::Value>,
        results: Vec<Measurement>,
    ) -> Self {
        Self {
            date: today(),
            cpu: cpu_model(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads: args.threads(),
            model: match &args.model {
                Some(dir) => dir.display().to_string(),
                None => format!("{} (random weights)", args.config),
            },
            iters: args.iters,
            warmup: args.warmup,
            budget_s: args.budget_s,
            reference: reference.cloned(),
            results,
        }
    }

    /// `median / torch median` of the same row and batch, when PyTorch ran it.
    fn over_torch(&self, m: &Measurement) -> Option<f64> {
        self.results
            .iter()
            .find(|r| r.implementation == "torch" && r.row == m.row && r.batch == m.batch)
            .map(|t| m.median_ms / t.median_ms)
    }

    /// Rows in first-seen order, then batch, then flex, wgpu, torch.
    fn ordered(&self) -> Vec<&Measurement> {
        let mut rows: Vec<&str> = Vec::new();
        for m in &self.results {
            if !rows.contains(&m.row.as_str()) {
                rows.push(&m.row);
            }
        }
        let rank = |i: &str| match i {
            "burn-flex" => 0,
            "burn-wgpu" => 1,
            "burn-wgpu-f16" => 2,
            _ => 3,
        };
        let mut out: Vec<&Measurement> = self.results.iter().collect();
        out.sort_by_key(|m| {
            (
                rows.iter().position(|r| *r == m.row),
                m.batch,
                rank(&m.implementation),
            )
        });
        out
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\nleakscope bench · {} · {} · {} of {} logical CPUs · {}",
            self.model, self.cpu, self.threads, self.logical_cpus, self.date
        );
        let mut devices: Vec<&str> = Vec::new();
        for m in &self.results {
            if m.implementation.starts_with("burn-wgpu") && !devices.contains(&m.device.as_str()) {
                devices.push(&m.device);
            }
        }
        for device in devices {
            let _ = writeln!(s, "wgpu adapter: {device}");
        }
        if let Some(reference) = &self.reference {
            let _ = writeln!(s, "reference: {reference}");
        }
        let _ = writeln!(
            s,
            "{} timed calls per row after {} untimed (fewer past {} s); times in ms, read-back \
             included; cores = CPU time / wall time; load = 1-minute load average at the row's start\n",
            self.iters, self.warmup, self.budget_s
        );
        let _ = writeln!(
            s,
            "{:<11}{:>6}  {:<14}{:>10}{:>11}{:>10}{:>10}{:>7}{:>6}{:>9}",
            "row",
            "batch",
            "impl",
            "first",
            "median",
            "p90",
            "peak MiB",
            "cores",
            "load",
            "÷ torch"
        );
        let mut last_row = None;
        for m in self.ordered() {
            if last_row.is_some_and(|r: (&str, usize)| r != (m.row.as_str(), m.batch)) {
                s.push('\n');
            }
            last_row = Some((m.row.as_str(), m.batch));
            let ratio = match (m.implementation.as_str(), self.over_torch(m)) {
                ("torch", _) | (_, None) => "-".to_owned(),
                (_, Some(r)) => format!("{r:.2}×"),
            };
            let opt = |v: Option<f64>, digits: usize| {
                v.map_or("-".to_owned(), |v| format!("{v:.digits$}"))
            };
            let _ = writeln!(
                s,
                "{:<11}{:>6}  {:<14}{:>10.1}{:>11.2}{:>10.2}{:>10}{:>7}{:>6}{:>9}",
                m.row,
                m.batch,
                m.implementation,
                m.first_ms,
                m.median_ms,
                m.p90_ms,
                opt(m.peak_rss_mib, 0),
                opt(m.cpu_per_wall, 1),
                opt(m.load_avg, 1),
                ratio
            );
        }
        s
    }

    pub fn to_json(&self) -> String {
        let results: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|m| {
                let mut v = serde_json::to_value(m).unwrap_or_default();
                if let (Some(ratio), Some(obj)) = (self.over_torch(m), v.as_object_mut())
                    && m.implementation != "torch"
                {
                    obj.insert("over_torch".into(), ratio.into());
                }
                v
            })
            .collect();
        let out = serde_json::json!({
            "date": self.date,
            "machine": {"cpu": self.cpu, "logical_cpus": self.logical_cpus},
            "threads": self.threads,
            "model": self.model,
            "iters": self.iters,
            "warmup": self.warmup,
            "budget_s": self.budget_s,
            "reference": self.reference,
            "results": results,
        });
        serde_json::to_string_pretty(&out).unwrap_or_default()
    }
}
