//! Imports of the trace excerpts in `fixtures/traces/` (see its README), with one window
//! checked job by job against the raw lines.

use std::path::PathBuf;

use super::csv::{Column, Columns};
use super::*;

fn trace(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/traces")
        .join(name)
}

fn nasa() -> Log {
    let text = read_text(&trace("NASA-iPSC-1993-3.1-cln.swf")).expect("fixture");
    swf::parse(&text).expect("valid SWF")
}

fn jobs(raw: &[RawJob]) -> Vec<(i64, i64, Vec<i64>)> {
    raw.iter()
        .map(|j| (j.arrival, j.len, j.res.clone()))
        .collect()
}

/// One window of the NASA excerpt, by hand from its lines 248-257 (120 s per step, capacity
/// 128 processors from the header's MaxProcs, so units = ceil(procs * 10 / 128); no memory
/// data, so resource 1 is 0; arrival = floor((submit - 168848) / 120); len = ceil(run / 120),
/// a run of 0 s raised to 1 step). No line before 248 is dropped (every status is -1, every
/// submit, run time and processor count known, submits already in order), so line 248 is job
/// 215 (line 33 is job 0).
///
/// line  submit  run  procs  arrival                    len             units
/// 248   168848    0  128    0                          0 -> 1 raised   10
/// 249   179781    0   64    10933/120 = 91.1  -> 91    0 -> 1 raised    5
/// 250   183531    0  128    14683/120 = 122.4 -> 122   0 -> 1 raised   10
/// 251   184502    0  128    15654/120 = 130.5 -> 130   0 -> 1 raised   10
/// 252   185400    0  128    16552/120 = 137.9 -> 137   0 -> 1 raised   10
/// 253   187722   70  128    18874/120 = 157.3 -> 157   0.58 -> 1       10
/// 254   187796  641  128    18948/120 = 157.9 -> 157   5.34 -> 6       10
/// 255   204541   78   32    35693/120 = 297.4 -> 297   0.65 -> 1       2.5 -> 3 rounded
/// 256   204621   84   32    35773/120 = 298.1 -> 298   0.7  -> 1       2.5 -> 3 rounded
/// 257   204707   91   32    35859/120 = 298.8 -> 298   0.76 -> 1       2.5 -> 3 rounded
///
/// Counts: 10 jobs, 5 raised from 0, 3 rounded up, none clipped. Work in resource 0:
/// 1*10 + 1*5 + 4*1*10 + 6*10 + 3*1*3 = 124 unit-steps; load = 124 / (10 * 298).
#[test]
fn nasa_window_by_hand() {
    let options = Options {
        seconds_per_step: Some(120.0),
        windows: Windows {
            size: 10,
            start: 215,
            count: Some(1),
            every: 1,
        },
        ..Options::default()
    };
    let imported = convert("swf", nasa(), &options).expect("imports");
    let r = &imported.report;
    assert_eq!(r.capacity, [Some(128.0), None]);
    assert_eq!(r.windows.len(), 1);
    let w = &r.windows[0];
    assert_eq!(w.lines, (248, 257));
    assert_eq!(w.last_arrival, 298);
    assert_eq!(
        w.counts,
        WindowCounts {
            raised_from_0: 5,
            clipped_len: 0,
            clipped_width: 0,
            rounded_up: [3, 0],
            zero_demand: 0,
        }
    );
    assert!((w.load[0] - 124.0 / 2980.0).abs() < 1e-12);
    let want: Vec<(i64, i64, Vec<i64>)> = [
        (0, 1, 10),
        (91, 1, 5),
        (122, 1, 10),
        (130, 1, 10),
        (137, 1, 10),
        (157, 1, 10),
        (157, 6, 10),
        (297, 1, 3),
        (298, 1, 3),
        (298, 1, 3),
    ]
    .iter()
    .map(|&(a, l, u)| (a, l, vec![u, 0]))
    .collect();
    assert_eq!(jobs(&imported.windows[0]), want);
    // The whole excerpt: 300 records, all kept; 215 before the window, 75 after it.
    assert_eq!(r.counts.records, 300);
    assert_eq!(r.counts.dropped.total(), 0);
    assert_eq!(r.counts.imported, 10);
    assert_eq!(r.counts.outside_windows, 290);
}

