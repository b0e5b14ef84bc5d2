//! Runs PromQL test scripts (`*.test`) against the engine and reports, per file, how many
//! evals passed, failed and were skipped (native histograms), with the first failure.
//!
//! Usage: `cargo run --release --bin promql-compliance -- [-v] DIR_OR_FILE...`
//! (`-v` lists every failure, not just the first of each file).
//! The last line is always `total: N passed, M failed, K skipped`.

use anyhow::Context;
use pyrometer::promql::testscript::{run_script, EvalOutcome};
use std::path::{Path, PathBuf};

fn collect(arg: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if arg.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(arg)
            .with_context(|| format!("reading directory {}", arg.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "test"))
            .collect();
        files.sort();
        out.extend(files);
    } else {
        out.push(arg.to_path_buf());
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    args.retain(|a| a != "-v");
    if args.is_empty() {
        anyhow::bail!("usage: promql-compliance DIR_OR_FILE...");
    }
    let mut files = Vec::new();
    for a in &args {
        collect(Path::new(a), &mut files)?;
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let report = run_script(&text);
        let (p, fl, s) = (report.passed(), report.failed(), report.skipped());
        passed += p;
        failed += fl;
        skipped += s;
        println!(
            "{}: {p} passed, {fl} failed, {s} skipped",
            f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            )
        );
        if verbose {
            for e in &report.evals {
                if let EvalOutcome::Failed(msg) = &e.outcome {
                    println!("  line {}: {}: {msg}", e.line, e.expr);
                }
            }
        } else if let Some(first) = report.first_failure() {
            println!("  first failure: {first}");
        }
        if let Some(err) = &report.error {
            println!("  script error: {err}");
        }
    }
    println!("total: {passed} passed, {failed} failed, {skipped} skipped");
    Ok(())
}
