//! Load tests for Pyrometer: a target simulator and a harness that runs Pyrometer,
//! Prometheus and VictoriaMetrics one after another against it. See README.md.

mod fleet;
mod lag;
mod measure;
mod procstat;
mod report;
mod scenario;
mod sim;
mod system;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use measure::{measure, Row};
use scenario::Scenario;
use std::io::Write;
use std::path::{Path, PathBuf};
use system::System;

#[derive(Parser)]
#[command(about = "Target simulator and side-by-side load harness for Pyrometer")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compare systems on one scenario and record the table in RESULTS.md.
    Run(RunArgs),
    /// CI smoke: Pyrometer only, 100 targets, a 20 s window, no missed scrape allowed.
    Smoke {
        /// Pyrometer binary (default: `pyrometer` next to this executable).
        #[arg(long)]
        pyrometer_bin: Option<PathBuf>,
    },
    /// Serve one simulator shard (started by `run`; useful alone for manual tests).
    Sim(sim::SimOptions),
    /// Print the prometheus.yml of a scenario.
    Config {
        #[arg(long)]
        scenario: String,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// tutorial, many-targets, fat-targets, churn or flaky.
    #[arg(long)]
    scenario: String,
    #[arg(long, default_value = "pyrometer,prometheus,victoria-metrics")]
    systems: String,
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Seconds of warm-up before the window (overrides the scenario's).
    #[arg(long)]
    warmup: Option<u64>,
    /// Seconds of the measuring window (overrides the scenario's).
    #[arg(long)]
    window: Option<u64>,
    /// Number of targets (overrides the scenario's).
    #[arg(long)]
    targets: Option<usize>,
    /// Pyrometer binary (default: `pyrometer` next to this executable).
    #[arg(long)]
    pyrometer_bin: Option<PathBuf>,
    /// Where the table is appended.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/RESULTS.md"))]
    results: PathBuf,
    /// Print the table only; do not append it to the results file.
    #[arg(long)]
    no_record: bool,
    /// Second octet of the simulator's loopback addresses.
    #[arg(long, default_value_t = 77)]
    net: u8,
}

fn default_pyrometer() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("pyrometer")))
        .unwrap_or_else(|| PathBuf::from("pyrometer"))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Sim(o) => Ok(sim::run_shard(o)?),
        Cmd::Config { scenario } => {
            let s = scenario::find(&scenario).context("unknown scenario")?;
            print!("{}", s.config(77, 9100));
            Ok(())
        }
        Cmd::Run(a) => run(a),
        Cmd::Smoke { pyrometer_bin } => smoke(pyrometer_bin.unwrap_or_else(default_pyrometer)),
    }
}

/// Runs every system `runs` times (interleaved, so slow drifts of the machine spread over
/// all of them) against one simulator fleet.
fn run_scenario(
    s: &Scenario,
    systems: &[(System, PathBuf)],
    runs: usize,
    net: u8,
) -> anyhow::Result<Vec<Row>> {
    let dir = std::env::temp_dir().join(format!("pyrometer-loadtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, s.config(net, 9100))
        .with_context(|| format!("writing {}", config.display()))?;
    let per_run = s.warmup_s + s.window_s + 180;
    let max_secs = per_run * (runs * systems.len()) as u64 + 60;
    let fleet = fleet::Fleet::start(s, net, 9100, max_secs)?;
    let mut rows = Vec::new();
    for k in 1..=runs {
        for (sys, bin) in systems {
            eprintln!(
                "run {k}/{runs}: {} ({} s warm-up, {} s window)",
                sys.name(),
                s.warmup_s,
                s.window_s
            );
            let row = measure(*sys, bin, &config, &dir, s, &fleet)?;
            eprintln!(
                "  {:.0} samples/s, {:.2} cores, lag p99 {:.1} ms, missed {}",
                row.samples_per_s, row.cpu_cores, row.lag_ms_p99, row.missed
            );
            rows.push(row);
            let _ = std::fs::remove_dir_all(dir.join(format!("data-{}", sys.name())));
        }
    }
    drop(fleet);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

fn run(a: RunArgs) -> anyhow::Result<()> {
    let mut s = scenario::find(&a.scenario)
        .with_context(|| format!("unknown scenario {:?}", a.scenario))?;
    s.warmup_s = a.warmup.unwrap_or(s.warmup_s);
    s.window_s = a.window.unwrap_or(s.window_s);
    s.targets = a.targets.unwrap_or(s.targets);
    let pyro = a.pyrometer_bin.clone().unwrap_or_else(default_pyrometer);
    let mut systems = Vec::new();
    for name in a
        .systems
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let sys = System::parse(name)?;
        match sys.binary(&pyro) {
            Ok(bin) => systems.push((sys, bin)),
            Err(e) => eprintln!("skipping: {e}"),
        }
    }
    if systems.is_empty() {
        bail!("no system to run");
    }
    let rows = run_scenario(&s, &systems, a.runs, a.net)?;
    let table = report::table(&rows);
    println!("{table}");
    if !a.no_record {
        append_results(&a.results, &s, &systems, a.runs, &table)?;
        eprintln!("appended to {}", a.results.display());
    }
    Ok(())
}

fn append_results(
    path: &Path,
    s: &Scenario,
    systems: &[(System, PathBuf)],
    runs: usize,
    table: &str,
) -> anyhow::Result<()> {
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut text = format!(
        "\n## {} — {date}\n\n{} targets × {} series (churn {}), every {} s ({:.0} samples/s expected); {} s warm-up, {} s window; median of {runs} run(s).\n\n- machine: {}\n",
        s.name, s.targets, s.series, s.churn, s.interval_s, s.expected_rate(), s.warmup_s, s.window_s, report::machine()
    );
    for (sys, bin) in systems {
        text.push_str(&format!(
            "- {}: {} ({})\n",
            sys.name(),
            sys.version(bin),
            bin.display()
        ));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    text.push_str(&format!(
        "- command: `cargo run --release -p pyrometer-loadtest -- {}`\n\n{table}",
        args.join(" ")
    ));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn smoke(bin: PathBuf) -> anyhow::Result<()> {
    let s = scenario::find("smoke").context("smoke scenario")?;
    let bin = System::Pyrometer.binary(&bin)?;
    let rows = run_scenario(&s, &[(System::Pyrometer, bin)], 1, 77)?;
    println!("{}", report::table(&rows));
    let r = &rows[0];
    let checks = [
        ("no missed scrape", r.missed == 0.0),
        ("samples ingested", r.samples_per_s > 0.0),
        ("every target up", r.targets_down == 0.0),
    ];
    let mut failed = 0;
    for (name, ok) in checks {
        println!("{} {name}", if ok { "ok  " } else { "FAIL" });
        failed += usize::from(!ok);
    }
    println!("smoke: {} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
