//! Runs agent commands (tests, builds) with limits: a timeout that kills the whole process group, bounded
//! output, and an environment allow-list so secrets in the worker's environment never reach the command.
//! [`HostExecutor`] runs them on the host (trusted local use); [`DockerSandbox`] runs them in a container per
//! attempt; [`Executor`] is whichever of the two an attempt uses.

mod docker;
mod relay;

pub use docker::{
    ATTEMPT_LABEL, ContainerJob, DockerOptions, DockerSandbox, JobResult, SandboxSession, Service, ServiceSpec,
    WORKER_LABEL, WORKSPACE,
};
pub use relay::TcpRelay;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::Command;

/// Variables passed through from the worker's environment; everything else is dropped.
const PASSED_ENV: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "CARGO_HOME", "RUSTUP_HOME"];

/// One command to run.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// Extra variables for this command.
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    /// Output kept per stream: the head and the tail, with a marker where the middle was cut.
    pub max_output_bytes: usize,
}

impl CommandSpec {
    pub fn new(argv: &[String], cwd: PathBuf, timeout: Duration) -> Self {
        let (program, args) = argv.split_first().map(|(p, a)| (p.clone(), a.to_vec())).unwrap_or_default();
        Self { program, args, cwd, env: Vec::new(), timeout, max_output_bytes: 64 * 1024 }
    }

    /// The command as a person would type it.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
    }
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub duration: Duration,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        !self.timed_out && self.exit_code == Some(0)
    }

    /// The last `max_chars` of stdout and stderr together, for prompts and logs.
    pub fn combined_tail(&self, max_chars: usize) -> String {
        let mut text = String::new();
        if !self.stdout.trim().is_empty() {
            text.push_str(self.stdout.trim_end());
            text.push('\n');
        }
        if !self.stderr.trim().is_empty() {
            text.push_str(self.stderr.trim_end());
            text.push('\n');
        }
        if self.timed_out {
            text.push_str(&format!("[timed out after {:.0?}]\n", self.duration));
        }
        tail_chars(&text, max_chars)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot start `{program}`: {source} (is it installed and on PATH?)")]
    Spawn { program: String, source: std::io::Error },
    #[error("running `{program}`: {source}")]
    Io { program: String, source: std::io::Error },
    #[error("Docker sandbox, {context}: {message}")]
    Docker { context: String, message: String },
}

impl SandboxError {
    /// A missing program stays missing; other I/O trouble may pass.
    pub fn is_retryable(&self) -> bool {
        match self {
            SandboxError::Spawn { source, .. } => source.kind() != std::io::ErrorKind::NotFound,
            SandboxError::Io { .. } => true,
            SandboxError::Docker { .. } => true,
        }
    }
}

/// Where an attempt's commands run.
pub enum Executor {
    /// Directly on the host: trusted repositories only (`sandbox.mode = "host"`).
    Host(HostExecutor),
    /// In the attempt's own container.
    Docker(SandboxSession),
}

impl Executor {
    pub async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, SandboxError> {
        match self {
            Executor::Host(host) => host.run(spec).await,
            Executor::Docker(session) => session.run(spec).await,
        }
    }

    /// Removes the attempt's container, if any.
    pub async fn finish(self) {
        if let Executor::Docker(session) = self {
            session.remove().await;
        }
    }
}

/// Runs commands directly on the host: only for trusted repositories (the Docker sandbox isolates the rest).
#[derive(Debug, Clone, Default)]
pub struct HostExecutor;

impl HostExecutor {
    pub fn new() -> Self {
        Self
    }

