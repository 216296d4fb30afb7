//! Field faults through the real binary, one test per kind, each on a small repository of that shape: a branch a
//! person has added to, files in other formats than UTF-8/LF/spaces, a test suite that hangs, an issue that asks
//! for what the code already does, a repository with a failing test of its own, and the same issue queued more than
//! once. The model is scripted (wiremock): these tests are about git, files, processes and the queue, and a scripted
//! reply makes each outcome certain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use codingworker_queue::Queue as _;
use codingworker_store::TaskState;
use common::{TestEnv, model_answering};

const TITLE: &str = "add() subtracts";
const BODY: &str = "`add(2, 3)` returns -1; it should return 5.";

/// A bare remote `dir/remote.git` on `main` holding `files` byte for byte.
fn remote_with_bytes(dir: &Path, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let seed = dir.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    for (name, bytes) in files {
        let path = seed.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    git(&seed, &["init", "--quiet", "--initial-branch=main"]);
    git(&seed, &["add", "--all"]);
    git(&seed, &["-c", "user.name=Ann", "-c", "user.email=ann@example.com", "commit", "--quiet", "-m", "seed"]);
    let remote = dir.join("remote.git");
    git(dir, &["clone", "--quiet", "--bare", seed.to_str().unwrap(), remote.to_str().unwrap()]);
    remote
}

fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("git")
        .args(["-c", "core.autocrlf=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn env_with(files: &[(&str, Vec<u8>)]) -> TestEnv {
    let dir = tempfile::tempdir().unwrap();
    let remote = remote_with_bytes(dir.path(), files);
    let data_dir = dir.path().join("data");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "# isolated from the user's config\n").unwrap();
    TestEnv { dir, remote, data_dir, config, extra_env: Vec::new() }
}

/// `codingworker run` on issue `issue` of `acme/calc`; returns (success, stderr).
async fn run_issue(env: &TestEnv, url: &str, issue: u64, title: &str, body: &str) -> (bool, String) {
    let mut command = env.command(url, "openai");
    command.args(["run", "--repo"]).arg(&env.remote).args([
        "--name",
        "acme/calc",
        "--issue",
        &issue.to_string(),
        "--title",
        title,
        "--body",
        body,
    ]);
    let out = tokio::time::timeout(Duration::from_secs(240), command.output()).await.expect("run finishes").unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn only_task(env: &TestEnv) -> codingworker_store::TaskDetail {
    let tasks = env.store().list_tasks(10).unwrap();
    env.detail(&tasks[0].task_id)
}

fn events(detail: &codingworker_store::TaskDetail, kind: &str) -> Vec<String> {
    detail.events.iter().filter(|e| e.kind == kind).map(|e| e.detail.clone()).collect()
}

const CALC: &str = "\"\"\"Arithmetic helpers.\"\"\"\n\n\ndef add(a, b):\n    total = a - b\n    return total\n\n\n\
                    def double(x):\n    return x * 2\n";
const CALC_TEST: &str = "import unittest\n\nfrom calc import add, double\n\n\nclass CalcTest(unittest.TestCase):\n    \
                         def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_double(self):\n        \
                         self.assertEqual(double(2), 4)\n";
const FIX: &str = "calc.py\n<<<<<<< SEARCH\n    total = a - b\n=======\n    total = a + b\n>>>>>>> REPLACE\n";

// ---------------------------------------------------------------------------------------------------------------
// 1. A branch that already holds someone else's commit is never pushed over.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_commit_on_the_bots_branch_survives_and_the_change_goes_to_a_fresh_branch() {
    let env = env_with(&[("calc.py", CALC.into()), ("test_calc.py", CALC_TEST.into())]);
    let model = model_answering(FIX).await;
    let branch = codingworker_git::branch_name(3, TITLE);

    // First request: the worker creates its branch.
    let (ok, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
    assert!(ok, "{stderr}");
    let ours = String::from_utf8(git(&env.remote, &["rev-parse", &branch])).unwrap().trim().to_owned();

    // A second request while the branch is only the worker's own: it is replaced under a lease, no new branch.
    let (ok, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
    assert!(ok, "{stderr}");
    // (Two quick runs can make the very same commit, to the second: the push event tells what was done.)
    let second = only_task(&env);
    let pushed = events(&second, "pushed").join("\n");
    assert!(
        pushed.contains(&format!("{branch} at")) && pushed.contains(&format!("lease on {}", &ours[..8])),
        "{pushed}"
    );
    assert!(events(&second, "branch_kept").is_empty(), "{:?}", second.events);
    assert!(
        std::process::Command::new("git")
            .args(["rev-parse", "--verify", "--quiet", &format!("{branch}-2")])
            .current_dir(&env.remote)
            .output()
            .unwrap()
            .stdout
            .is_empty()
    );

    // A maintainer fixes up the bot's branch.
    let clone = env.dir.path().join("maintainer");
    git(
        env.dir.path(),
        &["clone", "--quiet", "--branch", &branch, env.remote.to_str().unwrap(), clone.to_str().unwrap()],
    );
    std::fs::write(clone.join("NOTES.md"), "checked by hand\n").unwrap();
    git(&clone, &["add", "NOTES.md"]);
    git(
        &clone,
        &["-c", "user.name=Mia", "-c", "user.email=mia@example.com", "commit", "--quiet", "-m", "review notes"],
    );
    git(&clone, &["push", "--quiet", "origin", &branch]);
    let human = String::from_utf8(git(&clone, &["rev-parse", "HEAD"])).unwrap().trim().to_owned();

    // The issue is labelled again: the worker must not drop Mia's commit.
    let (ok, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
    assert!(ok, "{stderr}");
    let tip = String::from_utf8(git(&env.remote, &["rev-parse", &branch])).unwrap().trim().to_owned();
    assert_eq!(tip, human, "the person's commit is still on the branch");
    let fresh = format!("{branch}-2");
    let log = String::from_utf8(git(&env.remote, &["log", "-1", "--format=%an|%s", &fresh])).unwrap();
    assert!(log.starts_with("CodingWorker|Fix #3"), "{log}");

    let tasks = env.store().list_tasks(10).unwrap();
    let newest = env.detail(&tasks[0].task_id);
    let kept = events(&newest, "branch_kept");
    assert!(kept.len() == 1 && kept[0].contains("did not write") && kept[0].contains(&fresh), "{kept:?}");
    let prs = env.store().pull_requests(10).unwrap();
    let pr = prs.iter().find(|p| p.task_id == newest.task.task_id).expect("a pull request for the task");
    assert_eq!(pr.head_branch, fresh);
    assert!(pr.body.contains("never removes a commit it did not write"), "{}", pr.body);
    let comment = events(&newest, "issue_comment").join("\n");
    assert!(comment.contains(&fresh), "{comment}");
    println!("pull request note: {}", kept[0]);
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Files come back in the form they had: a sweep over formats.

struct Shape {
    name: &'static str,
    /// The file the fix edits, as it is in the repository.
    file: (&'static str, Vec<u8>),
    /// Other files (tests, data readers).
    others: Vec<(&'static str, Vec<u8>)>,
    /// The model's reply (in the form the model sees files: UTF-8, LF, four-space indents).
    reply: String,
    /// The edited file's bytes after the fix.
    expected: Vec<u8>,
}

fn calc_shape(name: &'static str, calc: Vec<u8>, reply: &str, expected: Vec<u8>) -> Shape {
    Shape {
        name,
        file: ("calc.py", calc),
        others: vec![("test_calc.py", CALC_TEST.into()), (".gitattributes", b"* -text\n".to_vec())],
        reply: reply.to_owned(),
        expected,
    }
}

fn shapes() -> Vec<Shape> {
    let fix = |bytes: &[u8]| -> Vec<u8> {
        let text = bytes.to_vec();
        let at = text.windows(5).position(|w| w == b"a - b").expect("the bug");
        [&text[..at], b"a + b", &text[at + 5..]].concat()
    };
    let crlf = CALC.replace('\n', "\r\n").into_bytes();
    // Every other line ends in CRLF.
    let mixed: String = CALC
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| if i % 2 == 0 { l.replace('\n', "\r\n") } else { l.to_owned() })
        .collect();
    let no_final = CALC.trim_end().as_bytes().to_vec();
    let two = CALC.replace("    ", "  ").into_bytes();
    let tabs = CALC.replace("    ", "\t").into_bytes();
    let bom = [&b"\xEF\xBB\xBF"[..], CALC.replace("helpers", "helpers, caf\u{e9}").as_bytes()].concat();
    let latin1: Vec<u8> = format!("# -*- coding: latin-1 -*-\n{}", CALC.replace("helpers", "helpers, caf\u{e9}"))
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let two_space_fix = FIX.replace("    total", "  total");
    let classic_mac = CALC.replace('\n', "\r").into_bytes();
    // One function indented with a tab in a file of spaces; the reply writes the line with spaces.
    let one_tab = CALC.replace("    total = a - b\n    return total\n", "\treturn a - b\n").into_bytes();
    let one_tab_fix = "calc.py\n<<<<<<< SEARCH\n\treturn a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n";
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE].into_iter().chain(text.encode_utf16().flat_map(u16::to_le_bytes)).collect()
    };
    let greetings = "en=Hello\r\nes=Hello\r\nfr=Bonjour\r\n";
    let greet_py = "import os\n\n\ndef greeting(lang):\n    path = os.path.join(os.path.dirname(__file__), \"greetings.txt\")\n    \
                    with open(path, encoding=\"utf-16\") as f:\n        for line in f:\n            key, value = line.strip().split(\"=\")\n            \
                    if key == lang:\n                return value\n";
    let greet_test = "import unittest\n\nfrom greet import greeting\n\n\nclass GreetTest(unittest.TestCase):\n    def test_es(self):\n        \
                      self.assertEqual(greeting(\"es\"), \"Hola\")\n";
    vec![
        calc_shape("LF (control)", CALC.into(), FIX, fix(CALC.as_bytes())),
        calc_shape("CRLF", crlf.clone(), FIX, fix(&crlf)),
        calc_shape("CRLF mixed with LF", mixed.clone().into_bytes(), FIX, fix(mixed.as_bytes())),
        calc_shape("no final newline", no_final.clone(), FIX, fix(&no_final)),
        calc_shape("2-space indents", two.clone(), &two_space_fix, fix(&two)),
        calc_shape("4-space indents", CALC.into(), FIX, fix(CALC.as_bytes())),
        calc_shape("tab indents (reply in spaces)", tabs.clone(), FIX, fix(&tabs)),
        calc_shape("UTF-8 with BOM", bom.clone(), FIX, fix(&bom)),
        calc_shape("CR only (classic Mac)", classic_mac.clone(), FIX, fix(&classic_mac)),
        calc_shape("one tab-indented line among spaces", one_tab.clone(), one_tab_fix, fix(&one_tab)),
        calc_shape("Latin-1 with a coding line", latin1.clone(), FIX, fix(&latin1)),
        Shape {
            name: "UTF-16 LE with BOM and CRLF (a data file)",
            file: ("greetings.txt", utf16(greetings)),
            others: vec![("greet.py", greet_py.into()), ("test_greet.py", greet_test.into())],
            reply: "greetings.txt\n<<<<<<< SEARCH\nes=Hello\n=======\nes=Hola\n>>>>>>> REPLACE\n".into(),
            expected: utf16(&greetings.replace("es=Hello", "es=Hola")),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_come_back_in_the_form_they_had() {
    let mut results = Vec::new();
    for shape in shapes() {
        let mut files = shape.others.clone();
        files.push((shape.file.0, shape.file.1.clone()));
        let env = env_with(&files);
        let model = model_answering(&shape.reply).await;
        let (ok, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
        let branch = env.pushed_branch().await.unwrap_or_default();
        let after = std::process::Command::new("git")
            .args(["show", &format!("{branch}:{}", shape.file.0)])
            .current_dir(&env.remote)
            .output()
            .unwrap()
            .stdout;
        // A run that pushed nothing is a failed row of the sweep, not a panic that hides the other rows.
        let numstat = if branch.is_empty() {
            "(no branch pushed)".to_owned()
        } else {
            String::from_utf8(git(&env.remote, &["diff", "--numstat", "main", &branch])).unwrap_or_default()
        };
        let verdict = only_task(&env).attempts.last().and_then(|a| a.verdict.clone()).unwrap_or_default();
        let same_form = after == shape.expected;
        println!(
            "{:45} verdict {:14} bytes as expected: {same_form:5}  diff: {}",
            shape.name,
            verdict,
            numstat.trim().replace('\t', " ")
        );
        results.push((shape.name, ok && same_form, stderr));
    }
    for (name, passed, stderr) in &results {
        assert!(passed, "{name}: the file did not come back in its form\n{stderr}");
    }
}

/// A Latin-1 file holds the bug: the model sees it (decoded), the fix keeps its bytes, and a binary file with a
/// source extension is named as unreadable instead of silently left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_file_is_named_and_an_edit_to_it_is_refused() {
    let latin1: Vec<u8> = "# -*- coding: latin-1 -*-\nGREETING = 'Olá'\n\n\ndef add(a, b):\n    total = a - b\n    return total\n\n\ndef double(x):\n    return x * 2\n"
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let blob = b"\x00\x01PK binary table\x00\xff".to_vec();
    let reply = format!("{FIX}\ntables.py\n<<<<<<< SEARCH\n=======\nX = 1\n>>>>>>> REPLACE\n");
    let env = env_with(&[("calc.py", latin1.clone()), ("test_calc.py", CALC_TEST.into()), ("tables.py", blob.clone())]);
    let model = model_answering(&reply).await;
    let (ok, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
    assert!(ok, "{stderr}");
    let detail = only_task(&env);
    let unreadable = events(&detail, "files_unreadable");
    assert!(unreadable.iter().any(|e| e.contains("tables.py") && e.contains("NUL")), "{unreadable:?}");
    let branch = env.pushed_branch().await.unwrap();
    let calc = git(&env.remote, &["show", &format!("{branch}:calc.py")]);
    assert!(calc.windows(5).any(|w| w == b"Ol\xE1'\n"), "the Latin-1 byte is kept");
    assert!(calc.windows(5).any(|w| w == b"a + b"), "the fix is in");
    assert_eq!(git(&env.remote, &["show", &format!("{branch}:tables.py")]), blob, "the binary file is untouched");
    let prompts: Vec<String> = model
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(prompts.iter().any(|p| p.contains("Files that cannot be shown or edited") && p.contains("tables.py")));
    assert!(prompts.iter().any(|p| p.contains("GREETING = 'Olá'")), "the model saw the Latin-1 file decoded");
}

// ---------------------------------------------------------------------------------------------------------------
// 3. A test suite that never ends.

const LOOP: &str = "def countdown(n):\n    while n != 0:\n        n -= 1\n    return \"done\"\n";
const LOOP_TEST: &str = "import unittest\n\nfrom loop import countdown\n\n\nclass LoopTest(unittest.TestCase):\n    \
                         def test_positive(self):\n        self.assertEqual(countdown(3), \"done\")\n\n    \
                         def test_negative(self):\n        self.assertEqual(countdown(-1), \"done\")\n";
const LOOP_FIX: &str = "loop.py\n<<<<<<< SEARCH\n    while n != 0:\n=======\n    while n > 0:\n>>>>>>> REPLACE\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_test_fails_alone_and_the_attempt_goes_on() {
    let mut env = env_with(&[("loop.py", LOOP.into()), ("test_loop.py", LOOP_TEST.into())]);
    env.extra_env.push(("CODINGWORKER_AGENT_TEST_TIMEOUT_SECS".into(), "8".into()));
    let model = model_answering(LOOP_FIX).await;
    let started = std::time::Instant::now();
    let (ok, stderr) = run_issue(&env, &model.uri(), 4, "countdown(-1) never returns", "It hangs forever.").await;
    assert!(ok, "{stderr}");
    let detail = only_task(&env);
    let stopped = events(&detail, "tests_stopped");
    assert!(stopped[0].contains("`python3 -m unittest` did not finish in 8 s"), "{stopped:?}");
    assert!(stopped[0].contains("per-test limit"), "{stopped:?}");
    let verdict = detail.attempts[0].verdict.clone();
    assert_eq!(verdict.as_deref(), Some("fixed"), "{:?}", detail.events);
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
    let progress: Vec<String> = events(&detail, "running");
    assert!(progress.iter().any(|p| p.contains("each test limited to 5 s")), "{progress:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_command_that_never_ends_is_killed_and_named() {
    let mut env = env_with(&[("calc.py", CALC.into()), ("test_calc.py", CALC_TEST.into())]);
    env.extra_env.push(("CODINGWORKER_AGENT_TEST_TIMEOUT_SECS".into(), "5".into()));
    env.extra_env.push(("CODINGWORKER_AGENT_TEST_COMMAND".into(), r#"["sh", "-c", "sleep 4321; true"]"#.into()));
    let model = model_answering(FIX).await;
    let (_, stderr) = run_issue(&env, &model.uri(), 3, TITLE, BODY).await;
    let detail = only_task(&env);
    let stopped = events(&detail, "tests_stopped").join("\n");
    assert!(stopped.contains("`sh -c sleep 4321; true` did not finish in 5 s"), "{stopped}\n{stderr}");
    assert!(stopped.contains("going on without tests"), "{stopped}");
    assert_eq!(detail.attempts[0].verdict.as_deref(), Some("tests_not_run"), "{:?}", detail.events);
    let pr = &env.store().pull_requests(10).unwrap()[0];
    assert!(pr.title.starts_with("[unverified]") && pr.body.contains("did not finish in 5 s"), "{}", pr.body);
    let left = std::process::Command::new("pgrep").args(["-f", "sleep 4321"]).output().unwrap();
    assert!(left.stdout.is_empty(), "the process tree was killed");
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Nothing to change.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_the_code_already_meets_is_answered_once_with_evidence() {
    let fixed = CALC.replace("a - b", "a + b");
    let env = env_with(&[("calc.py", fixed.clone().into_bytes()), ("test_calc.py", CALC_TEST.into())]);
    let model =
        model_answering("```python\nfrom calc import add\n\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\n```").await;
    let task_id = {
        let out = env
            .command(&model.uri(), "openai")
            .args(["submit", "--repo"])
            .arg(&env.remote)
            .args(["--name", "acme/calc", "--issue", "5", "--title", "add(2, 3) should be 5", "--body", BODY])
            .output()
            .await
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    env.work_until_idle(&model.uri()).await;
    let detail = env.detail(&task_id);
    assert_eq!(detail.task.state, TaskState::NoChange, "{:?}", detail.events);
    assert_eq!(detail.attempts.len(), 1, "acknowledged once, no retry");
    assert_eq!(detail.attempts[0].verdict.as_deref(), Some("no_change_needed"));
    let comment = events(&detail, "issue_comment").join("\n");
    assert!(comment.contains("nothing to change") && comment.contains("assert add(2, 3) == 5"), "{comment}");
    assert!(env.store().pull_requests(10).unwrap().is_empty(), "no pull request");
    assert!(env.pushed_branch().await.is_none(), "no branch");
    // The default three reproduction samples, and nothing else (the server may also get the start-up probe).
    assert_eq!(detail.attempts[0].llm_calls, 3, "only the reproduction samples asked the model");
    let calls = model.received_requests().await.unwrap().len();
    assert!(calls <= 4, "{calls} requests");
    assert!(events(&detail, "candidate").is_empty(), "no candidate was asked for");
    // The queue holds nothing more: the message was acknowledged.
    assert!(env.queue().receive(Duration::from_millis(10)).await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------------------------------
// 4b. A repository with a failing test of its own, unrelated to the issue.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repositorys_own_failing_test_does_not_hide_the_fix() {
    let tests = CALC_TEST.replace(
        "    def test_double(self):",
        "    def test_download(self):\n        self.fail(\"needs the network\")\n\n    def test_double(self):",
    );
    let env = env_with(&[("calc.py", CALC.into()), ("test_calc.py", tests.into_bytes())]);
    let model = model_answering(FIX).await;
    let (ok, stderr) = run_issue(&env, &model.uri(), 6, TITLE, BODY).await;
    assert!(ok, "{stderr}");
    let detail = only_task(&env);
    // Read test by test: test_add failed on the base and passes; test_download fails before and after.
    assert_eq!(detail.attempts[0].verdict.as_deref(), Some("fixed"), "{:?}", detail.events);
    let verdict = events(&detail, "verdict").join("\n");
    assert!(verdict.contains("test_add") && !verdict.contains("test_download"), "{verdict}");
    let pr = &env.store().pull_requests(10).unwrap()[0];
    assert!(pr.body.starts_with("Closes #6"), "{}", pr.body);
    assert!(pr.body.contains("outside this verdict (the repository's own failures)"), "{}", pr.body);
    assert!(pr.body.contains("test_download"), "{}", pr.body);
}

// ---------------------------------------------------------------------------------------------------------------
// 5. The same issue queued more than once.

fn message(task_id: &str, remote: &Path, requested_at: &str) -> String {
    serde_json::json!({
        "schema_version": 1,
        "task_id": task_id,
        "repository": {"owner": "acme", "name": "calc", "clone_url": remote.to_str().unwrap()},
        "issue": {"number": 3, "title": TITLE, "body": BODY, "labels": ["codingworker"], "author_association": "OWNER"},
        "sender": {"login": "ann"},
        "requested_at": requested_at,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_requests_for_one_issue_are_acknowledged_without_model_work() {
    let env = env_with(&[("calc.py", CALC.into()), ("test_calc.py", CALC_TEST.into())]);
    let model = model_answering(FIX).await;
    let queue = env.queue();
    // The workflow fired twice for one labelling (same time), SQS delivered the first message twice, and a later
    // labelling asks again.
    queue.send(&message("gh-1-3-100-1", &env.remote, "2026-11-30T02:00:00Z")).await.unwrap();
    queue.send(&message("gh-1-3-101-1", &env.remote, "2026-11-30T02:00:00Z")).await.unwrap();
    queue.send(&message("gh-1-3-100-1", &env.remote, "2026-11-30T02:00:00Z")).await.unwrap();
    // The same repository as GitHub spells it in another event: names are compared without case.
    let shouted = message("gh-1-3-102-1", &env.remote, "2026-11-30T02:00:00Z")
        .replace(r#""owner":"acme""#, r#""owner":"ACME""#)
        .replace(r#""name":"calc""#, r#""name":"Calc""#);
    assert!(shouted.contains(r#""owner":"ACME""#), "{shouted}");
    queue.send(&shouted).await.unwrap();
    queue.send(&message("gh-1-3-200-1", &env.remote, "2026-11-30T05:00:00Z")).await.unwrap();
    env.work_until_idle(&model.uri()).await;

    let first = env.detail("gh-1-3-100-1");
    let repeat = env.detail("gh-1-3-101-1");
    let later = env.detail("gh-1-3-200-1");
    assert_eq!((first.task.state, first.attempts.len()), (TaskState::Succeeded, 1), "{:?}", first.events);
    assert!(events(&first, "duplicate")[0].contains("answered already"), "{:?}", first.events);
    assert_eq!((repeat.task.state, repeat.attempts.len()), (TaskState::Duplicate, 0), "{:?}", repeat.events);
    assert!(events(&repeat, "duplicate")[0].contains("gh-1-3-100-1"), "{:?}", repeat.events);
    let shouted = env.detail("gh-1-3-102-1");
    assert_eq!((shouted.task.state, shouted.attempts.len()), (TaskState::Duplicate, 0), "{:?}", shouted.events);
    assert_eq!((later.task.state, later.attempts.len()), (TaskState::Succeeded, 1), "a newer request runs");
    assert!(events(&later, "branch_kept").is_empty(), "the worker's own earlier push is replaced, not kept");
    let requests = model.received_requests().await.unwrap();
    let calls = requests.iter().filter(|r| r.url.path() == "/v1/chat/completions").count() as u32;
    assert_eq!(calls, first.attempts[0].llm_calls + later.attempts[0].llm_calls, "the duplicates cost no model call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_an_issue_being_worked_on_is_a_duplicate() {
    let mut env = env_with(&[("calc.py", CALC.into()), ("test_calc.py", CALC_TEST.into())]);
    env.extra_env.push(("CODINGWORKER_QUEUE_CONCURRENCY".into(), "2".into()));
    let model = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(common::completion(FIX))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&model)
        .await;
    let queue = env.queue();
    queue.send(&message("gh-1-3-300-1", &env.remote, "2026-11-30T02:00:00Z")).await.unwrap();
    queue.send(&message("gh-1-3-301-1", &env.remote, "2026-11-30T02:00:05Z")).await.unwrap();
    env.work_until_idle(&model.uri()).await;
    let states: Vec<TaskState> = ["gh-1-3-300-1", "gh-1-3-301-1"].iter().map(|t| env.detail(t).task.state).collect();
    assert!(states.contains(&TaskState::Succeeded) && states.contains(&TaskState::Duplicate), "{states:?}");
    let duplicate = ["gh-1-3-300-1", "gh-1-3-301-1"]
        .iter()
        .map(|t| env.detail(t))
        .find(|d| d.task.state == TaskState::Duplicate)
        .unwrap();
    assert!(events(&duplicate, "duplicate")[0].contains("already working"), "{:?}", duplicate.events);
}
