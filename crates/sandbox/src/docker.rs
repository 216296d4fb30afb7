//! The Docker sandbox: one container per attempt, through the Docker Engine API (bollard).
//!
//! The worktree is the only host path the container sees (at `/workspace`). The container runs as a non-root user
//! with every capability dropped, no new privileges, a read-only root filesystem (a small `/tmp` is writable),
//! memory, CPU and PID limits, and no network unless one is configured. It gets no environment from the worker,
//! so no token can leak into it, and it never sees the Docker socket. Every container carries the worker's label,
//! so a worker restarting after a crash removes what its previous run left behind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::{CommandOutput, CommandSpec, SandboxError};

/// Label every sandbox container carries; its value is the worker's id.
pub const WORKER_LABEL: &str = "dev.codingworker.worker";
/// Where the worktree appears inside the container.
pub const WORKSPACE: &str = "/workspace";

#[derive(Debug, Clone)]
pub struct DockerOptions {
    /// The toolchain image commands run in, e.g. `python:3.12-slim` (built or pulled beforehand).
    pub image: String,
    /// `uid:gid` inside the container; never 0.
    pub user: String,
    pub memory_bytes: i64,
    /// CPUs as billionths (2 CPUs = 2_000_000_000).
    pub nano_cpus: i64,
    pub pids_limit: i64,
    /// A Docker network to join (one that reaches only the model server, say); `None` means no network at all.
    pub network: Option<String>,
    /// Names this worker's containers, so only its own orphans are removed.
    pub worker_id: String,
}

impl Default for DockerOptions {
    fn default() -> Self {
        Self {
            image: "codingworker-sandbox:latest".into(),
            user: "10001:10001".into(),
            memory_bytes: 2 * 1024 * 1024 * 1024,
            nano_cpus: 2_000_000_000,
            pids_limit: 256,
            network: None,
            worker_id: "default".into(),
        }
    }
}

/// Connection to the Docker engine plus the limits every attempt's container gets.
pub struct DockerSandbox {
    docker: Docker,
    options: DockerOptions,
}

/// One attempt's running container.
pub struct SandboxSession {
    docker: Docker,
    container: String,
    worktree: PathBuf,
    user: String,
}

fn engine(context: &str, error: bollard::errors::Error) -> SandboxError {
    SandboxError::Docker { context: context.to_owned(), message: error.to_string() }
}

