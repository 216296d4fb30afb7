//! The Docker sandbox on the real engine, with a test image built here from Debian's busybox-static (no registry
//! is needed): a hostile task, the time budget, orphan removal, and the start-to-first-command overhead.
//!
//! Needs Docker and /bin/busybox (busybox-static), hence ignored in a plain `cargo test`; scripts/test.sh runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use codingworker_sandbox::{CommandSpec, ContainerJob, DockerOptions, DockerSandbox, TcpRelay, WORKER_LABEL};

mod support;

use support::{bridge_gateway, busybox_image, containers_labelled, docker, docker_missing};

async fn connect_sandbox(worker_id: &str, network: Option<&str>) -> DockerSandbox {
    DockerSandbox::connect(DockerOptions {
        image: busybox_image().await.into(),
        network: network.map(str::to_owned),
        worker_id: worker_id.into(),
        memory_bytes: 256 * 1024 * 1024,
        ..DockerOptions::default()
    })
    .await
    .expect("Docker answers")
}

/// As a worker starts: connected, and whatever an earlier (failed) run of this test left is removed first.
async fn new_sandbox(worker_id: &str, network: Option<&str>) -> DockerSandbox {
    let sandbox = connect_sandbox(worker_id, network).await;
    sandbox.remove_orphans().await.unwrap();
    sandbox
}

/// A worktree the container's non-root user can write to.
fn worktree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn sh(dir: &Path, script: &str) -> CommandSpec {
    CommandSpec::new(&["sh".into(), "-c".into(), script.into()], dir.to_path_buf(), Duration::from_secs(20))
}

