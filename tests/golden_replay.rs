//! The golden-trace replay binary that CI runs on aarch64 and big-endian s390x under qemu-user
//! (`runtime/src/bin/golden_replay.rs`), run natively: every golden trace, model and tree file
//! (the tree traces' `fixtures/models/default.tree`) passes, and
//! a flipped logit bit or a trace text other than the writer's fails the run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_golden_replay");

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/golden")
}

fn run(golden: Option<&Path>) -> (Output, String) {
    let mut cmd = Command::new(BIN);
    if let Some(dir) = golden {
        cmd.env("WHITEBOX_GOLDEN_DIR", dir);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

#[test]
fn every_golden_trace_and_model_passes() {
    let (out, stdout) = run(None);
    assert!(out.status.success(), "{stdout}");
    let mut traces = 0;
    for entry in std::fs::read_dir(golden_dir()).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|x| x == "json") {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            assert!(
                stdout.contains(&format!("\nok {stem}: ")),
                "{stem}:\n{stdout}"
            );
            traces += 1;
        }
    }
    assert!(traces >= 10, "{traces} golden traces");
    for model in ["deeprm.model", "deeprm-distilled.model"] {
        assert!(
            stdout.contains(&format!("\nok model fixtures/models/{model}: ")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("\nok tree fixtures/models/default.tree: "),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("\n{} passed, 0 failed\n", traces + 3)),
        "{stdout}"
    );
}

#[test]
fn a_flipped_logit_bit_and_a_foreign_trace_text_fail_the_run() {
    let dir = std::env::temp_dir().join(format!("whitebox-golden-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let read = |name: &str| {
        std::fs::read_to_string(golden_dir().join(name)).unwrap_or_else(|e| panic!("{e}"))
    };
    // Untouched.
    std::fs::write(
        dir.join("a-medium.json"),
        read("default-medium-no-new-job.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // One logit bit flipped.
    let mut light: serde_json::Value =
        serde_json::from_str(&read("default-light.json")).unwrap_or_else(|e| panic!("{e}"));
    let bits = &mut light["decisions"][3]["logits_bits"][2];
    let old = bits.as_u64().unwrap_or_else(|| panic!("no logit bits"));
    *bits = serde_json::json!(old ^ 1);
    std::fs::write(dir.join("b-light.json"), light.to_string()).unwrap_or_else(|e| panic!("{e}"));
    // The same content as one compact line: it replays identically, but the writer's text differs.
    let heavy: serde_json::Value =
        serde_json::from_str(&read("default-heavy.json")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("c-heavy.json"), heavy.to_string()).unwrap_or_else(|e| panic!("{e}"));

    let (out, stdout) = run(Some(&dir));
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("\nok a-medium: 65 decisions identical"),
        "{stdout}"
    );
    let flipped = format!(
        "\nFAIL b-light: replay: first divergence at decision 3, field `logits_bits[2]`: expected {:#010x}",
        old ^ 1
    );
    assert!(stdout.contains(&flipped), "{stdout}");
    assert!(
        stdout.contains(
            "\nFAIL c-heavy: the replay is identical but its text is not the stored file: line 1: "
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nok model fixtures/models/deeprm.model: "),
        "{stdout}"
    );
    assert!(stdout.ends_with("\n2 passed, 2 failed\n"), "{stdout}");
}