impl DockerSandbox {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket) and checks that it answers.
    pub async fn connect(options: DockerOptions) -> Result<Self, SandboxError> {
        if options.user.starts_with("0:") || options.user == "0" || options.user == "root" {
            return Err(SandboxError::Docker {
                context: "sandbox.user".into(),
                message: "commands must not run as root in the sandbox; use a uid:gid such as 10001:10001".into(),
            });
        }
        let docker = Docker::connect_with_local_defaults().map_err(|e| engine("connecting to Docker", e))?;
        docker.ping().await.map_err(|e| engine("Docker does not answer (is the engine running?)", e))?;
        Ok(Self { docker, options })
    }

    /// Starts the container for one attempt with `worktree` mounted; it lives at most `budget`, then exits.
    pub async fn start(
        &self,
        worktree: &Path,
        attempt: &str,
        budget: Duration,
    ) -> Result<SandboxSession, SandboxError> {
        let worktree = worktree
            .canonicalize()
            .map_err(|source| SandboxError::Io { program: format!("sandbox for {}", worktree.display()), source })?;
        let name: String = format!("codingworker-{attempt}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' })
            .collect();
        let labels = HashMap::from([
            (WORKER_LABEL.to_owned(), self.options.worker_id.clone()),
            ("dev.codingworker.attempt".to_owned(), attempt.to_owned()),
        ]);
        let host_config = HostConfig {
            binds: Some(vec![format!("{}:{WORKSPACE}", worktree.display())]),
            memory: Some(self.options.memory_bytes),
            memory_swap: Some(self.options.memory_bytes),
            nano_cpus: Some(self.options.nano_cpus),
            pids_limit: Some(self.options.pids_limit),
            network_mode: Some(self.options.network.clone().unwrap_or_else(|| "none".into())),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([("/tmp".to_owned(), "rw,nosuid,nodev,size=256m".to_owned())])),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(self.options.image.clone()),
            // The container's own clock: it ends with the attempt's budget even if the worker dies.
            cmd: Some(vec!["sleep".into(), budget.as_secs().max(1).to_string()]),
            user: Some(self.options.user.clone()),
            working_dir: Some(WORKSPACE.into()),
            env: Some(vec!["HOME=/tmp".into(), "PATH=/usr/local/bin:/usr/bin:/bin".into()]),
            labels: Some(labels),
            host_config: Some(host_config),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(CreateContainerOptionsBuilder::new().name(&name).build()), body)
            .await
            .map_err(|e| engine(&format!("creating the sandbox container from {}", self.options.image), e))?;
        let session = SandboxSession {
            docker: self.docker.clone(),
            container: created.id,
            worktree,
            user: self.options.user.clone(),
        };
        if let Err(e) = self.docker.start_container(&session.container, None).await {
            session.remove().await;
            return Err(engine("starting the sandbox container", e));
        }
        Ok(session)
    }

    /// Removes every container this worker's earlier runs left (a crash or a kill mid-attempt). Returns how many.
    pub async fn remove_orphans(&self) -> Result<usize, SandboxError> {
        let filters = HashMap::from([("label", vec![format!("{WORKER_LABEL}={}", self.options.worker_id)])]);
        let found = self
            .docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
            .await
            .map_err(|e| engine("listing sandbox containers", e))?;
        let mut removed = 0;
        for container in found {
            if let Some(id) = container.id {
                let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
                if self.docker.remove_container(&id, Some(options)).await.is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

impl SandboxSession {
    /// The container's id, for logs.
    pub fn id(&self) -> &str {
        &self.container
    }

    /// Runs one command inside the container. A command that outlives its timeout kills the container: the
    /// attempt cannot trust a sandbox with a runaway process in it.
    pub async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, SandboxError> {
        let relative = spec.cwd.strip_prefix(&self.worktree).unwrap_or(Path::new(""));
        let cwd = Path::new(WORKSPACE).join(relative).display().to_string();
        let cmd: Vec<String> = std::iter::once(spec.program.clone()).chain(spec.args.iter().cloned()).collect();
        let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let started = Instant::now();
        let exec = self
            .docker
            .create_exec(
                &self.container,
                CreateExecOptions {
                    cmd: Some(cmd),
                    env: Some(env),
                    working_dir: Some(cwd),
                    user: Some(self.user.clone()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| engine(&format!("running `{}` in the sandbox", spec.display()), e))?;
        let started_exec = self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(|e| engine(&format!("running `{}` in the sandbox", spec.display()), e))?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut timed_out = false;
        if let StartExecResults::Attached { mut output, .. } = started_exec {
            let limit = spec.max_output_bytes;
            let collect = async {
                while let Some(Ok(chunk)) = output.next().await {
                    let (target, bytes) = match chunk {
                        bollard::container::LogOutput::StdErr { message } => (&mut stderr, message),
                        other => (&mut stdout, other.into_bytes()),
                    };
                    if target.len() < limit {
                        target.extend_from_slice(&bytes[..bytes.len().min(limit - target.len())]);
                    }
                }
            };
            if tokio::time::timeout(spec.timeout, collect).await.is_err() {
                timed_out = true;
                let kill = KillContainerOptionsBuilder::new().signal("KILL").build();
                let _ = self.docker.kill_container(&self.container, Some(kill)).await;
            }
        }
        let exit_code = if timed_out {
            None
        } else {
            self.docker
                .inspect_exec(&exec.id)
                .await
                .ok()
                .and_then(|inspect| inspect.exit_code)
                .and_then(|code| i32::try_from(code).ok())
        };
        Ok(CommandOutput {
            exit_code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            timed_out,
            duration: started.elapsed(),
        })
    }

    /// Stops and removes the container (and its anonymous volumes). Errors are ignored: a leftover is an orphan the
    /// next start-up removes.
    pub async fn remove(&self) {
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        let _ = self.docker.remove_container(&self.container, Some(options)).await;
    }
}
