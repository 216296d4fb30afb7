//! Shared by the Docker tests of several crates (included with `#[path]`): the docker CLI, the test images built
//! here without a registry, and the skip rule.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

/// Busybox and its applets on an empty filesystem: a shell, coreutils and nc.
pub const BUSYBOX_IMAGE: &str = "codingworker-test-busybox:1";
/// Debian with python3 and pytest, built by scripts/sandbox-test-image.sh (debootstrap).
pub const PYTHON_IMAGE: &str = "codingworker-test-python:1";

pub async fn docker(args: &[&str]) -> std::process::Output {
    tokio::process::Command::new("docker").args(args).output().await.expect("the docker CLI runs")
}

/// `.ci/run` sets CODINGWORKER_SKIP_DOCKER_TESTS only when it could not start any Docker engine, and says so.
pub fn docker_missing() -> bool {
    let missing = std::env::var_os("CODINGWORKER_SKIP_DOCKER_TESTS").is_some();
    if missing {
        eprintln!("SKIPPED: no Docker engine on this machine (CODINGWORKER_SKIP_DOCKER_TESTS)");
    }
    missing
}

/// Builds `tag` from a context of `files` plus /bin/busybox, unless it exists.
async fn build(tag: &str, dockerfile: &str, files: &[(&str, &Path)]) {
    if docker(&["image", "inspect", tag]).await.status.success() {
        return;
    }
    let context = tempfile::tempdir().unwrap();
    std::fs::copy("/bin/busybox", context.path().join("busybox"))
        .expect("/bin/busybox (apt-get install busybox-static)");
    std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    for (name, source) in files {
        std::fs::copy(source, context.path().join(name)).unwrap();
    }
    let built = docker(&["build", "--quiet", "-t", tag, context.path().to_str().unwrap()]).await;
    assert!(built.status.success(), "building {tag}: {}", String::from_utf8_lossy(&built.stderr));
}

pub async fn busybox_image() -> &'static str {
    build(
        BUSYBOX_IMAGE,
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
        &[],
    )
    .await;
    BUSYBOX_IMAGE
}

/// The OpenHands agent-server stand-in (crates/openhands/tests/standin), on the Python test image; the tag
/// carries a hash of its files, so an edited stand-in is rebuilt.
pub async fn openhands_standin_image() -> String {
    python_image().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openhands/tests/standin");
    let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    let server = std::fs::read_to_string(dir.join("agent_server.py")).unwrap();
    let hash = format!("{dockerfile}{server}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let tag = format!("codingworker-test-openhands-standin:{:08x}", hash as u32);
    build(&tag, &dockerfile, &[("agent_server.py", &dir.join("agent_server.py"))]).await;
    tag
}

/// The Python image must have been built beforehand (scripts/test.sh does it).
pub async fn python_image() -> &'static str {
    assert!(
        docker(&["image", "inspect", PYTHON_IMAGE]).await.status.success(),
        "{PYTHON_IMAGE} is missing: run scripts/sandbox-test-image.sh (scripts/test.sh does)"
    );
    PYTHON_IMAGE
}

/// The docker bridge's gateway: an address of this machine that a container with a network could reach.
pub async fn bridge_gateway() -> String {
    let out =
        docker(&["network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{.Subnet}}{{end}}"])
            .await;
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(gateway), Some(_)) => gateway.to_owned(),
        // Older engines leave Gateway out; Docker gives the bridge the subnet's first address.
        (Some(subnet), None) => {
            let network = subnet.split('/').next().unwrap();
            let octets: Vec<&str> = network.split('.').collect();
            format!("{}.{}.{}.1", octets[0], octets[1], octets[2])
        }
        _ => panic!("cannot read the bridge network: {text}"),
    }
}

/// Containers still carrying `label=value`.
/// Attempt containers of task `task_id` still present (their names carry the task id).
pub async fn attempt_containers_of(task_id: &str) -> Vec<String> {
    let filter = format!("label={}", codingworker_sandbox::ATTEMPT_LABEL);
    let out = docker(&["ps", "-a", "--format", "{{.Names}}", "--filter", &filter]).await;
    String::from_utf8_lossy(&out.stdout).lines().filter(|name| name.contains(task_id)).map(str::to_owned).collect()
}

pub async fn containers_labelled(label: &str, value: &str) -> Vec<String> {
    let out = docker(&["ps", "-aq", "--filter", &format!("label={label}={value}")]).await;
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
}