/// An HTTP request with busybox's nc (its static wget cannot resolve even a literal address).
fn fetch(host: &str, port: u16) -> String {
    format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_hostile_task_reaches_nothing_outside_its_worktree() {
    if docker_missing() {
        return;
    }
    let sandbox = new_sandbox("hostile-test", None).await;
    let work = worktree();
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("github-token");
    std::fs::write(&secret_file, "ghp_HOSTSECRET_must_not_leak").unwrap();
    // A server on this machine's bridge address, which a container with a network could reach.
    let gateway = bridge_gateway().await;
    let listener = tokio::net::TcpListener::bind((gateway.as_str(), 0)).await.expect("bind on the docker bridge");
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt as _;
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\nSERVER-REACHED").await;
        }
    });

    let session = sandbox.start(work.path(), "hostile-1", Duration::from_secs(120)).await.unwrap();
    let attempts: Vec<(&str, String)> = vec![
        ("run as root", "id -u".into()),
        ("read the worker's environment", "env".into()),
        ("read pid 1's environment", "cat /proc/1/environ | tr '\\0' '\\n'".into()),
        ("read a host file outside the worktree", format!("cat {}", secret_file.display())),
        ("list the host's home", "ls /root /home".into()),
        ("use the Docker socket", "ls -l /var/run/docker.sock /run/docker.sock".into()),
        ("reach a server on the host", fetch(&gateway, port)),
        ("write outside the worktree", "echo x > /etc/owned && echo wrote".into()),
        ("raise privileges", "chown 0 /workspace 2>&1; mknod /tmp/dev b 8 0 2>&1; echo done".into()),
    ];
    println!("what the hostile task tried, and what happened:");
    for (what, script) in &attempts {
        let out = session.run(&sh(work.path(), script)).await.unwrap();
        let text = format!("{}{}", out.stdout, out.stderr);
        println!("  - {what}: `{script}` -> exit {:?}: {}", out.exit_code, text.trim().replace('\n', " | "));
        assert!(!text.contains("HOSTSECRET") && !text.contains("SERVER-REACHED"), "{what} got through: {text}");
        match *what {
            "run as root" => assert_ne!(out.stdout.trim(), "0"),
            "read the worker's environment" | "read pid 1's environment" => {
                assert!(!text.contains("CODINGWORKER") && !text.contains("TOKEN") && !text.contains("AWS_"), "{text}")
            }
            // Both must be refused: without CAP_CHOWN and CAP_MKNOD neither can succeed.
            "raise privileges" => assert!(
                text.contains("chown: /workspace: Operation not permitted")
                    && text.contains("mknod: /tmp/dev: Operation not permitted"),
                "{text}"
            ),
            _ => assert_ne!(out.exit_code, Some(0), "{what} must fail: {text}"),
        }
    }
    // The worktree itself is the one writable place.
    let wrote = session.run(&sh(work.path(), "echo ok > result.txt && cat result.txt")).await.unwrap();
    assert_eq!(wrote.stdout.trim(), "ok");
    assert_eq!(std::fs::read_to_string(work.path().join("result.txt")).unwrap().trim(), "ok");
    session.remove().await;

    // Control: the same request from a container that does have a network gets through, so the refusal above was
    // the sandbox's doing, not a broken server.
    let open = new_sandbox("hostile-control", Some("bridge")).await;
    let control = open.start(work.path(), "hostile-control", Duration::from_secs(60)).await.unwrap();
    let out = control.run(&sh(work.path(), &fetch(&gateway, port))).await.unwrap();
    control.remove().await;
    assert!(out.stdout.contains("SERVER-REACHED"), "the control request should reach the server: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_command_over_its_time_is_killed_and_the_container_goes_on() {
    if docker_missing() {
        return;
    }
    let sandbox = new_sandbox("budget-test", None).await;
    let work = worktree();
    let session = sandbox.start(work.path(), "budget-1", Duration::from_secs(120)).await.unwrap();
    let mut spec = sh(work.path(), "sleep 60");
    spec.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let out = session.run(&spec).await.unwrap();
    assert!(out.timed_out && started.elapsed() < Duration::from_secs(15), "{out:?}");
    // The next command of the attempt (the tests again, with a per-test limit) still runs.
    let next = session.run(&sh(work.path(), "echo still-here")).await.unwrap();
    assert!(next.success() && next.stdout.contains("still-here"), "{next:?}");
    session.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn a_restarted_worker_removes_the_containers_a_killed_one_left() {
    if docker_missing() {
        return;
    }
    let first = new_sandbox("orphan-test", None).await;
    let work = worktree();
    // Started and never removed: what a worker killed mid-attempt leaves.
    let left = first.start(work.path(), "orphan-1", Duration::from_secs(120)).await.unwrap();
    let other_worker = new_sandbox("someone-else", None).await;
    let theirs = other_worker.start(work.path(), "orphan-2", Duration::from_secs(120)).await.unwrap();
    drop(first);

    let restarted = connect_sandbox("orphan-test", None).await;
    assert_eq!(restarted.remove_orphans().await.unwrap(), 1);
    assert!(!docker(&["inspect", left.id()]).await.status.success(), "the orphan is gone");
    assert!(docker(&["inspect", theirs.id()]).await.status.success(), "another worker's container is left alone");
    theirs.remove().await;
}

/// Not a pass/fail timing: it prints the overhead so it can be reported (`cargo test -p codingworker-sandbox
/// --test docker_sandbox -- --ignored --nocapture overhead`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn overhead_from_container_start_to_first_command() {
    if docker_missing() {
        return;
    }
    let sandbox = new_sandbox("overhead-test", None).await;
    let work = worktree();
    let mut samples = Vec::new();
    for run in 0..7 {
        let started = Instant::now();
        let session = sandbox.start(work.path(), &format!("overhead-{run}"), Duration::from_secs(60)).await.unwrap();
        let out = session.run(&sh(work.path(), "true")).await.unwrap();
        samples.push(started.elapsed());
        session.remove().await;
        assert_eq!(out.exit_code, Some(0));
    }
    samples.sort();
    println!(
        "sandbox start to first command finished, {} runs: median {:?}, min {:?}, max {:?}",
        samples.len(),
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1]
    );
}

/// A server answering every connection with `reply`, on `addr`.
async fn answer_with(addr: &str, reply: &'static [u8]) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let local = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            use tokio::io::AsyncWriteExt as _;
            let _ = stream.write_all(reply).await;
        }
    });
    local
}