    pub async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, SandboxError> {
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .current_dir(&spec.cwd)
            .env_clear()
            .envs(PASSED_ENV.iter().filter_map(|name| std::env::var(name).ok().map(|v| (*name, v))))
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own process group, so a timeout also kills what the command started (test runners fork).
        #[cfg(unix)]
        command.process_group(0);
        let started = Instant::now();
        let mut child =
            command.spawn().map_err(|source| SandboxError::Spawn { program: spec.program.clone(), source })?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let limit = spec.max_output_bytes;
        let read_out = tokio::spawn(read_bounded(stdout, limit));
        let read_err = tokio::spawn(read_bounded(stderr, limit));
        let (exit_code, timed_out) = match tokio::time::timeout(spec.timeout, child.wait()).await {
            Ok(status) => {
                let status = status.map_err(|source| SandboxError::Io { program: spec.program.clone(), source })?;
                (status.code(), false)
            }
            Err(_) => {
                kill_group(pid);
                let _ = child.kill().await;
                (None, true)
            }
        };
        // Children that outlive the main process would keep the pipes open; the group kill covers timeouts,
        // and a short grace bounds the wait otherwise.
        let grace = Duration::from_secs(5);
        let stdout = tokio::time::timeout(grace, read_out).await.ok().and_then(Result::ok).unwrap_or_default();
        let stderr = tokio::time::timeout(grace, read_err).await.ok().and_then(Result::ok).unwrap_or_default();
        // Into the attempt log too, as the Docker sandbox streams it (here once the command is done).
        docker::stream_to_log("stdout", stdout.as_bytes());
        docker::stream_to_log("stderr", stderr.as_bytes());
        Ok(CommandOutput { exit_code, stdout, stderr, timed_out, duration: started.elapsed() })
    }
}

#[cfg(unix)]
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals the process group we created; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: Option<u32>) {}

/// Reads a stream to the end, keeping at most `limit` bytes: the first half and the last half.
async fn read_bounded<R: tokio::io::AsyncRead + Unpin>(stream: Option<R>, limit: usize) -> String {
    let Some(mut stream) = stream else { return String::new() };
    let half = limit / 2;
    let mut head = Vec::new();
    let mut tail: std::collections::VecDeque<u8> = std::collections::VecDeque::new();
    let mut dropped = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                for &b in &buf[..n] {
                    if head.len() < half {
                        head.push(b);
                    } else {
                        tail.push_back(b);
                        if tail.len() > half {
                            tail.pop_front();
                            dropped += 1;
                        }
                    }
                }
            }
        }
    }
    let mut text = String::from_utf8_lossy(&head).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[... {dropped} bytes cut ...]\n"));
    }
    let tail: Vec<u8> = tail.into_iter().collect();
    text.push_str(&String::from_utf8_lossy(&tail));
    text
}

/// The last `max_chars` characters of `text`.
pub fn tail_chars(text: &str, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text.to_owned();
    }
    let skip = count - max_chars;
    format!("[...]{}", text.chars().skip(skip).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(script: &str, timeout: Duration) -> CommandSpec {
        CommandSpec::new(&["sh".to_string(), "-c".to_string(), script.to_string()], std::env::temp_dir(), timeout)
    }

    #[tokio::test]
    async fn exit_codes_and_output() {
        let out =
            HostExecutor::new().run(&spec("echo out; echo err >&2; exit 3", Duration::from_secs(10))).await.unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert!(!out.success());
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert!(out.combined_tail(100).contains("out\nerr"));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let started = Instant::now();
        let out = HostExecutor::new().run(&spec("sleep 30 & sleep 30", Duration::from_millis(300))).await.unwrap();
        assert!(out.timed_out);
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let mut s = spec("yes line | head -c 1000000", Duration::from_secs(10));
        s.max_output_bytes = 1000;
        let out = HostExecutor::new().run(&s).await.unwrap();
        assert!(out.stdout.len() < 1200, "{}", out.stdout.len());
        assert!(out.stdout.contains("bytes cut"));
    }

    #[tokio::test]
    async fn secrets_in_the_environment_do_not_reach_commands() {
        // SAFETY: set in this test only; no other test reads this variable.
        unsafe { std::env::set_var("CODINGWORKER_TEST_SECRET_TOKEN", "ghs_secret") };
        let mut s = spec("env", Duration::from_secs(10));
        s.env.push(("GIVEN".into(), "yes".into()));
        let out = HostExecutor::new().run(&s).await.unwrap();
        assert!(!out.stdout.contains("ghs_secret"));
        assert!(out.stdout.contains("GIVEN=yes"));
        assert!(out.stdout.contains("PATH="));
    }

    #[tokio::test]
    async fn a_missing_program_is_a_clear_permanent_error() {
        let s = CommandSpec::new(&["no-such-program-xyz".to_string()], std::env::temp_dir(), Duration::from_secs(5));
        let err = HostExecutor::new().run(&s).await.unwrap_err();
        assert!(err.to_string().contains("installed"));
        assert!(!err.is_retryable());
    }
}
