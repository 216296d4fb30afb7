//! The Docker sandbox: one container per attempt, through the Docker Engine API (bollard).
//!
//! The worktree is the only host path the container sees (at `/workspace`). The container runs as a non-root user
//! with every capability dropped, no new privileges, a read-only root filesystem (a small `/tmp` is writable),
//! memory, CPU and PID limits, and no network unless one is configured. It gets no environment from the worker,
//! so no token can leak into it, and it never sees the Docker socket. Every container carries the worker's label,
//! so a worker restarting after a crash removes what its previous run left behind.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, ContainerCreateResponse, HostConfig, NetworkCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectNetworkOptions, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, WaitContainerOptions,
};
use futures_util::StreamExt;

use crate::{CommandOutput, CommandSpec, SandboxError};

mod service;
pub use service::{Service, ServiceSpec};

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
    /// The image has `timeout` (coreutils or busybox): a command over its limit is killed inside the container and
    /// the container stays usable. Without it the container is killed.
    has_timeout: bool,
}

/// A container that runs one program to its end (a whole agent such as OpenHands), rather than commands one by one.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ContainerJob {
    /// Names the container and labels it; the worker's label is added too.
    pub attempt: String,
    pub image: String,
    pub command: Vec<String>,
    /// `NAME=value`; nothing from the worker's own environment is passed.
    pub env: Vec<String>,
    /// `host-path:container-path[:ro]`.
    pub binds: Vec<String>,
    /// `name:address` lines for the container's /etc/hosts.
    pub extra_hosts: Vec<String>,
    /// `none`, `bridge` or a network's name.
    pub network: String,
    /// `uid:gid`; `None` keeps the image's user.
    pub user: Option<String>,
    pub working_dir: Option<String>,
}

/// How a [`ContainerJob`] ended.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// `None` when killed at the deadline or when the engine did not say.
    pub exit_code: Option<i64>,
    pub timed_out: bool,
    /// The last part of its output (stdout and stderr interleaved).
    pub output_tail: String,
    pub duration: Duration,
}

/// Output kept from a job for the error message and the store; the whole output is in the attempt log.
const JOB_TAIL_BYTES: usize = 8 * 1024;

/// Label naming the attempt a container belongs to.
pub const ATTEMPT_LABEL: &str = "dev.codingworker.attempt";

/// Removes a job's container however its run ends, including when the attempt's future is dropped at its
/// deadline.
struct RemoveOnDrop {
    docker: Docker,
    id: String,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let (docker, id) = (self.docker.clone(), std::mem::take(&mut self.id));
        if id.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = force_remove(&docker, &id).await;
            });
        }
    }
}

/// `auto`: the worker's own uid:gid, so files the commands write stay the worker's; a worker running as root
/// gets an unprivileged uid instead.
pub fn resolve_user(setting: &str) -> String {
    if setting != "auto" {
        return setting.to_owned();
    }
    // SAFETY: getuid(2) and getgid(2) have no preconditions and cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    if uid == 0 { "10001:10001".to_owned() } else { format!("{uid}:{gid}") }
}

/// When the container's user is not the worker's, lets it write the worktree (tests write caches and temporary
/// files). The worktree lives in the worker's private data directory, so no other local user can reach it.
fn open_up_for(worktree: &Path, container_user: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    // SAFETY: getuid(2) has no preconditions and cannot fail.
    let own_uid = unsafe { libc::getuid() };
    if container_user.split(':').next() == Some(own_uid.to_string().as_str()) {
        return;
    }
    let mut pending = vec![worktree.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.file_type().is_symlink() {
            continue;
        }
        let extra = if meta.is_dir() { 0o777 } else { 0o666 | (meta.permissions().mode() & 0o111) };
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(meta.permissions().mode() | extra));
        if meta.is_dir()
            && let Ok(entries) = std::fs::read_dir(&path)
        {
            pending.extend(entries.flatten().map(|e| e.path()));
        }
    }
}