/// The `llm` policy (OpenHands' default): an internal network whose only way out is the worker's relay to the
/// model. The test's own services stand in for what must stay out of reach: a second server on the host's
/// loopback and a server in another container of this test on the default bridge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker and busybox-static: scripts/test.sh runs it"]
async fn the_llm_network_reaches_the_model_and_nothing_else() {
    if docker_missing() {
        return;
    }
    let sandbox = new_sandbox("llm-network-test", None).await;
    let model = answer_with("127.0.0.1:0", b"HTTP/1.0 200 OK\r\n\r\nMODEL-REACHED").await;
    let other = answer_with("127.0.0.1:0", b"HTTP/1.0 200 OK\r\n\r\nLOOPBACK-REACHED").await;
    let peer_name = "codingworker-llm-network-test-peer";
    let _ = docker(&["rm", "-f", peer_name]).await;
    let peer = docker(&[
        "run",
        "-d",
        "--name",
        peer_name,
        "--label",
        &format!("{WORKER_LABEL}=llm-network-test"),
        support::BUSYBOX_IMAGE,
        "sh",
        "-c",
        "while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nPEER-REACHED' | nc -l -p 8080; done",
    ])
    .await;
    assert!(peer.status.success(), "{}", String::from_utf8_lossy(&peer.stderr));
    let peer_ip = docker(&["inspect", "--format", "{{.NetworkSettings.IPAddress}}", peer_name]).await;
    let peer_ip = String::from_utf8_lossy(&peer_ip.stdout).trim().to_owned();

    let gateway = sandbox.ensure_internal_network("codingworker-test-llm").await.unwrap();
    let relay = TcpRelay::start(std::net::SocketAddr::new(gateway, 0), model.to_string()).await.unwrap();
    let tries = [
        ("the model, through the relay", format!("host.docker.internal {}", relay.local_addr().port())),
        ("another server on the host's loopback", format!("127.0.0.1 {}", other.port())),
        ("the same server by the gateway address", format!("{gateway} {}", other.port())),
        ("a server in another container", format!("{peer_ip} 8080")),
    ];
    let script: String = tries
        .iter()
        .map(|(what, target)| {
            format!("echo \"== {what}\"; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {target} 2>&1; echo; ")
        })
        .collect();
    let job = ContainerJob {
        attempt: "llm-network-1".into(),
        image: support::BUSYBOX_IMAGE.into(),
        command: vec!["sh".into(), "-c".into(), script],
        network: "codingworker-test-llm".into(),
        extra_hosts: vec![format!("host.docker.internal:{gateway}")],
        user: Some("10001:10001".into()),
        ..ContainerJob::default()
    };
    let result = sandbox.run_job(&job, Duration::from_secs(60)).await.unwrap();
    let _ = docker(&["rm", "-f", peer_name]).await;
    println!("from the llm network:\n{}", result.output_tail);
    assert_eq!(result.exit_code, Some(0), "{result:?}");
    assert!(result.output_tail.contains("MODEL-REACHED"), "the model must be reachable: {}", result.output_tail);
    for forbidden in ["LOOPBACK-REACHED", "PEER-REACHED"] {
        assert!(!result.output_tail.contains(forbidden), "{forbidden}: {}", result.output_tail);
    }
    assert!(containers_labelled(WORKER_LABEL, "llm-network-test").await.is_empty(), "the job's container is removed");
}

/// Attempts start in parallel and Docker does not stop two creations of one network name: parallel starts agree
/// on one network, and a duplicate made meanwhile by someone else (here: the docker CLI) is removed, not fatal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker: scripts/test.sh runs it"]
async fn parallel_starts_share_one_internal_network_and_a_duplicate_is_cleared() {
    if docker_missing() {
        return;
    }
    let name = format!("codingworker-test-dup-{}", std::process::id());
    let sandbox = std::sync::Arc::new(connect_sandbox("network-race-test", None).await);
    let mut starts = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (sandbox, name) = (std::sync::Arc::clone(&sandbox), name.clone());
        starts.spawn(async move { sandbox.ensure_internal_network(&name).await.unwrap() });
    }
    let gateways: Vec<_> = starts.join_all().await;
    assert!(gateways.windows(2).all(|w| w[0] == w[1]), "one network: {gateways:?}");
    let named = |name: String| async move {
        let out = docker(&["network", "ls", "--filter", &format!("name=^{name}$"), "--format", "{{.ID}}"]).await;
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(named(name.clone()).await, 1);

    // The engine refuses a duplicate it sees coming; racing creations slip through (as two tests' did here).
    let engine = bollard::Docker::connect_with_local_defaults().unwrap();
    let create = || {
        engine.create_network(bollard::models::NetworkCreateRequest {
            name: name.clone(),
            internal: Some(true),
            ..Default::default()
        })
    };
    let _ = tokio::join!(create(), create(), create(), create());
    let before = named(name.clone()).await;
    println!("networks named {name} after racing creations: {before}");
    assert!(before >= 2, "racing creations made a duplicate, so its clearing is what is tested here");
    assert_eq!(sandbox.ensure_internal_network(&name).await.unwrap(), gateways[0], "the oldest one is kept");
    assert_eq!(named(name.clone()).await, 1, "any duplicate is gone");
    let _ = docker(&["network", "rm", &name]).await;
}
