//! x86 instructions per decision of the simulator bench's workload (`benches/simulator.rs`: 32
//! DeepRM job sets, rate 0.7, `simu_len` 50, all-done, SJF), counted instead of timed, so the
//! figure does not depend on the machine's load:
//!
//! ```sh
//! cargo build --release -p whitebox-runtime --example image_steps
//! valgrind --tool=callgrind --toggle-collect='*play_all*' \
//!   target/release/examples/image_steps 5 updated
//! ```
//!
//! Arguments: the slot count (`5` or `10`) and the observation before every decision: `none`,
//! `rebuilt` (`encode_image`) or `updated` (`update_image`). Prints the number of decisions;
//! callgrind's total `Ir` divided by it is the instructions per decision.

use std::hint::black_box;

use whitebox_core::image::{encode_image, image_len, update_image, ImageMemo};
use whitebox_core::workload::{JobGenerator, Workload};
use whitebox_core::{EndMode, Episode, Job, Scheduler, Sjf};

#[derive(Clone, Copy)]
enum Observation {
    None,
    Rebuilt,
    Updated,
}

#[inline(never)]
fn play_all<const M: usize, const N: usize>(sets: &[Vec<Job>], observation: Observation) -> u64 {
    let end = EndMode::AllDone { time_cap: 10_000 };
    // One buffer and the memo of what it shows, kept across episodes as in the bench.
    let mut buf = [0.0f32; N];
    let mut memo = ImageMemo::<M>::new();
    let mut decisions = 0;
    for jobs in sets {
        let mut ep: Episode<'_, M> = Episode::new(jobs, end, &mut ()).expect("valid job set");
        while !ep.is_done() {
            match observation {
                Observation::None => {}
                Observation::Rebuilt => encode_image(ep.cluster(), &mut buf),
                Observation::Updated => update_image(&mut memo, ep.cluster(), &mut buf),
            }
            black_box(&buf);
            let action = Sjf.decide(ep.cluster()).expect("SJF decides");
            black_box(ep.step(action, &mut ()));
        }
        decisions += u64::from(ep.summary().decisions);
    }
    decisions
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let observation = match args.get(2).map(String::as_str) {
        Some("none") => Observation::None,
        Some("rebuilt") => Observation::Rebuilt,
        Some("updated") => Observation::Updated,
        _ => {
            eprintln!("usage: image_steps 5|10 none|rebuilt|updated");
            std::process::exit(2);
        }
    };
    let sets: Vec<Vec<Job>> = (0..32)
        .map(|seed| JobGenerator::new(Workload::DeepRm, 0.7, 50, seed).collect())
        .collect();
    let decisions = match args.get(1).map(String::as_str) {
        Some("5") => play_all::<5, { image_len(5) }>(&sets, observation),
        Some("10") => play_all::<10, { image_len(10) }>(&sets, observation),
        _ => {
            eprintln!("usage: image_steps 5|10 none|rebuilt|updated");
            std::process::exit(2);
        }
    };
    println!("{decisions} decisions");
}