/// A container name from an attempt id: Docker allows `[a-zA-Z0-9_.-]`.
fn container_name(attempt: &str) -> String {
    format!("codingworker-{attempt}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '-' })
        .collect()
}

/// Command output, as it arrives, into the attempt log (the task log file keeps target `codingworker::output`).
pub(crate) fn stream_to_log(stream: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        tracing::debug!(target: "codingworker::output", stream, "{line}");
    }
}

/// The gateway of an IPv4 subnet: the one Docker reports, or the subnet's first address (older engines).
fn gateway_of(gateway: Option<&str>, subnet: Option<&str>) -> Option<IpAddr> {
    if let Some(ip) = gateway.and_then(|g| g.parse::<Ipv4Addr>().ok()) {
        return Some(IpAddr::V4(ip));
    }
    let network: Ipv4Addr = subnet?.split('/').next()?.parse().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(u32::from(network) + 1)))
}

/// Stops and removes a container with its anonymous volumes.
async fn force_remove(docker: &Docker, id: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
    docker.remove_container(id, Some(options)).await
}

fn engine(context: &str, error: bollard::errors::Error) -> SandboxError {
    SandboxError::Docker { context: context.to_owned(), message: error.to_string() }
}

impl DockerSandbox {
    /// Connects to the local engine (`DOCKER_HOST` or the default socket) and checks that it answers.
    pub async fn connect(mut options: DockerOptions) -> Result<Self, SandboxError> {
        options.user = resolve_user(&options.user);
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

    /// The same engine and limits with another toolchain image: a project's own `sandbox_image`.
    pub fn with_image(&self, image: &str) -> Self {
        Self { docker: self.docker.clone(), options: DockerOptions { image: image.to_owned(), ..self.options.clone() } }
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
        let name = container_name(attempt);
        open_up_for(&worktree, &self.options.user);
        let labels = self.labels(attempt);
        let host_config = HostConfig {
            binds: Some(vec![format!("{}:{WORKSPACE}", worktree.display())]),
            network_mode: Some(self.options.network.clone().unwrap_or_else(|| "none".into())),
            cap_drop: Some(vec!["ALL".into()]),
            readonly_rootfs: Some(true),
            // Gone by itself when its clock runs out, even if the worker is gone too.
            auto_remove: Some(true),
            tmpfs: Some(HashMap::from([("/tmp".to_owned(), "rw,nosuid,nodev,size=256m".to_owned())])),
            ..self.limits()
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
        let created = self.create(&name, body).await?;
        let mut session = SandboxSession {
            docker: self.docker.clone(),
            container: created.id,
            worktree,
            user: self.options.user.clone(),
            has_timeout: false,
        };
        if let Err(e) = self.docker.start_container(&session.container, None).await {
            session.remove().await;
            return Err(engine("starting the sandbox container", e));
        }
        let probe = CommandSpec::new(
            &["timeout".into(), "5".into(), "true".into()],
            session.worktree.clone(),
            Duration::from_secs(30),
        );
        session.has_timeout = session.run(&probe).await.is_ok_and(|out| out.success());
        Ok(session)
    }

    async fn create(&self, name: &str, body: ContainerCreateBody) -> Result<ContainerCreateResponse, SandboxError> {
        let image = body.image.clone().unwrap_or_default();
        self.docker
            .create_container(Some(CreateContainerOptionsBuilder::new().name(name).build()), body)
            .await
            .map_err(|e| engine(&format!("creating a container from {image}"), e))
    }

    /// The labels that make a container this worker's: orphan removal finds it by them.
    fn labels(&self, attempt: &str) -> HashMap<String, String> {
        HashMap::from([
            (WORKER_LABEL.to_owned(), self.options.worker_id.clone()),
            (ATTEMPT_LABEL.to_owned(), attempt.to_owned()),
        ])
    }

    /// Memory, CPU and PID limits and no privilege escalation: what every container of the worker gets.
    fn limits(&self) -> HostConfig {
        HostConfig {
            memory: Some(self.options.memory_bytes),
            memory_swap: Some(self.options.memory_bytes),
            nano_cpus: Some(self.options.nano_cpus),
            pids_limit: Some(self.options.pids_limit),
            security_opt: Some(vec!["no-new-privileges".into()]),
            ..Default::default()
        }
    }

    /// Whether `image` is present in the engine: images are built or pulled beforehand, never during a task.
    pub async fn has_image(&self, image: &str) -> Result<bool, SandboxError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
            Err(e) => Err(engine(&format!("looking up image {image}"), e)),
        }
    }

