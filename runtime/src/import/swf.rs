//! The Standard Workload Format of the Parallel Workloads Archive (Feitelson et al.): `;`
//! header lines (`; MaxProcs: 128`), then one job per line of 18 whitespace-separated numbers,
//! `-1` for unknown.
//!
//! Fields used (1-based): 2 submit time (s), 4 run time (s), 5 allocated processors, 7 used
//! memory (KB per processor), 8 requested processors, 10 requested memory (KB per processor),
//! 11 status (5 = cancelled).

use anyhow::{bail, Result};

use super::{Log, Record};

/// Fields per job line.
pub const FIELDS: usize = 18;

/// The SWF field names, for error messages (1-based field `k` is `FIELD_NAMES[k - 1]`).
const FIELD_NAMES: [&str; FIELDS] = [
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user",
    "group",
    "executable",
    "queue",
    "partition",
    "preceding job",
    "think time",
];

/// Parses an SWF log.
///
/// Processors (resource 0) are the allocated ones, or the requested ones when the allocation
/// is unknown or 0; memory (resource 1) is used memory per processor times processors, or the
/// requested memory when used is unknown. Header capacity: `MaxProcs`, else `MaxNodes`.
///
/// # Errors
/// A job line without 18 fields, or a field that is not a finite number: the message names the
/// line, the field and its value.
pub fn parse(text: &str) -> Result<Log> {
    let mut log = Log::default();
    let (mut max_procs, mut max_nodes) = (None, None);
    let (mut from_requested, mut differs, mut memory_known) = (0, 0, 0);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if let Some(header) = trimmed.strip_prefix(';') {
            if let Some((key, value)) = header.split_once(':') {
                let value = value.trim().parse::<f64>().ok().filter(|v| *v > 0.0);
                match key.trim() {
                    "MaxProcs" => max_procs = value,
                    "MaxNodes" => max_nodes = value,
                    _ => {}
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        let mut f = [0.0f64; FIELDS];
        let mut n = 0;
        for (k, token) in trimmed.split_whitespace().enumerate() {
            let Some(slot) = f.get_mut(k) else {
                n = k + 1;
                continue;
            };
            let value = token.parse::<f64>().ok().filter(|v| v.is_finite());
            let Some(value) = value else {
                bail!(
                    "line {line}: field {} ({}) = `{token}` is not a number",
                    k + 1,
                    FIELD_NAMES[k]
                );
            };
            *slot = value;
            n = k + 1;
        }
        if n != FIELDS {
            bail!("line {line}: {n} fields, an SWF job line has {FIELDS}");
        }
        let [_, submit, _, run, alloc, _, used_mem, req_procs, _, req_mem, status, ..] = f;
        let procs = if alloc > 0.0 {
            if req_procs > 0.0 && req_procs != alloc {
                differs += 1;
            }
            alloc
        } else if req_procs > 0.0 {
            from_requested += 1;
            req_procs
        } else {
            -1.0
        };
        let per_proc = if used_mem >= 0.0 { used_mem } else { req_mem };
        let memory = if per_proc >= 0.0 && procs > 0.0 {
            memory_known += 1;
            per_proc * procs
        } else {
            -1.0
        };
        log.records.push(Record {
            line,
            submit,
            run,
            res: [procs, memory],
            cancelled: status == 5.0,
        });
    }
    log.capacity[0] = match (max_procs, max_nodes) {
        (Some(p), _) => Some((p, "header MaxProcs".into())),
        (None, Some(n)) => Some((n, "header MaxNodes".into())),
        (None, None) => None,
    };
    log.format_counts = vec![
        ("processors_from_request".into(), from_requested),
        ("requested_processors_differ".into(), differs),
        ("memory_known".into(), memory_known),
    ];
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "; MaxNodes: 64\n; MaxProcs: 128\n";

    fn err(body: &str) -> String {
        parse(&format!("{HEADER}{body}"))
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    #[test]
    fn reads_fields_and_header_capacity() {
        let log = parse(&format!(
            "{HEADER}  1 10 -1 30 4 -1 100 8 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\n\
             2 20 -1 0 -1 -1 -1 16 -1 50 5 1 1 -1 -1 -1 -1 -1\n"
        ))
        .expect("valid");
        assert_eq!(log.capacity[0], Some((128.0, "header MaxProcs".into())));
        assert_eq!(
            log.records,
            vec![
                Record {
                    line: 3,
                    submit: 10.0,
                    run: 30.0,
                    res: [4.0, 400.0],
                    cancelled: false
                },
                Record {
                    line: 5,
                    submit: 20.0,
                    run: 0.0,
                    res: [16.0, 800.0],
                    cancelled: true
                },
            ]
        );
        assert_eq!(log.format_counts[0], ("processors_from_request".into(), 1));
        assert_eq!(
            log.format_counts[1],
            ("requested_processors_differ".into(), 1)
        );
        let nodes = parse("; MaxNodes: 64\n").expect("header only");
        assert_eq!(nodes.capacity[0], Some((64.0, "header MaxNodes".into())));
    }

    #[test]
    fn malformed_lines_are_named() {
        let e = err("1 10 -1 30 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1\n");
        assert!(
            e.contains("line 3") && e.contains("17 fields") && e.contains("18"),
            "{e}"
        );
        let e = err("1 10 -1 30 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1 7\n");
        assert!(e.contains("line 3") && e.contains("19 fields"), "{e}");
        let e = err("1 10 -1 30 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
             2 11 -1 3x 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n");
        assert!(
            e.contains("line 4") && e.contains("field 4 (run time)") && e.contains("`3x`"),
            "{e}"
        );
        let e = err("1 nan -1 30 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n");
        assert!(e.contains("field 2 (submit time) = `nan`"), "{e}");
    }
}