/// With only defaults: capacity from MaxProcs, the time unit from the run times, 100-job
/// windows, clipping. Totals add up, and every window is a valid job file.
#[test]
fn nasa_defaults() {
    let imported = convert("swf", nasa(), &Options::default()).expect("imports");
    let r = &imported.report;
    let c = &r.counts;
    assert_eq!(r.windows.len(), 3);
    assert_eq!(c.imported, 300);
    assert_eq!(
        c.records,
        c.imported + c.dropped.total() + c.outside_windows
    );
    // At least 95% of the jobs fit the horizon with the default unit.
    assert!(c.clipped_len * 20 <= c.records, "{c:?}");
    // Lines 248-252 (and others) have run time 0.
    assert!(c.raised_from_0 >= 5, "{c:?}");
    for (w, raw) in r.windows.iter().zip(&imported.windows) {
        assert_eq!(raw.len(), 100);
        assert_eq!(raw[0].arrival, 0);
        assert!(crate::jobfile::from_raw(raw).is_ok(), "{}", w.file);
    }
    let sum = r.windows.iter().fold(WindowCounts::default(), |mut s, w| {
        s.add(&w.counts);
        s
    });
    assert_eq!(sum.raised_from_0, c.raised_from_0);
    assert_eq!(sum.clipped_len, c.clipped_len);
}

#[test]
fn oddities_are_treated_and_counted() {
    // Line 3: cancelled. 4: unknown run time. 5: unknown submit. 6: no processors at all.
    // 7: processors from the request (4 of 8 -> 5 units), 0 s raised. 8: 200 s = 20 steps
    // exactly. 9: 210 s = 21 steps, too long. 10: 16 processors of 8, too wide. 11: submitted
    // before line 10, so sorted first.
    let text = "; MaxProcs: 8\n; x\n\
        1 10 -1 50 4 -1 -1 -1 -1 -1 5 1 1 -1 -1 -1 -1 -1\n\
        2 11 -1 -1 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        3 -1 -1 50 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        4 12 -1 50 -1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        5 13 -1 0 -1 -1 -1 4 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        6 14 -1 200 8 -1 -1 8 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        7 15 -1 210 8 -1 -1 8 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        8 30 -1 10 16 -1 -1 16 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
        9 25 -1 10 1 -1 -1 2 -1 -1 1 1 1 -1 -1 -1 -1 -1\n";
    let log = swf::parse(text).expect("valid");
    let mut options = Options {
        seconds_per_step: Some(10.0),
        windows: Windows {
            size: 5,
            ..Windows::default()
        },
        ..Options::default()
    };
    let clip = convert("swf", log.clone(), &options).expect("clip");
    let c = &clip.report.counts;
    let d = &c.dropped;
    assert_eq!(
        (
            d.cancelled,
            d.unknown_runtime,
            d.unknown_submit,
            d.unknown_demand
        ),
        (1, 1, 1, 1)
    );
    assert_eq!((c.raised_from_0, c.clipped_len, c.clipped_width), (1, 1, 1));
    assert_eq!(c.out_of_order, 1);
    assert_eq!(c.rounded_up, [1, 0]);
    assert_eq!(c.imported, 5);
    assert_eq!(
        clip.report.format_counts,
        vec![
            ("processors_from_request".into(), 1),
            ("requested_processors_differ".into(), 1),
            ("memory_known".into(), 0),
        ]
    );
    assert_eq!(
        jobs(&clip.windows[0]),
        vec![
            (0, 1, vec![5, 0]),
            (0, 20, vec![10, 0]),
            (0, 20, vec![10, 0]),
            (1, 1, vec![2, 0]),
            (1, 1, vec![10, 0]),
        ]
    );
    options.too_big = TooBig::Drop;
    let drop = convert("swf", log, &options).expect("drop");
    let c = &drop.report.counts;
    assert_eq!((c.dropped.too_long, c.dropped.too_wide), (1, 1));
    assert_eq!((c.imported, c.outside_windows), (0, 3));
}