    /// The options every attempt's container gets.
    pub fn options(&self) -> &DockerOptions {
        &self.options
    }

    /// Creates (once) an internal network: no route to the internet or the LAN, and the host only through the
    /// network's gateway address, where the worker's [`crate::TcpRelay`] forwards to the model server. Returns
    /// the gateway address.
    pub async fn ensure_internal_network(&self, name: &str) -> Result<IpAddr, SandboxError> {
        Ok(self.internal_network(name).await?.1)
    }

    /// [`Self::ensure_internal_network`], returning the network's ID with its gateway. Containers join it by ID:
    /// while another worker process's duplicate of the name exists (until it removes it), the name is ambiguous
    /// to Docker.
    pub async fn internal_network(&self, name: &str) -> Result<(String, IpAddr), SandboxError> {
        // Attempts start in parallel (several projects, several tests, several worker processes), and Docker does
        // not stop two creations of one name; a duplicated name can no longer be inspected by name, and a container
        // started while the duplicate exists fails ("network ... is ambiguous") even when it joins by ID. So: one
        // creation at a time in this process and, through a lock file, among this machine's worker processes; a
        // duplicate made anyway (another user, a lock file that cannot be opened) is removed, keeping the oldest.
        static SETUP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _setup = SETUP.lock().await;
        let _machine_lock = machine_lock(name).await;
        let mut found = self.networks_named(name).await?;
        if found.is_empty() {
            let request = NetworkCreateRequest {
                name: name.to_owned(),
                driver: Some("bridge".into()),
                internal: Some(true),
                labels: Some(HashMap::from([(WORKER_LABEL.to_owned(), self.options.worker_id.clone())])),
                ..Default::default()
            };
            // Another worker may have won the race; the listing below finds its network.
            if let Err(e) = self.docker.create_network(request).await {
                tracing::debug!("creating network {name}: {e}");
            }
            found = self.networks_named(name).await?;
        }
        found.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        let mut found = found.into_iter().filter_map(|network| network.id);
        let keep = found.next().ok_or_else(|| SandboxError::Docker {
            context: format!("creating the internal network {name}"),
            message: "the network is still missing after creating it".into(),
        })?;
        for duplicate in found {
            // In use by another worker's attempt: it stays, and the next start tries again.
            if let Err(e) = self.docker.remove_network(&duplicate).await {
                tracing::debug!("removing duplicate network {name} ({duplicate}): {e}");
            }
        }
        let inspected = self
            .docker
            .inspect_network(&keep, None::<InspectNetworkOptions>)
            .await
            .map_err(|e| engine(&format!("inspecting network {name}"), e))?;
        if inspected.internal != Some(true) {
            return Err(SandboxError::Docker {
                context: format!("network {name}"),
                message: "exists but is not internal (it could reach the internet); remove it with \
                          `docker network rm` and let the worker create it"
                    .into(),
            });
        }
        let gateway = inspected
            .ipam
            .and_then(|ipam| ipam.config)
            .unwrap_or_default()
            .into_iter()
            .find_map(|config| gateway_of(config.gateway.as_deref(), config.subnet.as_deref()));
        let gateway = gateway.ok_or_else(|| SandboxError::Docker {
            context: format!("network {name}"),
            message: "has no IPv4 gateway address for the model relay".into(),
        })?;
        Ok((keep, gateway))
    }

    /// The networks called exactly `name` (Docker's name filter also matches parts of names).
    async fn networks_named(&self, name: &str) -> Result<Vec<bollard::models::Network>, SandboxError> {
        let filters = HashMap::from([("name", vec![name])]);
        let options = bollard::query_parameters::ListNetworksOptionsBuilder::new().filters(&filters).build();
        let networks = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(|e| engine(&format!("listing networks named {name}"), e))?;
        Ok(networks.into_iter().filter(|n| n.name.as_deref() == Some(name)).collect())
    }

