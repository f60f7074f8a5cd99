//! Progress bars on stderr with indicatif (hidden when stderr is not a terminal): job sets of
//! `eval` and `demo`, iterations of `train`, sequences of `fuzz`.

use indicatif::{ProgressBar, ProgressStyle};
use whitebox_studies::fuzz::campaign::SearchProgress;
use whitebox_studies::fuzz::{Objective, SearchKind};
use whitebox_studies::train::Progress;

fn bar(total: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Runs `f` with a tick that advances a bar of `total` job sets.
pub fn job_sets<T>(total: usize, f: impl FnOnce(&(dyn Fn() + Sync)) -> T) -> T {
    let bar = bar(total as u64, "{bar:40} {pos}/{len} job sets ({elapsed})");
    let out = f(&|| bar.inc(1));
    bar.finish_and_clear();
    out
}

/// Training iterations, with the latest validation.
pub struct Iterations(ProgressBar);

impl Iterations {
    /// A bar that is drawn.
    pub fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} iterations, ETA {eta} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Iterations(bar)
    }
}

impl Progress for Iterations {
    fn start(&mut self, first: u32, total: u32) {
        self.0.set_length(u64::from(total));
        self.0.set_position(u64::from(first));
    }

    fn validated(&mut self, slowdown: f64, sjf: f64) {
        self.0
            .set_message(format!("val slowdown {slowdown:.3} (SJF {sjf:.3})"));
    }

    fn iteration_done(&mut self) {
        self.0.inc(1);
    }

    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}

/// One bar per fuzz search, with the best excess so far.
#[derive(Default)]
pub struct Searches(Option<ProgressBar>);

impl SearchProgress for Searches {
    fn start(&mut self, kind: SearchKind, total: u64) {
        let label = kind.name();
        let template =
            format!("{label:>6} {{bar:40}} {{pos}}/{{len}} sequences ({{elapsed}}) {{msg}}");
        self.0 = Some(bar(total, &template));
    }

    fn update(&mut self, done: u64, best: f64, objective: Objective) {
        if let Some(b) = &self.0 {
            b.set_position(done);
            b.set_message(format!(
                "best {} {:.4}",
                objective.name(),
                objective.value(best)
            ));
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.0.take() {
            b.finish_and_clear();
        }
    }
}
