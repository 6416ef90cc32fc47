//! Fuzzes what `nsspec check` does with a file: UTF-8 and size checks, YAML parsing with
//! serde-saphyr under nsspec's budget, and validation into a plan.
//!
//! Besides "no panic, no stack overflow, no runaway memory or time" (libFuzzer's own limits,
//! see robust/ci.sh), it checks the error contract: every rejection is one line, names the file,
//! and carries a 1-based line and column; and every accepted plan respects the plan's limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nsspec::catalogue::{SnapshotRef, Source};
use nsspec::plan;

fuzz_target!(|data: &[u8]| {
    let source = Source {
        id: "fuzz".into(),
        display: "fuzz.yaml".into(),
        bytes: data.to_vec(),
        snapshot: SnapshotRef::None,
        compiled: None,
    };
    match source.load() {
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "no position: {e:?}");
            assert!(!e.message.is_empty(), "no reason: {e:?}");
            let shown = e.to_string();
            assert!(shown.starts_with("fuzz.yaml:"), "{shown}");
            assert!(!shown.contains('\n'), "message spans lines: {shown:?}");
            assert!(
                e.message.len() <= plan::MAX_MESSAGE + 3,
                "message too long: {shown}"
            );
        }
        Ok(p) => {
            assert!(data.len() <= plan::MAX_FILE_BYTES);
            assert!(!p.procs.is_empty() && p.procs.len() <= plan::MAX_PROCS);
            assert!(p.timeout > std::time::Duration::ZERO && p.timeout <= plan::MAX_TIMEOUT);
            let steps: usize = p.procs.iter().map(|x| x.steps.len()).sum();
            assert!(steps <= plan::MAX_STEPS);
            for (i, proc) in p.procs.iter().enumerate() {
                assert!(proc.parent.is_none_or(|q| q < p.procs.len() && q != i));
                assert!(!proc.pidns.is_empty(), "{} has no PID namespace", proc.name);
            }
        }
    }
});