    /// Runs `job` as its own container to the end or to `budget`, whichever comes first, streaming its output
    /// into the attempt log. The container is removed afterwards either way.
    pub async fn run_job(&self, job: &ContainerJob, budget: Duration) -> Result<JobResult, SandboxError> {
        let name = container_name(&job.attempt);
        let host_config = HostConfig {
            binds: Some(job.binds.clone()),
            network_mode: Some(job.network.clone()),
            extra_hosts: (!job.extra_hosts.is_empty()).then(|| job.extra_hosts.clone()),
            ..self.limits()
        };
        let body = ContainerCreateBody {
            image: Some(job.image.clone()),
            cmd: Some(job.command.clone()),
            user: job.user.clone(),
            working_dir: job.working_dir.clone(),
            env: Some(job.env.clone()),
            labels: Some(self.labels(&job.attempt)),
            host_config: Some(host_config),
            ..Default::default()
        };
        let created = self.create(&name, body).await?;
        let mut guard = RemoveOnDrop { docker: self.docker.clone(), id: created.id };
        let started = Instant::now();
        let result = self.follow_job(&guard.id, budget, started).await;
        // Removed before returning, so the name is free for the next job; the guard covers cancellation only.
        let id = std::mem::take(&mut guard.id);
        let _ = force_remove(&self.docker, &id).await;
        result
    }

    async fn follow_job(&self, id: &str, budget: Duration, started: Instant) -> Result<JobResult, SandboxError> {
        self.docker.start_container(id, None).await.map_err(|e| engine("starting the container", e))?;
        let mut tail = std::collections::VecDeque::<u8>::new();
        let follow = async {
            let options = LogsOptionsBuilder::new().follow(true).stdout(true).stderr(true).build();
            let mut logs = self.docker.logs(id, Some(options));
            while let Some(Ok(chunk)) = logs.next().await {
                let stream =
                    if matches!(chunk, bollard::container::LogOutput::StdErr { .. }) { "stderr" } else { "stdout" };
                let bytes = chunk.into_bytes();
                stream_to_log(stream, &bytes);
                tail.extend(bytes.iter());
                while tail.len() > JOB_TAIL_BYTES {
                    tail.pop_front();
                }
            }
            let mut waits = self.docker.wait_container(id, None::<WaitContainerOptions>);
            match waits.next().await {
                Some(Ok(status)) => Some(status.status_code),
                // A non-zero exit arrives as an error carrying the code.
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Some(code),
                _ => None,
            }
        };
        let (exit_code, timed_out) = match tokio::time::timeout(budget, follow).await {
            Ok(code) => (code, false),
            Err(_) => {
                let kill = KillContainerOptionsBuilder::new().signal("KILL").build();
                let _ = self.docker.kill_container(id, Some(kill)).await;
                (None, true)
            }
        };
        let tail: Vec<u8> = tail.into_iter().collect();
        Ok(JobResult {
            exit_code,
            timed_out,
            output_tail: String::from_utf8_lossy(&tail).into_owned(),
            duration: started.elapsed(),
        })
    }

    /// Removes every container this worker's earlier runs left (a crash or a kill mid-attempt). Returns how many.
    pub async fn remove_orphans(&self) -> Result<usize, SandboxError> {
        self.remove_where(|_| true).await
    }

    /// Removes this worker's containers of attempts whose name starts with `prefix` (a task id): what a cancelled
    /// or interrupted attempt leaves when its work is dropped mid-way.
    pub async fn remove_attempts_of(&self, prefix: &str) -> Result<usize, SandboxError> {
        self.remove_where(|attempt| attempt.starts_with(prefix)).await
    }

