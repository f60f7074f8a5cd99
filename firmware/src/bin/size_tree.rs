//! Decision-path size image of the decision-tree policy: the shipped tree
//! (`fixtures/models/default.tree`, the tree file of the tree golden traces) embedded as its
//! file bytes (`TREE_BYTES_0` in flash) and loaded at start with every check of the core's
//! tree loader, then the operator features, the tree walk, SJF's order behind the leaf, mask,
//! argmax, and the simulator that applies the actions. Plays the jobs of `default-heavy`, then
//! reports `size_tree decisions=N stack=BYTES` over semihosting and exits. `panic-never` is the
//! panic handler. Measured by `scripts/performance-embedded.sh`.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use panic_never as _;
use whitebox_firmware::{load_tree, measure, play, TreePolicy, HEAVY_END, HEAVY_JOBS, TREES};

#[entry]
fn main() -> ! {
    measure::paint_stack();
    let decisions = match TREES.first().map(|f| load_tree(black_box(f))) {
        Some(Ok(tree)) => {
            let mut policy = TreePolicy::new(&tree, true);
            play(black_box(HEAVY_JOBS), HEAVY_END, &mut policy).unwrap_or(0)
        }
        _ => 0,
    };
    let stack = measure::stack_high_water();
    measure::report(
        b"size_tree",
        &[(b"decisions", decisions), (b"stack", stack)],
    );
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::nop();
    }
}