#[test]
fn target_load_rescales_arrivals() {
    let options = Options {
        target_load: Some(0.5),
        ..Options::default()
    };
    let imported = convert("swf", nasa(), &options).expect("imports");
    for w in &imported.report.windows {
        // Flooring arrivals shortens the span by less than a step.
        let load = w.load[0];
        assert!((0.5..0.52).contains(&load), "{w:?}");
    }
}

#[test]
fn bad_settings_name_value_and_limit() {
    let err = |o: Options| {
        convert("swf", nasa(), &o)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    };
    let e = err(Options {
        seconds_per_step: Some(0.0),
        ..Options::default()
    });
    assert!(e.contains("seconds per step = 0"), "{e}");
    let e = err(Options {
        target_load: Some(-1.0),
        ..Options::default()
    });
    assert!(e.contains("target load = -1"), "{e}");
    // One second per step puts a 100-job window's arrivals beyond the time cap.
    let e = err(Options {
        seconds_per_step: Some(1.0),
        ..Options::default()
    });
    assert!(
        e.contains("window 0 (log lines 33 to 132)") && e.contains("time cap 10000"),
        "{e}"
    );
    let no_header = swf::parse("1 0 -1 5 1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n").expect("ok");
    let e = convert("swf", no_header, &Options::default())
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(e.contains("no capacity for resource 0"), "{e}");
}

/// The first 10 rows of the Alibaba excerpt by hand, 30 s per step, capacities the column
/// maxima of the 40 rows (plan_cpu 100, plan_mem 0.64):
///
/// arrival_s duration_s cpu  mem   arrival      len            cpu units  mem units (x*10/0.64)
/// 0         268        50   0.3   0            8.9 -> 9       5          4.69 -> 5
/// 72        11         50   0.2   2.4 -> 2     1              5          3.13 -> 4
/// 150       0          100  0.3   5            0 -> 1 raised  10         5
/// 277       8          50   0.59  9.2 -> 9     1              5          9.22 -> 10
/// 374       3          100  0.39  12.5 -> 12   1              10         6.09 -> 7
/// 425       7          50   0.2   14.2 -> 14   1              5          4
/// 525       1          100  0.3   17.5 -> 17   1              10         5
/// 646       9          100  0.39  21.5 -> 21   1              10         7
/// 734       2          100  0.3   24.5 -> 24   1              10         5
/// 872       122        100  0.49  29.1 -> 29   4.07 -> 5      10         7.66 -> 8
///
/// Every memory demand is rounded up (10), no CPU demand is, one run is raised from 0.
#[test]
fn alibaba_csv_window_by_hand() {
    let text = read_text(&trace("alibaba2018_spar_sample_tasks.csv")).expect("fixture");
    let columns = Columns {
        arrival: Column::Number(1),
        runtime: Column::Number(4),
        res: vec![Column::Number(5), Column::Number(6)],
        header: false,
    };
    let log = csv::parse(&text, &columns).expect("valid CSV");
    let options = Options {
        seconds_per_step: Some(30.0),
        windows: Windows {
            size: 10,
            count: Some(1),
            ..Windows::default()
        },
        ..Options::default()
    };
    let imported = convert("csv", log, &options).expect("imports");
    let r = &imported.report;
    assert_eq!(r.capacity, [Some(100.0), Some(0.64)]);
    assert_eq!(r.counts.records, 40);
    let w = &r.windows[0];
    assert_eq!(
        (
            w.counts.raised_from_0,
            w.counts.rounded_up,
            w.counts.clipped_width
        ),
        (1, [0, 10], 0)
    );
    let want = vec![
        (0, 9, vec![5, 5]),
        (2, 1, vec![5, 4]),
        (5, 1, vec![10, 5]),
        (9, 1, vec![5, 10]),
        (12, 1, vec![10, 7]),
        (14, 1, vec![5, 4]),
        (17, 1, vec![10, 5]),
        (21, 1, vec![10, 7]),
        (24, 1, vec![10, 5]),
        (29, 5, vec![10, 8]),
    ];
    assert_eq!(jobs(&imported.windows[0]), want);
}
