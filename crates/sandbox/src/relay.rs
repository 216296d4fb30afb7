//! A TCP relay from a sandbox network's gateway to the model server: the one way out of an internal network.
//!
//! Model servers listen on the host's loopback (Ollama's default), which no container can reach. The relay listens
//! on the internal network's gateway address and forwards each connection to the configured endpoint only, so a
//! container on that network reaches the model and nothing else beyond the host.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::SandboxError;

/// Connections relayed at once; an agent needs one or two, a flood gets queued rather than exhausting the worker.
const MAX_CONNECTIONS: usize = 16;
/// A relayed connection that carries nothing for this long is closed (CPU inference can be silent for minutes).
const IDLE_LIMIT: Duration = Duration::from_secs(1800);

/// Stops relaying when dropped.
pub struct TcpRelay {
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl TcpRelay {
    /// Listens on `bind` (port 0 picks one) and forwards every connection to `target` (`host:port`).
    pub async fn start(bind: SocketAddr, target: String) -> Result<Self, SandboxError> {
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| SandboxError::Io { program: format!("model relay on {bind}"), source })?;
        let local =
            listener.local_addr().map_err(|source| SandboxError::Io { program: "model relay".into(), source })?;
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let task = tokio::spawn(async move {
            loop {
                let Ok(permit) = permits.clone().acquire_owned().await else { return };
                let Ok((inbound, peer)) = listener.accept().await else { continue };
                let target = target.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    if let Err(e) = relay(inbound, &target).await {
                        tracing::debug!("model relay {peer} -> {target}: {e}");
                    }
                });
            }
        });
        Ok(Self { local, task })
    }

    /// Where containers connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for TcpRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(mut inbound: TcpStream, target: &str) -> std::io::Result<()> {
    let mut outbound = TcpStream::connect(target).await?;
    match tokio::time::timeout(IDLE_LIMIT, tokio::io::copy_bidirectional(&mut inbound, &mut outbound)).await {
        Ok(result) => result.map(|_| ()),
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn forwards_to_the_target_only() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = upstream.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut socket, _) = upstream.accept().await.unwrap();
            let mut buf = [0u8; 4];
            socket.read_exact(&mut buf).await.unwrap();
            socket.write_all(&buf.map(|b| b.to_ascii_uppercase())).await.unwrap();
        });
        let relay = TcpRelay::start("127.0.0.1:0".parse().unwrap(), target).await.unwrap();
        let mut client = TcpStream::connect(relay.local_addr()).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut reply = [0u8; 4];
        client.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"PING");
        let addr = relay.local_addr();
        drop(relay);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(addr).await.is_err(), "a dropped relay stops listening");
    }
}
