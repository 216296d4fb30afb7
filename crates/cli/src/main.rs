//! `codingworker`: turns labelled issues into pull requests with a local model.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use codingworker_llm::LlmClient;
use codingworker_protocol::{Overrides, TaskMessage, local_task_message};
use codingworker_queue::Queue;
use codingworker_store::{Store, TaskDetail};
use codingworker_worker::tasklog::TaskLogLayer;
use codingworker_worker::{
    Config, DataPaths, NamedQueue, RunMode, Worker, build_project_services, build_services, choose_project,
    open_project_queue, open_queues, open_store, start_metrics,
};
use tracing_subscriber::prelude::*;

const AFTER_HELP: &str = "\
Quick start (no accounts needed):
  codingworker run --repo ./my-project --issue-file issue.md
      clones the repository, lets the local model fix the issue, runs the tests,
      pushes a branch codingworker/issue-N-... and records a pull request.
  codingworker doctor
      checks the model server, the model, git, disk and the config.

Configuration: a TOML file (--config, default ~/.config/codingworker/config.toml); every key can be
overridden by an environment variable, e.g. llm.base_url by CODINGWORKER_LLM_BASE_URL. List them all
with `codingworker config`.";

#[derive(Parser)]
#[command(name = "codingworker", version, about = "Turns GitHub issues into pull requests with a local LLM.")]
#[command(after_help = AFTER_HELP)]
struct Cli {
    /// Config file (TOML). Default: the platform config directory's codingworker/config.toml.
    #[arg(long, global = true, env = "CODINGWORKER_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on stderr: `text` for people, `json` for log shippers. Overrides log.format.
    #[arg(long, global = true, value_parser = ["text", "json"])]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one task in the foreground: enqueue it and work until it is done, showing progress.
    ///
    /// Exit status: 0 when the pull request is verified `fixed` (a test that failed on the base commit passes), 3
    /// when a draft pull request was opened for a human (no test shows the fix), 4 when nothing needed changing
    /// (the issue's examples already hold), 1 when the task failed or was rejected, 2 for a usage error.
    Run(TaskArgs),
    /// Enqueue a task for a running `codingworker worker`; prints the task id.
    Submit(TaskArgs),
    /// Serve the queue: take tasks one at a time until stopped (Ctrl-C or SIGTERM finish cleanly).
    Worker {
        /// Handle one task, then exit.
        #[arg(long, conflicts_with = "until_idle")]
        once: bool,
        /// Exit when the queue is empty.
        #[arg(long)]
        until_idle: bool,
    },
    /// Recent tasks, queue depth and dead letters.
    Status {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// One task: its attempts, events, pull-request record and log file.
    Show {
        /// Task id or a unique prefix of it (at least 4 characters).
        task: String,
        #[arg(long)]
        json: bool,
        /// Also print the task's log file.
        #[arg(long)]
        log: bool,
    },
    /// Check the model server, the model, git, disk space and the config.
    Doctor,
    /// Print the effective configuration and the environment variable of every key.
    Config,
    /// Run the benchmark suite through the real pipeline (and optionally aider beside it) and write a report.
    #[command(after_help = "Reproduce the README's table:\n  eval \"$(scripts/model-server.sh)\"\n  \
        codingworker bench --peer-aider ~/.cache/codingworker/aider-venv/bin/aider\n\
        OpenHands beside the built-in agent and aider (a 32k model context, the image from scripts/openhands-image.sh):\n  \
        CODINGWORKER_MODEL_CTX=32768 scripts/model-server.sh\n  \
        codingworker bench --agents builtin,openhands --only 02-,21- --peer-aider ~/.cache/codingworker/aider-venv/bin/aider\n\
        Compare two runs:\n  codingworker bench --compare bench/results/A.json bench/results/B.json")]
    Bench(BenchArgs),
    /// The GitHub token in the OS keyring (macOS Keychain, Secret Service, Windows Credential Manager).
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Store a token: typed at a hidden prompt, or piped in (`codingworker token set < token.txt`).
    Set,
    /// Say where the worker would take its token from (never prints it).
    Status,
    /// Remove the token from the keyring.
    Delete,
}

#[derive(Args)]
struct BenchArgs {
    /// Directory of tasks (each with task.toml, issue.md, repo/, hidden/, reference/).
    #[arg(long, default_value = "bench/tasks")]
    suite: PathBuf,
    /// Only tasks whose id contains this text (several, comma-separated: `01-,17-,24-`).
    #[arg(long)]
    only: Option<String>,
    /// Also run aider (this executable) on every task, against the same model server.
    #[arg(long)]
    peer_aider: Option<PathBuf>,
    /// Which of CodingWorker's agents run every task, through the same pipeline: `builtin`, `openhands` (the
    /// agent-server image, openhands.image; needs Docker and a 32k model context), or both: `builtin,openhands`.
    #[arg(long, value_delimiter = ',', default_value = "builtin")]
    agents: Vec<String>,
    /// Wall-clock limit per task and agent.
    #[arg(long, default_value_t = 900)]
    time_budget_secs: u64,
    /// Where to write <time>.json and <time>.md.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Print a side-by-side comparison of two earlier runs (JSON files) instead of running.
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    compare: Option<Vec<PathBuf>>,
    /// Print an earlier run (its JSON file) as Markdown with today's tables and counts, instead of running.
    #[arg(long, value_name = "RUN", conflicts_with = "compare")]
    render: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct TaskArgs {
    /// Repository to work on: a local path or a clone URL (https://, file://).
    #[arg(long)]
    repo: String,
    /// Repository name as owner/name. Default: local/<directory name>.
    #[arg(long)]
    name: Option<String>,
    /// Markdown file with the issue: the first line is the title, the rest the body.
    #[arg(long, conflicts_with = "title")]
    issue_file: Option<PathBuf>,
    /// Issue title (instead of --issue-file).
    #[arg(long, requires = "body")]
    title: Option<String>,
    /// Issue body (with --title).
    #[arg(long)]
    body: Option<String>,
    /// Issue number, used in the branch name and commit message.
    #[arg(long, default_value_t = 1)]
    issue: u64,
    /// Base branch. Default: the repository's default branch.
    #[arg(long)]
    base: Option<String>,
    /// Model for this task only.
    #[arg(long)]
    model: Option<String>,
    /// Agent backend for this task only: `builtin` or `openhands` (default: agent.backend).
    #[arg(long, value_parser = ["builtin", "openhands"])]
    agent: Option<String>,
    /// The configured project whose queue takes the task (default: the first whose allowed_repositories takes
    /// --name, else the first project).
    #[arg(long)]
    project: Option<String>,
}

/// `run`'s exit status for the task's final state (see `Command::Run`).
fn run_exit_code(state: Option<codingworker_store::TaskState>) -> std::process::ExitCode {
    use codingworker_store::TaskState;
    match state {
        Some(TaskState::Succeeded) => std::process::ExitCode::SUCCESS,
        // Not 2: clap exits 2 for a usage error, and a script must tell that from a draft.
        Some(TaskState::Draft) => std::process::ExitCode::from(3),
        Some(TaskState::NoChange) => std::process::ExitCode::from(4),
        _ => std::process::ExitCode::FAILURE,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(format) = &cli.log_format {
        config.log.format = format.clone();
    }
    let paths = DataPaths::new(&config)?;
    let _log_files = init_logging(&config, &paths)?;
    match cli.command {
        Command::Run(args) => {
            let store = open_store(&paths)?;
            let project = choose_project(&config, args.project.as_deref(), &task_repository(&args)?)?;
            let queue = open_project_queue(&config, &paths, &project).await?;
            // Start-up checks first: a `run` that cannot work its task must not leave it queued for the next `run`
            // or the daemon to pick up unasked (a new user's run without the sandbox image, 2026-12-06).
            let base = build_services(config, &paths, Arc::clone(&store)).await?;
            let services = Arc::new(build_project_services(&base, &project).await?);
            check_model_at_startup(&services.llm).await?;
            let waiting = queue.depth().await.map(|d| d.visible + d.delayed).unwrap_or(0);
            let task_id = submit(queue.as_ref(), &store, &args, &project.name).await?;
            if waiting > 0 {
                eprintln!(
                    "task {task_id} queued in project {} behind {waiting} task(s) queued earlier ({}); run works \
                     the queue in order until its own task is done",
                    project.name,
                    queue.describe()
                );
            } else {
                eprintln!("task {task_id} queued in project {}; working on it now", project.name);
            }
            let worker = Worker::new(services, queue);
            worker.run(RunMode::UntilTaskDone(task_id.clone()), shutdown_signal()).await?;
            print_detail(&store, &task_id, false)?;
            Ok(run_exit_code(store.task_detail(&task_id)?.map(|d| d.task.state)))
        }
        Command::Submit(args) => {
            let store = open_store(&paths)?;
            let project = choose_project(&config, args.project.as_deref(), &task_repository(&args)?)?;
            let queue = open_project_queue(&config, &paths, &project).await?;
            let task_id = submit(queue.as_ref(), &store, &args, &project.name).await?;
            println!("{task_id}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Worker { once, until_idle } => {
            let store = open_store(&paths)?;
            let queues = open_queues(&config, &paths).await?;
            let concurrency = usize::try_from(config.queue.concurrency).unwrap_or(1);
            let projects = config.projects();
            let shutdown = shutdown_signal();
            let (metrics, publisher) = start_metrics(&config, shutdown.clone()).await?;
            let mut services = build_services(config, &paths, store).await?;
            services.metrics = metrics;
            let services = Arc::new(services);
            let mut served = Vec::new();
            for (project, named) in projects.iter().zip(&queues) {
                let own = Arc::new(build_project_services(&services, project).await?);
                check_model_at_startup(&own.llm).await?;
                served.push(codingworker_worker::worker::ServedProject {
                    services: own,
                    queue: Arc::clone(&named.queue),
                    concurrency: usize::try_from(project.concurrency).unwrap_or(1),
                });
            }
            if served.len() > 1 {
                let names: Vec<String> =
                    projects.iter().map(|p| format!("{} (up to {} at once)", p.name, p.concurrency)).collect();
                tracing::info!(
                    "serving {} projects, at most {concurrency} task(s) at once in all: {}",
                    served.len(),
                    names.join(", ")
                );
            }
            codingworker_worker::startup_housekeeping(&services, &paths).await;
            let dashboard = start_dashboard(&services, &queues, shutdown.clone()).await?;
            // The metrics publisher makes its last flush once every handle is gone: the projects' services hold theirs.
            drop(services);
            let mode = if once {
                RunMode::Once
            } else if until_idle {
                RunMode::UntilIdle
            } else {
                RunMode::Forever
            };
            let stats = Worker::serve(served, concurrency, mode, shutdown).await;
            if let Some(publisher) = publisher {
                // The loops are gone and with them every metrics handle: the publisher makes its last flush (this
                // run's final counts) and ends. A hung CloudWatch must not hold the exit up for long.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(10), publisher).await;
            }
            if let Some(dashboard) = dashboard {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), dashboard).await;
            }
            let stats = stats?;
            eprintln!(
                "worker finished: {} handled, {} done, {} retried, {} dead-lettered",
                stats.handled, stats.done, stats.retried, stats.parked
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Status { limit, json } => {
            let store = open_store(&paths)?;
            let queues = open_queues(&config, &paths).await?;
            status(&store, &queues, limit, json).await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Show { task, json, log } => {
            let store = open_store(&paths)?;
            print_detail(&store, &task, json)?;
            if log && let Some(detail) = store.task_detail(&task)? {
                let path = paths.logs.join(format!("{}.log", detail.task.task_id));
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
                println!("\n--- {} ---\n{text}", path.display());
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Doctor => doctor(&config, &paths).await,
        Command::Token(command) => token(command, &config),
        Command::Bench(args) => bench(config, &paths, args).await,
        Command::Config => {
            let mut shown = config.clone();
            if !shown.web.token.is_empty() {
                shown.web.token = "(set, not shown)".into();
            }
            println!("# effective configuration\n{}", toml::to_string_pretty(&shown)?);
            println!("# environment overrides");
            for (var, key) in Config::keys() {
                println!("# {var:<44} {key}");
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// Binds and serves the dashboard (`web.*`) until shutdown; `None` when it is turned off.
async fn start_dashboard(
    services: &Arc<codingworker_worker::Services>,
    queues: &[NamedQueue],
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let web = &services.config.web;
    if !web.enabled {
        return Ok(None);
    }
    let listener = codingworker_web::bind(&web.bind).await?;
    let addr = listener.local_addr()?;
    let dashboard = Arc::new(codingworker_web::Dashboard::new(Arc::clone(services), queues.to_vec(), addr));
    tracing::info!("dashboard at http://{addr}/ (health /healthz, readiness /readyz, Prometheus /metrics)");
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = codingworker_web::serve(listener, dashboard, shutdown).await {
            tracing::error!("{e}");
        }
    })))
}

/// A missing model will not appear by itself: stop with the fix. A server that is merely down may come back, and
/// tasks retry meanwhile.
async fn check_model_at_startup(llm: &LlmClient) -> Result<()> {
    match llm.check_model().await {
        Ok(_) => Ok(()),
        Err(e @ codingworker_llm::LlmError::ModelMissing { .. }) => Err(e.into()),
        Err(e) => {
            tracing::warn!("model check failed: {e}; the worker takes no task until it answers");
            Ok(())
        }
    }
}

/// Logging: the console (text or JSON), one file per task, and with `log.dir` the worker's own log in daily files
/// (the returned guard flushes them at exit).
fn init_logging(config: &Config, paths: &DataPaths) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .or_else(|_| tracing_subscriber::EnvFilter::try_new(&config.log.level))
            .with_context(|| format!("config key `log.level`: `{}` is not a valid filter", config.log.level))
    };
    // The task log keeps the model transcript and the commands' output too; the console stays readable.
    let task_filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("codingworker::transcript", tracing::Level::DEBUG)
        .with_target("codingworker::output", tracing::Level::DEBUG);
    let task_log = TaskLogLayer::new(paths.logs.clone()).with_filter(task_filter);
    let (file_layer, guard) = match &config.log.dir {
        Some(dir) => {
            let dir = codingworker_worker::expand_home(dir);
            // The appender prunes old files before it creates the directory, and says so on stderr.
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("config key `log.dir`: cannot create {}", dir.display()))?;
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("worker")
                .filename_suffix("log")
                .max_log_files(usize::try_from(config.worker.log_retention_days).unwrap_or(30))
                .build(&dir)
                .with_context(|| format!("config key `log.dir`: cannot write logs in {}", dir.display()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).with_filter(filter()?);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let registry = tracing_subscriber::registry().with(task_log).with(file_layer);
    if config.log.format == "json" {
        registry
            .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(filter()?))
            .try_init()?;
    } else {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false)
                    .compact()
                    .with_filter(filter()?),
            )
            .try_init()?;
    }
    Ok(guard)
}

/// Turns true on Ctrl-C or SIGTERM, so the worker can hand its message back before exiting.
fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    let (sender, receiver) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    let _ = sender.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!(
            "shutting down: no new tasks; a running one may finish within worker.shutdown_grace_secs, else it goes back to the queue"
        );
        let _ = sender.send(true);
    });
    receiver
}

async fn bench(config: Config, paths: &DataPaths, args: BenchArgs) -> Result<std::process::ExitCode> {
    use codingworker_bench::{AiderOptions, RunReport, compare_markdown, load_suite, run_aider, run_pipeline};
    let read = |p: &PathBuf| -> Result<RunReport> {
        let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a bench report", p.display()))
    };
    if let Some(file) = &args.render {
        print!("{}", read(file)?.markdown());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Some(files) = &args.compare {
        let (a, b) = match files.as_slice() {
            [a, b] => (read(a)?, read(b)?),
            _ => bail!("--compare takes two report files"),
        };
        println!("{}", compare_markdown(&a, &b));
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if let Some(agent) = args.agents.iter().find(|a| !matches!(a.as_str(), "builtin" | "openhands")) {
        bail!("--agents takes builtin and openhands, not `{agent}`");
    }
    if let Some((i, agent)) = args.agents.iter().enumerate().find(|(i, a)| args.agents[..*i].contains(a)) {
        bail!("--agents names `{agent}` twice (entry {}): each agent runs every task once", i + 1);
    }
    let tasks = load_suite(&args.suite, args.only.as_deref())?;
    let llm = config.llm_config()?;
    let client = LlmClient::new(llm.clone())?;
    check_model_at_startup(&client).await?;
    // One attempt per task: the bench measures the agent, not the queue's retries.
    let mut config = config;
    config.queue.max_receives = 1;
    // Its tasks are this project's own, and aider, the peer it is compared with, runs on the host too.
    config.sandbox.mode = "host".into();
    config.queue.retry_delay_secs = 0;
    let budget = std::time::Duration::from_secs(args.time_budget_secs);
    let aider = args.peer_aider.as_ref().map(|program| AiderOptions {
        program: program.clone(),
        base_url: llm.base_url.clone(),
        model: llm.model.clone(),
        temperature: config.agent.temperature,
    });
    let started_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Kept after the run: each task's log, transcript and aider's output explain the table's "why not" column.
    let work = std::env::temp_dir().join(format!("codingworker-bench-{}", started_at.replace(':', "")));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    eprintln!(
        "work files (repositories, aider output) go to {}; task logs with transcripts to {}",
        work.display(),
        paths.logs.display()
    );
    let mut report = RunReport {
        started_at,
        model: llm.model.clone(),
        model_server: llm.base_url.clone(),
        temperature: config.agent.temperature,
        suite: args.suite.display().to_string(),
        results: Vec::new(),
        summaries: Vec::new(),
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let stem = args.out.join(report.started_at.replace(':', ""));
    let json_path = stem.with_extension("json");
    let md_path = stem.with_extension("md");
    // Written after every task, so a run cut short keeps what it measured.
    let save = |report: &mut RunReport| -> Result<String> {
        report.summaries = report.agents().iter().map(|a| report.summary(a)).collect();
        std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
        let markdown = report.markdown();
        std::fs::write(&md_path, &markdown)?;
        Ok(markdown)
    };
    for (i, task) in tasks.iter().enumerate() {
        eprintln!("[{}/{}] {} ({}, {}): {}", i + 1, tasks.len(), task.id, task.language, task.difficulty, task.title);
        let dir = work.join(&task.id);
        for agent in &args.agents {
            let mut config = config.clone();
            config.agent.backend = agent.clone();
            let label = if agent == "openhands" { "openhands" } else { "codingworker" };
            settle_model(&client).await;
            let ours = run_pipeline(task, &config, &dir.join(label), budget).await?;
            eprintln!(
                "    {label:<13} verdict {}, {} by the hidden tests, in {:.0}s",
                ours.verdict.as_deref().unwrap_or("none"),
                if ours.solved { "solved" } else { "not solved" },
                ours.wall_secs
            );
            report.results.push(ours);
        }
        if let Some(aider) = &aider {
            settle_model(&client).await;
            let theirs = run_aider(task, aider, &dir.join("aider"), budget).await?;
            eprintln!(
                "    aider:        {} in {:.0}s",
                if theirs.solved { "solved" } else { "not solved" },
                theirs.wall_secs
            );
            report.results.push(theirs);
        }
        save(&mut report)?;
    }
    let markdown = save(&mut report)?;
    println!("{markdown}\nwritten: {} and {}", json_path.display(), md_path.display());
    Ok(std::process::ExitCode::SUCCESS)
}

/// Waits until the model server is free before an agent's task starts its clock. A one-slot server (llama.cpp's)
/// goes on generating for a client the bench stopped at its cap (a stopped aider request ran on to 6,090 tokens,
/// 609 s, in one run), and the next agent's first call would wait out that generation on its own clock. A one-token
/// request queues behind it; `chat` already retries transient failures, and a server that still does not answer is
/// left to the task to report.
async fn settle_model(client: &LlmClient) {
    let started = std::time::Instant::now();
    let probe = codingworker_llm::ChatRequest {
        messages: vec![codingworker_llm::ChatMessage::user("ok")],
        temperature: 0.0,
        max_tokens: Some(1),
        stop: Vec::new(),
        seed: Some(0),
    };
    let answered = client.chat(&probe).await;
    let waited = started.elapsed().as_secs_f64();
    match answered {
        Err(e) => eprintln!("    (the model server did not answer a one-token request in {waited:.0}s: {e})"),
        Ok(_) if waited > 5.0 => eprintln!("    (waited {waited:.0}s for the model server to be free)"),
        Ok(_) => {}
    }
}

/// The `owner/name` a task of `args` is for.
fn task_repository(args: &TaskArgs) -> Result<String> {
    Ok(match &args.name {
        Some(name) => name.clone(),
        None => format!("local/{}", repo_dir_name(&resolve_repo(&args.repo)?)),
    })
}

async fn submit(queue: &dyn Queue, store: &Store, args: &TaskArgs, project: &str) -> Result<String> {
    let (title, body) = match (&args.issue_file, &args.title) {
        (Some(file), _) => read_issue_file(file)?,
        (None, Some(title)) => (title.clone(), args.body.clone().unwrap_or_default()),
        (None, None) => bail!("say what to do: pass --issue-file FILE, or --title TEXT --body TEXT"),
    };
    let clone_url = resolve_repo(&args.repo)?;
    let full_name = match &args.name {
        Some(name) => name.clone(),
        None => format!("local/{}", repo_dir_name(&clone_url)),
    };
    let (owner, name) = full_name.split_once('/').context("--name must look like owner/name")?;
    let agent = match args.agent.as_deref() {
        Some("openhands") => Some(codingworker_protocol::AgentKind::Openhands),
        Some(_) => Some(codingworker_protocol::AgentKind::Builtin),
        None => None,
    };
    let overrides = Overrides { base_branch: args.base.clone(), agent, model: args.model.clone() };
    let message = local_task_message(owner, name, &clone_url, args.issue, &title, &body, overrides)
        .context("the task is not valid")?;
    let body = message.to_json()?;
    // Parse our own output once: what we enqueue must be what a worker accepts.
    TaskMessage::parse(&body)?;
    queue.send(&body).await?;
    store.upsert_task(&codingworker_store::NewTask {
        task_id: message.task_id.clone(),
        project: project.to_owned(),
        repository: message.repository_full_name(),
        issue_number: message.issue.number,
        title: message.issue.title.clone(),
        message_json: body,
    })?;
    Ok(message.task_id)
}

fn read_issue_file(path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the issue file {}", path.display()))?;
    let mut lines = text.lines();
    let title = lines.next().unwrap_or_default().trim().trim_start_matches('#').trim().to_owned();
    if title.is_empty() {
        bail!("{}: the first line must be the issue title", path.display());
    }
    Ok((title, lines.collect::<Vec<_>>().join("\n").trim().to_owned()))
}

fn resolve_repo(repo: &str) -> Result<String> {
    if repo.contains("://") {
        return Ok(repo.to_owned());
    }
    let path = std::fs::canonicalize(repo)
        .with_context(|| format!("--repo {repo}: no such directory (pass a local path or a clone URL)"))?;
    path.to_str().map(str::to_owned).context("the repository path is not valid UTF-8")
}

fn repo_dir_name(clone_url: &str) -> String {
    let last = clone_url.trim_end_matches('/').rsplit('/').next().unwrap_or("repo");
    let name: String =
        last.trim_end_matches(".git").chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
    if name.is_empty() || name.starts_with('.') { "repo".into() } else { name }
}

fn token(command: TokenCommand, config: &Config) -> Result<std::process::ExitCode> {
    use std::io::IsTerminal as _;
    let entry = codingworker_forge::keyring_entry()?;
    match command {
        TokenCommand::Set => {
            let token = if std::io::stdin().is_terminal() {
                rpassword::prompt_password("GitHub token (input hidden): ")?
            } else {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                text
            };
            let token = token.trim();
            if token.is_empty() {
                bail!("no token given; paste it at the prompt or pipe it in");
            }
            entry.set_password(token).map_err(|e| {
                anyhow::anyhow!(
                    "cannot store the token in the OS keyring ({e}); on a headless machine use \
                     CODINGWORKER_GITHUB_TOKEN or forge.token_file instead"
                )
            })?;
            println!(
                "stored in the OS keyring as {}/{}",
                codingworker_forge::KEYRING_SERVICE,
                codingworker_forge::KEYRING_USER
            );
        }
        TokenCommand::Status => match codingworker_worker::github_token(config) {
            Ok((_, source)) => println!("a GitHub token is set: {source:?}"),
            Err(e) => {
                println!("{e}");
                return Ok(std::process::ExitCode::FAILURE);
            }
        },
        TokenCommand::Delete => match entry.delete_credential() {
            Ok(()) => println!("removed from the OS keyring"),
            Err(keyring::Error::NoEntry) => println!("the OS keyring holds no CodingWorker token"),
            Err(e) => bail!("cannot reach the OS keyring: {e}"),
        },
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn status(store: &Store, queues: &[NamedQueue], limit: usize, json: bool) -> Result<()> {
    let tasks = store.list_tasks(limit)?;
    let mut depths = Vec::new();
    let mut dead = Vec::new();
    for named in queues {
        let describe = format!("{} ({})", named.queue.describe(), named.project);
        depths.push((named.project.clone(), describe, named.queue.depth().await?));
        dead.extend(named.queue.dead_letters(limit).await?);
    }
    if json {
        let value = serde_json::json!({
            "queues": depths.iter().map(|(project, describe, depth)| serde_json::json!({
                "project": project, "describe": describe, "visible": depth.visible, "in_flight": depth.in_flight,
                "delayed": depth.delayed, "dead": depth.dead,
            })).collect::<Vec<_>>(),
            "tasks": tasks,
            "dead_letters": dead.iter().map(|d| serde_json::json!({
                "message_id": d.message_id, "receive_count": d.receive_count, "reason": d.reason, "dead_at": d.dead_at,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    for (_, describe, depth) in &depths {
        println!(
            "queue {describe}: {} waiting, {} in flight, {} waiting to retry, {} dead-lettered",
            depth.visible, depth.in_flight, depth.delayed, depth.dead
        );
    }
    if tasks.is_empty() {
        println!("no tasks yet: try `codingworker run --help`");
    }
    for t in &tasks {
        println!(
            "{:<12} {:<13} {:>2} attempt(s)  {} #{} {}",
            short_id(&t.task_id),
            t.state.as_str(),
            t.attempts,
            t.repository,
            t.issue_number,
            t.title
        );
    }
    for d in &dead {
        println!("dead letter {} after {} receive(s): {}", d.message_id, d.receive_count, d.reason);
    }
    Ok(())
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn print_detail(store: &Store, task: &str, json: bool) -> Result<()> {
    let Some(detail) = store.task_detail(task)? else {
        bail!("no task matches `{task}`; `codingworker status` lists them");
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
        return Ok(());
    }
    print_human(&detail);
    Ok(())
}

fn print_human(detail: &TaskDetail) {
    let t = &detail.task;
    println!("task {}  [{}]", t.task_id, t.state.as_str());
    println!("  {} #{}: {}", t.repository, t.issue_number, t.title);
    if let Some(error) = &t.last_error {
        println!("  last error: {error}");
    }
    for a in &detail.attempts {
        println!(
            "  attempt {} {:?}: {} LLM call(s), {} prompt + {} completion tokens{}",
            a.number,
            a.status,
            a.llm_calls,
            a.prompt_tokens,
            a.completion_tokens,
            a.error.as_ref().map(|e| format!("; {e}")).unwrap_or_default()
        );
        if let Some(log) = &a.log_path {
            println!("    log: {log}");
        }
    }
    println!("  events:");
    for e in &detail.events {
        println!("    {} {:<16} {}", e.at.format("%H:%M:%S"), e.kind, e.detail);
    }
    if let Some(pr) = &detail.pull_request {
        println!(
            "  pull request #{} ({}): {}\n    {} -> {} at {}",
            pr.number,
            if pr.verified { "verified" } else { "unverified" },
            pr.title,
            pr.head_branch,
            pr.base_branch,
            short_id(&pr.head_commit)
        );
        for line in pr.body.lines() {
            println!("    | {line}");
        }
    }
}

/// What `doctor` says about the model's context: a line, and pass (`Some(true)`), fail, or only a warning
/// (`None`: the server does not report it). The OpenHands backend needs [`codingworker_openhands::MIN_CONTEXT_TOKENS`].
fn context_check(
    config: &Config,
    protocol: codingworker_llm::Protocol,
    reported: Result<Option<(u32, &'static str)>, codingworker_llm::LlmError>,
) -> (String, Option<bool>) {
    let openhands = config.agent.backend == "openhands";
    let need = codingworker_openhands::MIN_CONTEXT_TOKENS;
    let asked = config.openhands.context_tokens;
    match (reported, protocol) {
        (Ok(Some((most, source))), codingworker_llm::Protocol::Ollama) if openhands => (
            format!(
                "OpenHands asks Ollama for num_ctx = {asked} (openhands.context_tokens; it needs {need}); the model takes up to {most} ({source})"
            ),
            Some(asked >= need && asked <= most),
        ),
        (Ok(Some((tokens, source))), _) => {
            let ok = !openhands || tokens >= need;
            let need_line = if openhands { format!("; the OpenHands backend needs {need}") } else { String::new() };
            (format!("{tokens} tokens ({source}){need_line}"), Some(ok))
        }
        (Ok(None), _) => (
            format!(
                "the server does not report its context size (llama-cpp-python); {}",
                if openhands {
                    format!(
                        "the OpenHands backend needs {need}: start it with --n_ctx 32768 (CODINGWORKER_MODEL_CTX=32768 scripts/model-server.sh)"
                    )
                } else {
                    format!("llm.context_tokens assumes {}", config.llm.context_tokens)
                }
            ),
            None,
        ),
        (Err(e), _) => (format!("could not read it: {e}"), None),
    }
}

async fn doctor(config: &Config, paths: &DataPaths) -> Result<std::process::ExitCode> {
    let mut failures = 0;
    let mut check = |ok: bool, what: &str, detail: String| {
        println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures += 1;
        }
    };
    check(true, "config", "valid".into());
    check(true, "data directory", paths.root.display().to_string());
    match std::process::Command::new("git").arg("--version").output() {
        Ok(out) if out.status.success() => check(true, "git", String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        _ => check(false, "git", "not found on PATH; install git".into()),
    }
    match codingworker_worker::housekeeping::free_mb(&paths.root) {
        Some(mib) => check(mib >= 1024, "disk", format!("{mib} MiB free under {}", paths.root.display())),
        None => check(false, "disk", "could not read free space (df failed)".into()),
    }
    match Store::open(&paths.store) {
        Ok(_) => check(true, "task store", paths.store.display().to_string()),
        Err(e) => check(false, "task store", e.to_string()),
    }
    let llm_config = config.llm_config()?;
    let endpoint = format!("{} ({:?})", llm_config.base_url, llm_config.protocol);
    let protocol = llm_config.protocol;
    match LlmClient::new(llm_config) {
        Ok(client) => {
            match client.check_model().await {
                Ok(found) => check(true, "model", format!("{} served at {endpoint}", found.model)),
                Err(e) => check(false, "model", e.to_string()),
            }
            let (line, ok) = context_check(config, protocol, client.context_size().await);
            match ok {
                Some(ok) => check(ok, "model context", line),
                None => println!("warn model context: {line}"),
            }
        }
        Err(e) => check(false, "model client", e.to_string()),
    }
    if config.forge.kind == "github" {
        match codingworker_worker::github_token(config) {
            Ok((_, source)) => check(true, "GitHub token", format!("from {source:?}; API {}", config.forge.api_url)),
            Err(e) => check(false, "GitHub token", e.to_string()),
        }
    } else {
        check(true, "forge", "local (pull requests recorded in the task store)".into());
    }
    if config.sandbox.mode == "docker" || config.agent.backend == "openhands" {
        match codingworker_worker::connect_sandbox(config, paths, false).await {
            Ok(_) => check(
                true,
                "sandbox",
                if config.sandbox.mode == "docker" {
                    format!("Docker answers; image {} present (sandbox.mode = docker)", config.sandbox.image)
                } else {
                    "Docker answers (for the OpenHands container); the tests run on this machine (sandbox.mode = \
                     host)"
                        .into()
                },
            ),
            Err(e) => check(false, "sandbox", e.to_string()),
        }
    } else {
        check(true, "sandbox", "host mode: commands run unisolated on this machine (trusted repositories only)".into());
    }
    if config.agent.backend == "openhands" {
        let image = &config.openhands.image;
        let present = match codingworker_sandbox::DockerSandbox::connect(config.docker_options("doctor")).await {
            Ok(docker) => docker.has_image(image).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match present {
            Ok(true) => check(true, "OpenHands image", format!("{image} present")),
            Ok(false) => check(
                false,
                "OpenHands image",
                format!(
                    "{image} is not in the Docker engine: build it with scripts/openhands-image.sh (no registry \
                     needed) or `docker build -t {image} deploy/openhands`"
                ),
            ),
            Err(e) => check(false, "OpenHands image", e),
        }
    }
    let projects = config.projects();
    for project in projects.iter().filter(|_| projects.len() > 1) {
        let own = &project.config;
        let tests =
            if own.agent.test_command.is_empty() { "detected".to_owned() } else { own.agent.test_command.join(" ") };
        check(
            true,
            "project",
            format!(
                "{}: model {}, tests {tests}, image {}, {} agent, budget {}s, label {}, up to {} at once",
                project.name,
                own.llm.model,
                own.sandbox.image,
                own.agent.backend,
                own.agent.time_budget_secs,
                own.forge.trigger_label,
                project.concurrency
            ),
        );
        if own.llm.model != config.llm.model {
            match LlmClient::new(own.llm_config()?)?.check_model().await {
                Ok(found) => check(true, "project model", format!("{} ({}) served", found.model, project.name)),
                Err(e) => check(false, "project model", format!("{}: {e}", project.name)),
            }
        }
    }
    if config.fallback.enabled {
        for endpoint in codingworker_worker::fallback::endpoints(config)? {
            let where_ = format!("{} at {}", endpoint.name, endpoint.client.config().base_url);
            match endpoint.client.check_model().await {
                Ok(found) => check(true, "fallback model", format!("{} served by {where_}", found.model)),
                Err(e) => check(false, "fallback model", format!("{where_}: {e}")),
            }
        }
        let cap = config.fallback.monthly_spend_cap_usd;
        match Store::open(&paths.store).and_then(|store| codingworker_worker::fallback::month_to_date(&store)) {
            Ok((month, spent)) => check(
                true,
                "fallback spend",
                format!(
                    "{} of the {} monthly cap spent since {}{}",
                    codingworker_worker::fallback::dollars(spent),
                    codingworker_worker::fallback::dollars(cap),
                    month.format("%Y-%m-%d"),
                    if spent >= cap { ": reached, tasks use the local model only" } else { "" }
                ),
            ),
            Err(e) => check(false, "fallback spend", e.to_string()),
        }
    } else {
        check(true, "fallback", "off: no model call leaves this machine (fallback.enabled = false)".into());
    }
    match open_queues(config, paths).await {
        Ok(queues) => {
            let names: Vec<String> = queues.iter().map(|q| format!("{} ({})", q.queue.describe(), q.project)).collect();
            check(true, "queue", names.join(", "));
        }
        Err(e) => check(false, "queue", e.to_string()),
    }
    if failures == 0 {
        println!("all checks passed");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("{failures} check(s) failed");
        Ok(std::process::ExitCode::FAILURE)
    }
}

/// The documentation cannot rot silently: every `codingworker` command in README.md and docs/ must parse with this
/// binary's arguments, and every repository path a documented command names must exist.
#[cfg(test)]
mod docs_commands {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::Cli;
    use clap::Parser as _;
    use std::path::{Path, PathBuf};

    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Every line of every ```sh / ```bash / ```console block, comments and continuation backslashes removed.
    fn documented_commands() -> Vec<(String, String)> {
        let root = repository();
        let mut files = vec![root.join("README.md")];
        let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
            .collect();
        docs.sort();
        files.extend(docs);
        let mut commands = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let mut in_block = false;
            let mut pending = String::new();
            for line in text.lines() {
                let trimmed = line.trim_start();
                if trimmed.starts_with("```") {
                    in_block = !in_block && ["```sh", "```bash", "```console"].iter().any(|f| trimmed.starts_with(f));
                    continue;
                }
                if !in_block {
                    continue;
                }
                let code = line.split(" #").next().unwrap_or("").trim();
                if code.starts_with('#') || code.is_empty() {
                    continue;
                }
                pending.push_str(code.trim_end_matches('\\'));
                pending.push(' ');
                if !code.ends_with('\\') {
                    let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
                    commands.push((name, pending.trim().to_owned()));
                    pending.clear();
                }
            }
        }
        commands
    }

    /// Splits like a shell for the simple commands docs hold: whitespace, and double or single quotes.
    fn words(command: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut current = String::new();
        let mut quote = None;
        for c in command.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => {
                    if !current.is_empty() {
                        words.push(std::mem::take(&mut current));
                    }
                }
                (_, c) => current.push(c),
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
        words
    }

    #[test]
    fn every_documented_codingworker_command_parses() {
        let commands = documented_commands();
        let ours: Vec<&(String, String)> = commands.iter().filter(|(_, c)| c.starts_with("codingworker ")).collect();
        assert!(ours.len() >= 8, "the docs' commands were not found: {ours:?}");
        for (file, command) in ours {
            let argv = words(command);
            if let Err(e) = Cli::try_parse_from(&argv) {
                panic!("{file}: `{command}` does not parse:\n{e}");
            }
        }
    }

    #[test]
    fn every_repository_path_a_documented_command_names_exists() {
        let root = repository();
        let prefixes = ["scripts/", "deploy/", "infra/", "crates/", "examples/", "integrations/", "docs/", "bench/"];
        let mut checked = 0;
        for (file, command) in documented_commands() {
            // What a command creates (the destination of `cp`) need not exist yet.
            let created: Vec<String> = command
                .split("&&")
                .map(words)
                .filter(|segment| segment.first().is_some_and(|w| w == "cp"))
                .filter_map(|mut segment| segment.pop())
                .collect();
            for word in words(&command) {
                let word = word.trim_end_matches([';', ')']);
                if created.iter().any(|c| c == word) {
                    continue;
                }
                if prefixes.iter().any(|p| word.starts_with(p)) && !word.contains('<') && !word.contains("my-repo") {
                    let path = word.split(':').next().unwrap_or(word);
                    assert!(root.join(path).exists(), "{file}: `{command}` names {path}, which does not exist");
                    checked += 1;
                }
            }
        }
        assert!(checked >= 10, "only {checked} paths found");
    }
}
