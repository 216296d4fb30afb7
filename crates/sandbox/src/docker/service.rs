//! A long-running container the worker talks to over HTTP (the OpenHands agent-server), under the limits of
//! the sandbox: the sandbox user, no capabilities, no new privileges, a read-only root with a tmpfs `/tmp`,
//! memory, CPU and pids. Nothing of the host is mounted but what the spec binds; never the Docker socket.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{InspectContainerOptions, LogsOptionsBuilder};
use futures_util::StreamExt;

use super::{DockerSandbox, RemoveOnDrop, container_name, engine, force_remove, open_up_for};
use crate::SandboxError;

/// What to start. `network` is a network's ID or name, or `bridge`; the worker reaches the service at the
/// container's address on that network, except on `bridge`, where `port` is published on 127.0.0.1 (Docker
/// Desktop does not route to container addresses).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceSpec {
    /// Names the container and labels it (orphan removal finds it by the worker's label).
    pub attempt: String,
    pub image: String,
    /// `None` keeps the image's command.
    pub command: Option<Vec<String>>,
    /// `NAME=value`; nothing from the worker's own environment is passed.
    pub env: Vec<String>,
    /// `host-path:container-path[:ro|:rw]`; each host path is opened up for the sandbox user.
    pub binds: Vec<String>,
    /// `name:address` lines for the container's /etc/hosts.
    pub extra_hosts: Vec<String>,
    pub network: String,
    /// The TCP port the service listens on inside the container.
    pub port: u16,
    /// Size of the tmpfs mounted at /tmp (the only writable place besides the binds), MiB.
    pub tmp_mib: u32,
}

/// A started service. The container is removed when this is dropped, or at once with [`Service::remove`].
pub struct Service {
    docker: bollard::Docker,
    guard: RemoveOnDrop,
    /// Where the worker reaches the service.
    pub address: SocketAddr,
}

impl DockerSandbox {
    /// The container a [`ServiceSpec`] becomes: its create body as sent to the engine (tests read the mounts).
    pub fn service_body(&self, spec: &ServiceSpec) -> ContainerCreateBody {
        let port = format!("{}/tcp", spec.port);
        let published = (spec.network == "bridge").then(|| {
            HashMap::from([(
                port.clone(),
                Some(vec![PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(String::new()) }]),
            )])
        });
        let host_config = HostConfig {
            binds: Some(spec.binds.clone()),
            network_mode: Some(spec.network.clone()),
            extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
            port_bindings: published,
            cap_drop: Some(vec!["ALL".into()]),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([("/tmp".to_owned(), format!("rw,nosuid,nodev,size={}m", spec.tmp_mib))])),
            ..self.limits()
        };
        ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.command.clone(),
            user: Some(self.options.user.clone()),
            env: Some(spec.env.clone()),
            exposed_ports: Some(vec![port]),
            labels: Some(self.labels(&spec.attempt)),
            host_config: Some(host_config),
            ..Default::default()
        }
    }

    /// Creates and starts the service's container and finds its address. The image must be present.
    pub async fn start_service(&self, spec: &ServiceSpec) -> Result<Service, SandboxError> {
        for bind in &spec.binds {
            if let Some((host, _)) = bind.split_once(':') {
                open_up_for(Path::new(host), &self.options.user);
            }
        }
        let created = self.create(&container_name(&spec.attempt), self.service_body(spec)).await?;
        let guard = RemoveOnDrop { docker: self.docker.clone(), id: created.id };
        self.docker.start_container(&guard.id, None).await.map_err(|e| engine("starting the service container", e))?;
        let inspected = self
            .docker
            .inspect_container(&guard.id, None::<InspectContainerOptions>)
            .await
            .map_err(|e| engine("inspecting the service container", e))?;
        let settings = inspected.network_settings.unwrap_or_default();
        let address = if spec.network == "bridge" {
            let host_port = settings
                .ports
                .and_then(|ports| ports.get(&format!("{}/tcp", spec.port)).cloned().flatten())
                .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port?.parse::<u16>().ok()));
            host_port.map(|port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
        } else {
            settings
                .networks
                .unwrap_or_default()
                .into_values()
                .find_map(|endpoint| endpoint.ip_address.filter(|ip| !ip.is_empty())?.parse::<IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, spec.port))
        };
        let address = address.ok_or_else(|| SandboxError::Docker {
            context: format!("the service container on network {}", spec.network),
            message: "has no address the worker can reach".into(),
        })?;
        Ok(Service { docker: self.docker.clone(), guard, address })
    }
}

impl Service {
    /// The container's ID.
    pub fn id(&self) -> &str {
        &self.guard.id
    }

    /// Whether the container still runs (a service that died will not answer).
    pub async fn running(&self) -> bool {
        self.docker
            .inspect_container(&self.guard.id, None::<InspectContainerOptions>)
            .await
            .ok()
            .and_then(|c| c.state?.running)
            .unwrap_or(false)
    }

    /// The last `lines` lines of its output (stdout and stderr), for an error message.
    pub async fn output_tail(&self, lines: usize) -> String {
        let options = LogsOptionsBuilder::new().stdout(true).stderr(true).tail(&lines.to_string()).build();
        let mut logs = self.docker.logs(&self.guard.id, Some(options));
        let mut out = String::new();
        while let Some(Ok(chunk)) = logs.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        out
    }

    /// Stops and removes the container now.
    pub async fn remove(mut self) {
        let id = std::mem::take(&mut self.guard.id);
        let _ = force_remove(&self.docker, &id).await;
    }
}