    async fn remove_where(&self, wanted: impl Fn(&str) -> bool) -> Result<usize, SandboxError> {
        let filters = HashMap::from([("label", vec![format!("{WORKER_LABEL}={}", self.options.worker_id)])]);
        let found = self
            .docker
            .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
            .await
            .map_err(|e| engine("listing sandbox containers", e))?;
        let mut removed = 0;
        for container in found {
            let attempt = container.labels.as_ref().and_then(|l| l.get(ATTEMPT_LABEL)).map_or("", String::as_str);
            if let Some(id) = container.id.as_deref().filter(|_| wanted(attempt))
                && force_remove(&self.docker, id).await.is_ok()
            {
                removed += 1;
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

    /// Runs one command inside the container. A command over `spec.timeout` is killed inside the container by
    /// `timeout -s KILL` (coreutils' kills its whole process group), so the attempt goes on with the next command;
    /// if that does not end it within 10 s more, or the image has no `timeout`, the container is killed.
    pub async fn run(&self, spec: &CommandSpec) -> Result<CommandOutput, SandboxError> {
        let relative = spec.cwd.strip_prefix(&self.worktree).unwrap_or(Path::new(""));
        let cwd = Path::new(WORKSPACE).join(relative).display().to_string();
        let limit = spec.timeout.as_secs().max(1).to_string();
        let inner = ["timeout", "-s", "KILL", limit.as_str()].map(String::from);
        let cmd: Vec<String> = inner
            .into_iter()
            .filter(|_| self.has_timeout)
            .chain(std::iter::once(spec.program.clone()))
            .chain(spec.args.iter().cloned())
            .collect();
        let backstop = if self.has_timeout { spec.timeout + Duration::from_secs(10) } else { spec.timeout };
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
                    let (target, bytes, stream) = match chunk {
                        bollard::container::LogOutput::StdErr { message } => (&mut stderr, message, "stderr"),
                        other => (&mut stdout, other.into_bytes(), "stdout"),
                    };
                    stream_to_log(stream, &bytes);
                    if target.len() < limit {
                        target.extend_from_slice(&bytes[..bytes.len().min(limit - target.len())]);
                    }
                }
            };
            if tokio::time::timeout(backstop, collect).await.is_err() {
                timed_out = true;
                let kill = KillContainerOptionsBuilder::new().signal("KILL").build();
                let _ = self.docker.kill_container(&self.container, Some(kill)).await;
            }
        }
        let mut exit_code = if timed_out {
            None
        } else {
            self.docker
                .inspect_exec(&exec.id)
                .await
                .ok()
                .and_then(|inspect| inspect.exit_code)
                .and_then(|code| i32::try_from(code).ok())
        };
        // `timeout` ends with 124, or 137 when its KILL reached itself too; a quick 137 is an out-of-memory kill.
        if self.has_timeout && matches!(exit_code, Some(124 | 137)) && started.elapsed() >= spec.timeout {
            (timed_out, exit_code) = (true, None);
        }
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
        let _ = force_remove(&self.docker, &self.container).await;
    }
}

/// An exclusive lock on `<temp dir>/codingworker-network-<name>.lock`, held until the returned file is dropped:
/// worker processes on one machine create the network one at a time. `None` (and no waiting) when the file cannot
/// be opened or locked; the duplicate clean-up covers that case.
async fn machine_lock(name: &str) -> Option<std::fs::File> {
    let path = std::env::temp_dir().join(format!("codingworker-network-{name}.lock"));
    let locked = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .unwrap_or_else(|joined| Err(std::io::Error::other(joined)));
    locked.inspect_err(|e| tracing::debug!("no lock file for network {name}: {e}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_network_lock_file_admits_one_holder_at_a_time() {
        let name = format!("test-{}", std::process::id());
        let held = machine_lock(&name).await.expect("a lock file in the temp dir");
        let path = std::env::temp_dir().join(format!("codingworker-network-{name}.lock"));
        // Another open file description, as another worker process would have.
        let other = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        assert!(other.try_lock().is_err(), "held by the first");
        drop(held);
        other.try_lock().expect("free once the first is dropped");
        let _ = std::fs::remove_file(path);
    }
}
